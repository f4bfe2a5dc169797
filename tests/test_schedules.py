"""Learning-rate schedules (``lr_schedule``): torch's schedulers, stepped once an epoch, on every engine."""

import numpy as np
import pytest
import torch

import gradlm
from gradlm.plan import FAST_MIN_ROWS

SCHEDULERS = torch.optim.lr_scheduler


def torch_sequence(make, epochs, lr=1e-3):
    """The lr of each epoch as torch's own loop steps the scheduler: ``opt.step()``, then ``scheduler.step()``."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return lrs


def fitted_sequence(schedule, epochs, lr=1e-3, **kwargs):
    """The lr each epoch of gradlm.fit ran at (read by a callback, which runs before the scheduler steps)."""
    data = gradlm.datasets.make_regression(100, 3, seed=0)  # (standardized features: steps up to 0.5 are stable)
    model = gradlm.LinearModel(3, 1, dtype=torch.float64)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    lrs = []
    history = gradlm.fit(model, data.X.double(), data.y.double(), epochs=epochs, optimizer=opt, lr_schedule=schedule,
                         tol=None, callbacks=[lambda info: lrs.append(opt.param_groups[0]["lr"])], **kwargs)
    return lrs, history


@pytest.mark.parametrize("schedule, make", [
    ("step", lambda opt: SCHEDULERS.StepLR(opt, step_size=4, gamma=0.1)),  # (max(1, 12 // 3) epochs a step)
    ("cosine", lambda opt: SCHEDULERS.CosineAnnealingLR(opt, T_max=12)),
    ("invscaling", lambda opt: SCHEDULERS.LambdaLR(opt, lambda epoch: (epoch + 1) ** -0.25)),
])
def test_the_lr_sequence_is_torchs_own(schedule, make):
    lrs, history = fitted_sequence(schedule, 12)
    assert lrs == torch_sequence(make, 12)
    assert history.settings["lr_schedule"] == schedule and history.epochs_run == 12


def test_constant_is_no_scheduler():
    lrs, history = fitted_sequence("constant", 5)
    assert lrs == [1e-3] * 5 and history.settings["lr_schedule"] == "constant"


def test_step_with_fewer_than_three_epochs_steps_every_epoch():
    assert fitted_sequence("step", 2)[0] == pytest.approx([1e-3, 1e-4], rel=1e-12)


def test_invscaling_is_scikit_learns_lr_over_t_to_the_quarter():
    lrs, _ = fitted_sequence("invscaling", 20, lr=0.3)
    np.testing.assert_allclose(lrs, [0.3 / t ** 0.25 for t in range(1, 21)], rtol=1e-15)


def test_cosine_reaches_near_zero_at_the_end():
    lrs, _ = fitted_sequence("cosine", 100, lr=0.5)
    assert lrs[0] == 0.5 and all(a > b for a, b in zip(lrs, lrs[1:]))
    # (1 + cos(pi (T - 1) / T)) / 2 = sin^2(pi / (2 T)): 2.5e-4 of the start for T = 100
    assert lrs[-1] == pytest.approx(0.5 * np.sin(np.pi / 200) ** 2, rel=1e-9) and lrs[-1] < 1e-3 * lrs[0]


def test_a_callable_factory_builds_any_scheduler():
    make = lambda opt: SCHEDULERS.ExponentialLR(opt, gamma=0.5)  # noqa: E731
    lrs, history = fitted_sequence(make, 6)
    assert lrs == torch_sequence(make, 6) and history.settings["lr_schedule"] == "callable"


def test_reduce_on_plateau_is_stepped_with_the_monitored_loss():
    """ReduceLROnPlateau's step needs the loss: the validation loss when given."""
    X, y = gradlm.datasets.crops()
    X, y = X.double(), y.double()
    monitored = []

    class Spy(SCHEDULERS.ReduceLROnPlateau):
        def step(self, metrics):
            monitored.append(metrics)
            super().step(metrics)

    history = gradlm.fit(gradlm.LinearModel(3, 2, dtype=torch.float64), X, y, epochs=5, lr=1e-5, tol=None,
                         validation=(X[:5], y[:5]), lr_schedule=lambda opt: Spy(opt, patience=0))
    assert monitored == list(history.val_loss)


