"""Divergence, the stable learning rate, interrupts and the ConvergenceWarning's gap."""

import warnings

import numpy as np
import pytest
import torch

import gradlm

X, Y = gradlm.datasets.crops()


def hessian_bound(X, n_outputs):
    """2 / lambda_max of the MSE's Hessian, from autograd: the reference for suggest_lr."""
    X = torch.as_tensor(X, dtype=torch.float64)
    y = torch.zeros(X.shape[0], n_outputs, dtype=torch.float64)

    def loss(theta):
        W = theta[: n_outputs * X.shape[1]].reshape(n_outputs, X.shape[1])
        b = theta[n_outputs * X.shape[1]:]
        return gradlm.mse(X @ W.T + b, y)

    theta = torch.zeros(n_outputs * (X.shape[1] + 1), dtype=torch.float64)
    H = torch.autograd.functional.hessian(loss, theta)
    return float(2 / torch.linalg.eigvalsh(H)[-1])


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_suggest_lr_is_two_over_the_hessians_largest_eigenvalue(n_outputs):
    assert gradlm.suggest_lr(X, n_outputs=n_outputs) == pytest.approx(hessian_bound(X, n_outputs), rel=1e-10)
    X64 = X.double()
    standardized = (X64 - X64.mean(0)) / X64.std(0, unbiased=False)
    assert gradlm.suggest_lr(X, n_outputs, standardize=True) == pytest.approx(hessian_bound(standardized, n_outputs),
                                                                             rel=1e-8)


def test_the_bound_separates_convergence_from_divergence():
    """Just below suggest_lr, full-batch GD settles; just above, it diverges and says so."""
    bound = gradlm.suggest_lr(X, n_outputs=2)
    X64, Y64 = X.double(), Y.double()
    below = gradlm.fit(gradlm.LinearModel(3, 2, init="zeros", dtype=torch.float64), X64, Y64,
                       epochs=20000, lr=0.98 * bound)
    assert below.loss[-1] < below.loss[0] and np.isfinite(below.loss).all()
    model = gradlm.LinearModel(3, 2, init="zeros", dtype=torch.float64)
    with pytest.raises(gradlm.DivergenceError) as info:
        gradlm.fit(model, X64, Y64, epochs=20000, lr=1.05 * bound)
    assert f"stable for lr < {bound:.4g}" in str(info.value)


def test_divergence_stops_and_keeps_the_best_parameters_seen():
    model = gradlm.LinearModel(3, 2)
    with pytest.raises(gradlm.DivergenceError) as info:
        gradlm.fit(model, X, Y, epochs=500, lr=0.01, on_divergence="raise")
    err = info.value
    h = err.history
    assert h.stop_reason == "diverged" and h.diverged and err.epoch == h.epochs_run and not h.converged
    best = int(np.nanargmin(np.where(np.isfinite(h.loss), h.loss, np.nan)))
    # full batch: loss[i] was computed with the parameters at the start of epoch i + 1
    np.testing.assert_array_equal(model.weight.detach().numpy(), h.weight_path[best])
    np.testing.assert_array_equal(h.weight, h.weight_path[best])
    assert np.isfinite(h.weight).all()
    assert f"epoch {err.epoch}" in str(err) and "keeps the best parameters seen" in str(err)
    assert "stable for lr < " in str(err)  # the cause: a step beyond the bound


def test_warn_instead_of_raise_and_growth_without_overflow():
    # lr beyond the stable bound: a loss rising 3 epochs in a row is divergence for certain
    with pytest.warns(gradlm.DivergenceWarning, match="rose 3 epochs in a row"):
        h = gradlm.numpy_gd(X.numpy(), Y.numpy(), epochs=500, lr=2.1e-4, seed=0, on_divergence="warn")
    assert h.stop_reason == "diverged" and h.epochs_run < 500 and not h.converged
    with pytest.warns(gradlm.DivergenceWarning):
        est = gradlm.GDRegressor(lr=0.01, epochs=500, on_divergence="warn", standardize=False).fit(X, Y)
    assert est.history_.diverged and np.isfinite(est.coef_).all() and not est.converged_


def test_mini_batch_divergence_names_the_reference_bound():
    with pytest.raises(gradlm.DivergenceError, match=r"Lower lr \(was 0.01; full-batch gradient descent is stable"):
        gradlm.fit(gradlm.LinearModel(3, 2), X, Y, epochs=500, lr=0.01, batch_size=4, seed=0)


