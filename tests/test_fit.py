"""fit: batching, optimizers, stopping rules, callbacks, validation, History."""

import json
import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import gradlm
from gradlm.batches import BatchOrder


def crops_model(seed=0, **kw):
    torch.manual_seed(seed)
    return gradlm.LinearModel(3, 2, **kw)


@pytest.mark.parametrize("n, batch_size", [(15, 3), (16, 4), (10, 3), (7, 20)])
@pytest.mark.parametrize("seed", [None, 9])
def test_batch_order_is_dataloaders(n, batch_size, seed):
    X = torch.arange(float(n)).reshape(n, 1)
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    torch.manual_seed(1)
    loader = DataLoader(TensorDataset(X), batch_size=batch_size, shuffle=True, generator=generator)
    expected = [[b[0].flatten().long().tolist() for b in loader] for _ in range(3)]
    torch.manual_seed(1)
    order = BatchOrder(n, batch_size, shuffle=True, seed=seed)
    got = [[idx.tolist() for idx in order.epoch()] for _ in range(3)]
    assert got == expected


def test_minibatch_loss_is_the_mean_of_the_batch_losses():
    X, y = gradlm.datasets.crops()
    losses = []
    gradlm.fit(crops_model(), X, y, epochs=1, lr=1e-5, batch_size=4, shuffle=False,
               callbacks=lambda info: None)
    model = crops_model()
    for start in range(0, 15, 4):
        with torch.no_grad():
            losses.append(gradlm.mse(model(X[start:start + 4]), y[start:start + 4]).item())
        loss = gradlm.mse(model(X[start:start + 4]), y[start:start + 4])
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 1e-5 * p.grad
                p.grad = None
    history = gradlm.fit(crops_model(), X, y, epochs=1, lr=1e-5, batch_size=4, shuffle=False)
    assert history.loss[0] == pytest.approx(np.mean(losses), rel=1e-6)
    np.testing.assert_allclose(history.weight, model.weight.detach().numpy(), rtol=1e-6)


def test_full_batch_loss_is_before_the_step_and_paths_are_epoch_starts():
    X, y = gradlm.datasets.crops()
    model = crops_model()
    w0 = model.weight.detach().clone()
    history = gradlm.fit(model, X, y, epochs=3, lr=1e-5)
    np.testing.assert_array_equal(history.weight_path[0], w0.numpy())
    assert history.loss[0] == pytest.approx(gradlm.loss_at(w0, history.bias_path[0], X, y), rel=1e-6)
    assert history.weight_path.shape == (3, 2, 3) and history.bias_path.shape == (3, 2)
    np.testing.assert_array_equal(history.weight, model.weight.detach().numpy())


def test_seed_makes_minibatch_runs_reproducible():
    X, y = gradlm.datasets.crops()
    a = gradlm.fit(crops_model(), X, y, epochs=5, lr=1e-5, batch_size=4, seed=3)
    b = gradlm.fit(crops_model(), X, y, epochs=5, lr=1e-5, batch_size=4, seed=3)
    c = gradlm.fit(crops_model(), X, y, epochs=5, lr=1e-5, batch_size=4, seed=4)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert not np.array_equal(a.weight, c.weight)