def full_batch_steps(history, X, y):
    """The step size each epoch took, from the parameter path of plain full-batch gradient descent on the MSE."""
    Xn, yn = X.numpy(), y.numpy()[:, 0]
    steps = []
    for t in range(history.epochs_run - 1):
        w, b = history.weight_path[t][0], history.bias_path[t][0]
        r = Xn @ w + b - yn
        grad = np.append(2 * Xn.T @ r, 2 * r.sum()) / len(yn)
        moved = np.append(history.weight_path[t + 1][0] - w, history.bias_path[t + 1][0] - b)
        steps.append(float(-(moved @ grad) / (grad @ grad)))
    return steps


@pytest.mark.parametrize("fast", [False, True])  # autograd; the moments
def test_the_step_taken_is_the_scheduled_one(fast):
    """Full batch with the default optimizer: each epoch's move is the scheduled lr times the gradient."""
    data = gradlm.datasets.make_regression(200, 3, noise=0.5, seed=1)
    X, y = data.X.double(), data.y.double()
    model = gradlm.LinearModel(3, 1, dtype=torch.float64, init="zeros")
    history = gradlm.fit(model, X, y, epochs=10, lr=0.1, lr_schedule="cosine", tol=None, fast=fast)
    assert history.settings["gradients"] == ("sufficient statistics" if fast else "autograd")
    expected = torch_sequence(lambda opt: SCHEDULERS.CosineAnnealingLR(opt, T_max=10), 10, lr=0.1)
    np.testing.assert_allclose(full_batch_steps(history, X, y), expected[:-1], rtol=1e-9)


def freeze_after_first_epoch(opt):
    return SCHEDULERS.LambdaLR(opt, lambda epoch: 1.0 if epoch == 0 else 0.0)


def test_fused_mini_batch_sgd_reads_the_scheduled_lr():
    """The fused plain-SGD epoch took plan.lr: a schedule would have changed nothing there."""
    data = gradlm.datasets.make_regression(FAST_MIN_ROWS, 2, seed=0)
    model = gradlm.LinearModel(2, 1, dtype=torch.float64)
    history = gradlm.fit(model, data.X.double(), data.y.double(), epochs=4, lr=0.01, batch_size=500, seed=0,
                         tol=None, lr_schedule=freeze_after_first_epoch)
    assert history.settings["gradients"] == "analytic"
    assert not np.array_equal(history.weight_path[0], history.weight_path[1])
    for t in (2, 3):
        np.testing.assert_array_equal(history.weight_path[t], history.weight_path[1])
    np.testing.assert_array_equal(history.weight, history.weight_path[1][:, :])