def test_a_stable_run_with_momentum_is_not_called_divergent():
    """Heavy-ball momentum overshoots (the loss rises for a few epochs) without diverging."""
    Xs = (X - X.mean(0)) / X.std(0)
    h = gradlm.fit(gradlm.LinearModel(3, 2, init="zeros"), Xs, Y, epochs=300, lr=0.5, momentum=0.9)
    assert h.stop_reason == "epochs" and np.diff(h.loss).max() > 0


def test_convergence_warning_quotes_the_optimality_gap():
    with pytest.warns(gradlm.ConvergenceWarning, match=r"loss gap (\S+) \(relative\)\. ") as w:
        h = gradlm.fit(gradlm.LinearModel(3, 2), X, Y, epochs=5, lr=1e-5, tol=1e-12)
    quoted = float(str(w[0].message).split("loss gap ")[1].split(" ")[0])
    # per output: its loss above its optimum's, relative; the largest of them
    X64, Y64 = X.double().numpy(), Y.double().numpy()
    W, b = gradlm.lstsq(X, Y)
    sse = ((X64 @ h.weight.astype(np.float64).T + h.bias - Y64) ** 2).sum(0)
    best = ((X64 @ W.T + b - Y64) ** 2).sum(0)
    assert quoted == pytest.approx(((sse - best) / best).max(), rel=1e-2)
    assert quoted == pytest.approx(h.report.relative_gap, rel=1e-2)
    assert h.report.gap == pytest.approx(gradlm.optimality_gap(h.weight, h.bias, X, Y), rel=1e-6)


def test_report_gap_matches_lstsq_on_rank_deficient_data():
    Xd = torch.cat([X, X[:, :1] * 2], dim=1).double()
    model = gradlm.LinearModel(4, 2, dtype=torch.float64)
    h = gradlm.fit(model, Xd, Y.double(), epochs=3, lr=1e-5)
    assert h.report.gap == pytest.approx(gradlm.optimality_gap(h.weight, h.bias, Xd, Y.double()), rel=1e-9)


class StepThenInterrupt(torch.optim.SGD):
    """SGD whose step at a given call updates the weight, then is interrupted before the bias."""

    def __init__(self, params, lr, at):
        super().__init__(params, lr=lr)
        self.calls, self.at = 0, at

    def step(self, closure=None):
        self.calls += 1
        if self.calls == self.at:
            weight = self.param_groups[0]["params"][0]
            with torch.no_grad():
                weight -= self.param_groups[0]["lr"] * weight.grad
            raise KeyboardInterrupt
        return super().step(closure)


@pytest.mark.parametrize("batch_size", [None, 4])
def test_interrupt_mid_step_leaves_whole_epochs(batch_size):
    """Ctrl-C halfway through a step: the model is at the end of the last whole epoch, bit for bit."""
    steps_per_epoch = 1 if batch_size is None else 4  # 15 rows in batches of 4
    torch.manual_seed(3)
    model = gradlm.LinearModel(3, 2, dtype=torch.float64)
    start = [p.detach().clone() for p in model.parameters()]
    opt = StepThenInterrupt(model.parameters(), lr=1e-5, at=7 * steps_per_epoch + 1)
    h = gradlm.fit(model, X.double(), Y.double(), epochs=100, optimizer=opt, batch_size=batch_size, seed=0,
                   fast=False)
    assert h.stop_reason == "interrupted" and h.interrupted and h.epochs_run == 7

    reference = gradlm.LinearModel(3, 2, dtype=torch.float64)
    with torch.no_grad():
        for p, s in zip(reference.parameters(), start):
            p.copy_(s)
    ref = gradlm.fit(reference, X.double(), Y.double(), epochs=7, lr=1e-5, batch_size=batch_size, seed=0, fast=False)
    np.testing.assert_array_equal(model.weight.detach().numpy(), ref.weight)
    np.testing.assert_array_equal(model.bias.detach().numpy(), ref.bias)
    np.testing.assert_array_equal(h.weight, ref.weight)
    np.testing.assert_array_equal(h.loss, ref.loss)


def test_interrupt_between_epochs_from_a_callback():
    def stop_at_3(info):
        if info.epoch == 3:
            raise KeyboardInterrupt

    h = gradlm.numpy_gd(X.numpy(), Y.numpy(), epochs=50, lr=1e-5, seed=0, callbacks=[stop_at_3])
    assert h.interrupted and h.epochs_run == 3
    ref = gradlm.numpy_gd(X.numpy(), Y.numpy(), epochs=3, lr=1e-5, seed=0)
    np.testing.assert_array_equal(h.weight, ref.weight)


def test_warnings_filter_error_does_not_hide_divergence():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(gradlm.DivergenceWarning):
            gradlm.fit(gradlm.LinearModel(3, 2), X, Y, epochs=500, lr=0.01, on_divergence="warn")