@pytest.mark.parametrize("name, kwargs, make", [
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
     lambda p: torch.optim.SGD(p, lr=1e-5, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("adam", {"weight_decay": 0.001}, lambda p: torch.optim.Adam(p, lr=1e-2, weight_decay=0.001)),
])
def test_named_optimizers_equal_torch_loops(name, kwargs, make):
    X, y = gradlm.datasets.crops()
    lr = 1e-5 if name == "sgd" else 1e-2
    history = gradlm.fit(crops_model(), X, y, epochs=20, lr=lr, optimizer=name, **kwargs)
    model = crops_model()
    opt = make(model.parameters())
    for _ in range(20):
        loss = torch.nn.functional.mse_loss(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(history.weight, model.weight.detach().numpy(), rtol=1e-5)
    assert history.settings["optimizer"] == name


def test_optimizer_instance():
    X, y = gradlm.datasets.crops()
    model = crops_model()
    opt = torch.optim.SGD(model.parameters(), lr=1e-5)
    history = gradlm.fit(model, X, y, epochs=5, optimizer=opt)
    assert history.settings["optimizer"] == "SGD" and history.settings["lr"] == 1e-5
    reference = gradlm.fit(crops_model(), X, y, epochs=5, lr=1e-5)
    np.testing.assert_array_equal(history.weight, reference.weight)
    with pytest.raises(ValueError, match="lr was given together with an optimizer instance"):
        gradlm.fit(model, X, y, epochs=1, lr=0.1, optimizer=opt)
    other = torch.optim.SGD(crops_model().parameters(), lr=1e-5)
    with pytest.raises(ValueError, match="does not hold this model's parameters"):
        gradlm.fit(model, X, y, epochs=1, optimizer=other)


def test_argument_errors_name_the_argument():
    X, y = gradlm.datasets.crops()
    m = crops_model()
    cases = [
        (dict(epochs=0, lr=0.1), ValueError, "epochs must be >= 1"),
        (dict(epochs=5, lr=-1.0), ValueError, "lr must be > 0"),
        (dict(epochs=5, lr=float("nan")), ValueError, "lr must be finite"),
        (dict(epochs=5, lr=None), ValueError, "lr must be a number or 'auto'"),
        (dict(epochs=5, lr="fast"), ValueError, "lr must be a number or 'auto'"),
        (dict(epochs=5, lr=0.1, momentum=1.0), ValueError, "momentum must be below 1"),
        (dict(epochs=5, lr=0.1, batch_size=0), ValueError, "batch_size must be >= 1"),
        (dict(epochs=5, lr=0.1, optimizer="rmsprop"), ValueError, "optimizer must be one of 'sgd', 'adam'"),
        (dict(epochs=5, lr=0.1, update="auto"), ValueError, "update must be one of 'optimizer', 'manual'"),
        (dict(epochs=5, lr=0.1, update="manual", momentum=0.9), ValueError, "update='manual' is plain SGD"),
        (dict(epochs=5, lr=0.1, nesterov=True), ValueError, "nesterov=True needs momentum > 0"),
        (dict(epochs=5, lr=0.1, optimizer="adam", momentum=0.5), ValueError, "apply to optimizer='sgd' only"),
        (dict(epochs=2.5, lr=0.1), TypeError, "epochs must be a whole number"),
        (dict(epochs=5, lr=0.1, validation=X), TypeError, "validation must be a pair"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message.replace("(", "\\(").replace(")", "\\)")):
            gradlm.fit(m, X, y, **kwargs)
    with pytest.raises(ValueError, match="y is 1-D \\(shape \\(15,\\)\\) but the model has 2 outputs"):
        gradlm.fit(m, X, y[:, 0], epochs=1, lr=1e-5)
    with pytest.raises(TypeError, match="model must be a gradlm.LinearModel"):
        gradlm.fit("model", X, y, epochs=1, lr=1e-5)


def test_whole_number_floats_as_r_sends_them():
    X, y = gradlm.datasets.crops()
    history = gradlm.fit(crops_model(), X, y, epochs=3.0, lr=1e-5, batch_size=5.0, seed=1.0)
    assert history.epochs_run == 3 and history.settings["batch_size"] == 5


def test_tol_stops_once_the_coefficients_are_certified():
    """tol is a distance to the least-squares coefficients, checked every epoch: the run stops at the first
    epoch within it, and not before."""
    X, y = gradlm.datasets.line()
    X64, y64 = X.double(), y.double()
    tol = 1e-6
    history = gradlm.fit(gradlm.LinearModel(1, 1, dtype=torch.float64), X64, y64, epochs=100_000, lr=1e-3, tol=tol)
    assert history.converged and history.stop_reason == "converged" and history.epochs_run < 100_000
    W, b = gradlm.lstsq(X64, y64)
    sx, sy = X64.std(unbiased=False).item(), y64.std(unbiased=False).item()
    unit_w, unit_b = sy / sx, sy * (1 + abs(X64.mean().item()) / sx)

    def error(w, c):
        return max(abs(w[0, 0] - W[0, 0]) / (abs(W[0, 0]) + unit_w), abs(c[0] - b[0]) / (abs(b[0]) + unit_b))

    assert error(history.weight, history.bias) <= tol
    # the parameters after the epoch before were not yet within tol (they are the last epoch's start)
    assert error(history.weight_path[-1], history.bias_path[-1]) > tol
    assert history.report.coef_error == pytest.approx(error(history.weight, history.bias), rel=1e-9)


def test_patience_stops_early_and_keeps_the_best_epoch():
    X, y = gradlm.datasets.line()
    history = gradlm.fit(gradlm.LinearModel(1, 1), X[:40], y[:40], epochs=5000, lr=1e-3, tol=None, patience=3,
                         validation=(X[40:], y[40:]))
    assert history.stop_reason == "patience" and history.epochs_run < 5000
    best = int(np.argmin(history.val_loss))
    assert best == history.epochs_run - 4  # three epochs without improvement after the best
    # the model goes back to the parameters after the best epoch (the start of the next one)
    np.testing.assert_array_equal(history.weight, history.weight_path[best + 1])


def test_running_out_of_epochs_before_tol_warns():
    X, y = gradlm.datasets.line()
    with pytest.warns(gradlm.ConvergenceWarning, match=r"did not converge \(ran all 5 epochs\).*Raise epochs"):
        history = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=5, lr=1e-4, tol=1e-9)
    assert history.stop_reason == "epochs" and not history.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=5, lr=1e-4)  # no tol: no warning


def test_validation_loss_is_after_each_epoch_and_monitored():
    X, y = gradlm.datasets.line()
    seen = []

    def record(info):
        seen.append((info.epoch, info.loss, info.val_loss, gradlm.loss_at(
            info.model.weight.detach(), info.model.bias.detach(), X[40:], y[40:])))

    history = gradlm.fit(gradlm.LinearModel(1, 1), X[:40], y[:40], epochs=4, lr=1e-3,
                         validation=(X[40:], y[40:]), callbacks=[record])
    assert [s[0] for s in seen] == [1, 2, 3, 4]
    np.testing.assert_allclose(history.val_loss, [s[3] for s in seen], rtol=1e-5)
    np.testing.assert_array_equal(history.loss, [s[1] for s in seen])


def test_callback_returning_true_stops():
    X, y = gradlm.datasets.line()
    history = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=100, lr=1e-3,
                         callbacks=lambda info: info.epoch == 7)
    assert history.epochs_run == 7 and history.stop_reason == "callback"