@pytest.mark.parametrize("fast", [False, True])
def test_the_l1_proximal_step_takes_the_scheduled_lr(fast):
    """Proximal gradient on the lasso with a step schedule, against the same steps written out in NumPy."""
    data = gradlm.datasets.make_regression(100, 4, noise=0.5, seed=4)
    X, y = data.X.double(), data.y.double()
    lr, l1, epochs = 0.2, 0.3, 9
    model = gradlm.LinearModel(4, 1, dtype=torch.float64, init="zeros")
    # (momentum=0: plain proximal steps; "auto" would take FISTA's)
    history = gradlm.fit(model, X, y, epochs=epochs, lr=lr, momentum=0.0, alpha=l1, l1_ratio=1.0, lr_schedule="step",
                         tol=None, fast=fast)
    Xn, yn = X.numpy(), y.numpy()[:, 0]
    w, b = np.zeros(4), 0.0
    for t in range(epochs):
        np.testing.assert_allclose(history.weight_path[t][0], w, rtol=1e-10, atol=1e-14)
        step = lr * 0.1 ** (t // 3)  # StepLR(step_size=epochs // 3, gamma=0.1)
        r = Xn @ w + b - yn
        w, b = w - step * 2 * Xn.T @ r / len(yn), b - step * 2 * r.sum() / len(yn)
        w = np.sign(w) * np.maximum(np.abs(w) - 2 * step * l1, 0.0)  # the MSE's units: twice the objective's
    np.testing.assert_allclose(history.weight[0], w, rtol=1e-10, atol=1e-14)
    assert (w == 0).any() and (w != 0).any()  # (the threshold bites)


def test_a_decaying_schedule_narrows_mini_batch_noise():
    """Mini-batch SGD at a constant step ends in a noise band around least squares; a step or cosine decay
    settles well inside it."""
    data = gradlm.datasets.make_regression(2000, 5, noise=1.0, seed=3)
    X, y = data.X.double(), data.y.double()
    weight, bias = gradlm.lstsq(X, y)

    def distance(schedule, seed):
        torch.manual_seed(seed)
        h = gradlm.fit(gradlm.LinearModel(5, 1, dtype=torch.float64), X, y, epochs=30, lr=0.05, batch_size=10,
                       seed=seed, lr_schedule=schedule, tol=None, fast=True)
        return np.abs(np.hstack([h.weight - weight, (h.bias - bias)[:, None]])).max()

    constant = [distance("constant", seed) for seed in range(3)]
    assert min(constant) > 0.03  # (measured: 0.05 to 0.13)
    for schedule in ("step", "cosine"):
        decayed = [distance(schedule, seed) for seed in range(3)]
        assert max(decayed) < min(constant) / 10  # (measured: 0.002 to 0.004)


def test_fista_with_a_schedule_still_converges():
    """An L1 penalty full batch (accelerated proximal gradient) reads the scheduled step too."""
    data = gradlm.datasets.make_regression(200, 4, noise=0.5, seed=4)
    X, y = data.X.double(), data.y.double()
    history = gradlm.fit(gradlm.LinearModel(4, 1, dtype=torch.float64), X, y, alpha=0.05, l1_ratio=1.0,
                         lr_schedule="invscaling", epochs=5000)
    assert history.settings["optimizer"] == "fista" and history.converged


def test_estimator_passes_its_schedule_on():
    data = gradlm.datasets.make_regression(500, 3, noise=1.0, seed=5)
    X, y = data.X.numpy(), data.y.numpy()[:, 0]
    est = gradlm.GDRegressor(lr_schedule="cosine", batch_size=20, epochs=20, seed=0, tol=None).fit(X, y)
    assert est.history_.settings["lr_schedule"] == "cosine"
    est = gradlm.GDRegressor(lr_schedule="step", seed=0).fit(X, y)  # full batch on the moments, certified
    assert est.history_.settings["lr_schedule"] == "step" and est.converged_


@pytest.mark.parametrize("schedule, error, message", [
    ("linear", ValueError, "lr_schedule must be one of 'constant', 'step', 'cosine', 'invscaling', or a function"),
    (None, ValueError, "lr_schedule must be one of"),
    (0.1, ValueError, "got 0.1"),
    (lambda opt: None, TypeError, "lr_schedule(optimizer) must return a torch.optim.lr_scheduler.LRScheduler; "
                                  "got NoneType"),
    (lambda opt: SCHEDULERS.StepLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0), 2),
     ValueError, "returned a scheduler of another optimizer"),
])
def test_bad_schedules_are_clear_errors(schedule, error, message):
    X, y = gradlm.datasets.crops()
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        gradlm.fit(gradlm.LinearModel(3, 2), X, y, epochs=2, lr=1e-5, lr_schedule=schedule)


def test_a_scheduler_instance_is_refused_with_the_fix():
    X, y = gradlm.datasets.crops()
    model = gradlm.LinearModel(3, 2)
    built = SCHEDULERS.StepLR(torch.optim.SGD(model.parameters(), lr=1e-5), 2)
    with pytest.raises(TypeError, match="not a scheduler already built .* lambda optimizer"):
        gradlm.fit(model, X, y, epochs=2, lr=1e-5, lr_schedule=built)


def test_manual_update_has_no_optimizer_to_schedule():
    X, y = gradlm.datasets.crops()
    with pytest.raises(ValueError, match="update='manual' has no optimizer"):
        gradlm.fit(gradlm.LinearModel(3, 2), X, y, epochs=2, lr=1e-5, update="manual", lr_schedule="step")
    # (the default is no schedule: the tutorials' manual loop runs as before)
    history = gradlm.fit(gradlm.LinearModel(3, 2), X, y, epochs=2, lr=1e-5, update="manual")
    assert history.settings["lr_schedule"] == "constant"


def test_estimator_refuses_a_bad_schedule():
    X, y = gradlm.datasets.crops()
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        gradlm.GDRegressor(lr_schedule="exponential").fit(X, y)