def test_keyboard_interrupt_returns_the_history_so_far():
    X, y = gradlm.datasets.line()
    model = gradlm.LinearModel(1, 1)

    def interrupt(info):
        if info.epoch == 4:
            raise KeyboardInterrupt

    history = gradlm.fit(model, X, y, epochs=100, lr=1e-3, callbacks=interrupt)
    assert history.interrupted and history.epochs_run == 4
    np.testing.assert_array_equal(history.weight, model.weight.detach().numpy())


def test_history_to_dict_is_json_and_optimality_gap_shrinks():
    X, y = gradlm.datasets.line()
    torch.manual_seed(59)
    short = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=5, lr=1e-3)
    torch.manual_seed(59)
    long = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=2000, lr=1e-3)
    assert 0 <= long.optimality_gap(X, y) < short.optimality_gap(X, y)
    d = json.loads(json.dumps(long.to_dict()))
    assert len(d["loss"]) == 2000 and d["stop_reason"] == "epochs" and d["settings"]["lr"] == 1e-3
    assert "epochs_run=2000" in repr(long)


def test_float64_model_trains_on_float32_data():
    X, y = gradlm.datasets.crops()
    history = gradlm.fit(crops_model(dtype="float64"), X, y, epochs=2, lr=1e-5)
    assert history.weight.dtype == np.float64


def test_progress_bar_runs(capsys):
    X, y = gradlm.datasets.line()
    history = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=3, lr=1e-3, progress=True)
    assert history.epochs_run == 3
    assert "fit" in capsys.readouterr().err
