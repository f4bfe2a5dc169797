"""Default arguments reach the least-squares answer and say so; every test is a failure once seen with defaults.

References: numpy.linalg.lstsq, and R's lm() (through rpy2, R alone in the
process) on R's data sets.
"""

import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes, load_linnerud

import gradlm
from gradlm.callbacks import DivergenceGuard
from gradlm.stability import Curvature


def numpy_lstsq(X, y):
    """Intercept first, then the weights (out x (1 + in)), from NumPy's SVD least squares on centred data."""
    y = y.reshape(len(X), -1)
    coef = np.linalg.lstsq(X - X.mean(0), y - y.mean(0), rcond=None)[0]
    return np.column_stack([y.mean(0) - X.mean(0) @ coef, coef.T])


def relative_error(est, reference):
    """The largest |b - b_ref| / |b_ref| over every coefficient, the intercepts included."""
    got = np.column_stack([np.atleast_1d(est.intercept_), np.atleast_2d(est.coef_)])
    return float(np.max(np.abs(got - reference) / np.abs(reference)))


def fit_quietly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a default fit that reaches the answer has nothing to warn about
        return est.fit(X, y)


@pytest.mark.parametrize("loader", [load_diabetes, load_linnerud], ids=["diabetes", "linnerud"])
def test_default_gdregressor_reaches_least_squares_on_sklearn_data(loader):
    """diabetes: default R² was 0.113 against 0.518, silently; linnerud: a DivergenceError."""
    X, y = loader(return_X_y=True)
    est = fit_quietly(gradlm.GDRegressor(), X, y)
    assert est.converged_ and est.history_.stop_reason == "converged"
    assert relative_error(est, numpy_lstsq(X, y)) < 1e-6
    exact = gradlm.lstsq(X, y)
    r2 = 1 - ((y.reshape(len(X), -1) - (X @ exact.weight.T + exact.bias)) ** 2).sum(0) / \
        ((y.reshape(len(X), -1) - y.reshape(len(X), -1).mean(0)) ** 2).sum(0)
    assert est.score(X, y) == pytest.approx(r2.mean(), rel=1e-9)
    np.testing.assert_allclose(est.report_.r_squared, r2, rtol=1e-9)
    assert est.report_.gap < 1e-9 * est.report_.optimum_loss


def test_default_fit_of_a_model_converges_and_stops_certified():
    X, y = load_diabetes(return_X_y=True)
    Xs = (X - X.mean(0)) / X.std(0)
    model = gradlm.LinearModel(10, 1, dtype=torch.float64)
    h = gradlm.fit(model, Xs, y)
    assert h.converged and h.stop_reason == "converged" and h.epochs_run < h.settings["epochs"]
    assert h.settings["lr_auto"] and 0 < h.settings["momentum"] < 1
    assert h.report.coef_error <= h.report.tol


def test_not_converging_within_the_budget_warns_and_prints_the_verdict():
    """With tol=None as the old default, no ConvergenceWarning could ever fire, and nothing showed it."""
    X, y = load_diabetes(return_X_y=True)
    with pytest.warns(gradlm.ConvergenceWarning, match=r"did not converge \(ran all 5 epochs\).*loss gap"):
        est = gradlm.GDRegressor(epochs=5).fit(X, y)
    assert not est.converged_ and "did not converge" in est.report_.verdict()
    assert "converged=False" in repr(est.history_)


def test_a_run_whose_loss_rose_is_never_converged_diabetes_lr_0_3():
    """lr=0.3 (standardized diabetes) is beyond the stable bound: the loss went 29124 -> 10440 -> 10838 -> ...
    and the old tolerance rule called it converged with R² = -39."""
    X, y = load_diabetes(return_X_y=True)
    bound = gradlm.suggest_lr(X, standardize=True)
    assert 0.3 > bound
    with pytest.raises(gradlm.DivergenceError, match=f"stable for lr < {bound:.4g}"):
        gradlm.GDRegressor(epochs=500, lr=0.3, seed=0, tol=1e-6).fit(X, y)
    with pytest.warns(gradlm.DivergenceWarning):
        est = gradlm.GDRegressor(epochs=500, lr=0.3, seed=0, tol=1e-6, on_divergence="warn",
                                 history="full").fit(X, y)
    h = est.history_
    assert h.stop_reason == "diverged" and not h.converged and not est.converged_
    # rolled back to the best epoch's parameters, not to the last finite ones
    best = int(np.argmin(h.loss))
    np.testing.assert_array_equal(h.weight, h.weight_path[best])
    assert est.report_.loss == pytest.approx(h.loss[best] * est.y_scale_[0] ** 2, rel=1e-6)
    # the same rollback keeping the losses only (the default): a few parameter sets, not the path
    with pytest.warns(gradlm.DivergenceWarning):
        lean = gradlm.GDRegressor(epochs=500, lr=0.3, seed=0, tol=1e-6, on_divergence="warn").fit(X, y)
    assert lean.history_.weight_path.shape[0] == 0
    np.testing.assert_array_equal(lean.history_.weight, h.weight)


def test_heavy_ball_transient_rise_is_not_called_divergence():
    """Momentum from the design's eigenvalues overshoots (the loss peaks far above its start on a polynomial
    design) and then converges: the old rule stopped it at epoch 11, and could not be turned off."""
    x = np.linspace(0, 20, 201)
    X = np.column_stack([x ** k for k in range(1, 4)])
    X = (X - X.mean(0)) / X.std(0)
    y = np.sin(x / 3) + 0.1 * np.cos(x)
    stats = gradlm.analytic.SufficientStatistics(torch.from_numpy(X), torch.from_numpy(y[:, None]))
    lr, momentum = Curvature(stats).heavy_ball()
    model = gradlm.LinearModel(3, 1, init="zeros", dtype=torch.float64)
    with torch.no_grad():
        model.weight.fill_(50.0)  # a start far along the stiff directions
    h = gradlm.fit(model, X, y, epochs=20000, lr=lr, momentum=momentum, tol=1e-9)
    assert h.loss.max() > 10 * h.loss[0]  # the transient
    assert h.stop_reason == "converged" and h.converged
    # where theory cannot tell (Adam), the rule still stops a long rise, and "ignore" turns it off
    guard = DivergenceGuard(stable=None, enabled=False)

    class Run:
        loss = [1.0]

    for value in range(2, 30):
        Run.loss.append(float(value))
        assert guard(Run, value, ()) is None


def test_on_divergence_ignore_keeps_going_until_the_loss_is_not_finite():
    X, y = gradlm.datasets.crops()
    with pytest.warns(gradlm.DivergenceWarning):
        h = gradlm.numpy_gd(X.numpy(), y.numpy(), epochs=2000, lr=1e-3, seed=0, on_divergence="warn")
    stopped_at = h.epochs_run
    with pytest.warns(gradlm.DivergenceWarning, match="became inf"):
        h = gradlm.numpy_gd(X.numpy(), y.numpy(), epochs=2000, lr=1e-3, seed=0, on_divergence="ignore")
    assert stopped_at < 50 < h.epochs_run < 2000


def test_huge_y_is_standardized_and_an_overflow_names_the_scale_not_the_lr():
    """y of scale 1e20: the message blamed the learning rate ('stable for lr < 0.84, try lr=0.42')."""
    data = gradlm.datasets.make_regression(500, 3, seed=0, dtype=torch.float64)
    X, y = data.X.numpy(), data.y.numpy()[:, 0] * 1e20
    est = fit_quietly(gradlm.GDRegressor(), X, y)
    assert est.converged_ and relative_error(est, numpy_lstsq(X, y)) < 1e-6
    with pytest.raises(gradlm.DivergenceError, match=r"overflowed float32: the data's scale \(y up to about 2.*e\+20"):
        gradlm.GDRegressor(standardize=False, dtype="float32", fast=False, lr=0.1, epochs=50).fit(X, y)


def test_tiny_x_with_standardize_is_fitted_not_left_at_the_start():
    """X * 1e-50 with standardize=True silently returned the starting values (score 0.0)."""
    X, y = load_diabetes(return_X_y=True)
    est = fit_quietly(gradlm.GDRegressor(), X * 1e-50, y)
    reference = numpy_lstsq(X, y) * np.r_[1.0, np.full(10, 1e50)]
    assert est.converged_ and relative_error(est, reference) < 1e-6
    assert est.score(X * 1e-50, y) == pytest.approx(0.5177, abs=1e-4)
    with pytest.raises(ValueError, match=r"column 0 of X has standard deviation .*e-5\d, beyond what torch.float32"):
        gradlm.GDRegressor(dtype="float32", batch_size=50).fit(X * 1e-50, y)


@pytest.mark.parametrize("n", [9_999, 10_000])
def test_float64_input_is_computed_in_float64_at_any_n(n):
    """X = 1e6 + N(0, 1): the coefficient error was 2.9e-3 at n = 9,999 (float32) and 1.2e-8 at n = 10,000."""
    rng = np.random.default_rng(0)
    X = 1e6 + rng.normal(size=(n, 2))
    y = 3.0 + X @ np.array([1.5, -2.0]) + rng.normal(size=n)
    est = fit_quietly(gradlm.GDRegressor(), X, y)
    assert est.model_.weight.dtype == torch.float64
    assert relative_error(est, numpy_lstsq(X, y)) < 1e-6


def test_adam_reaches_the_answer_or_says_it_did_not():
    """optimizer='adam', lr=0.1 returned a coefficient of the wrong sign, silently."""
    X, y = load_diabetes(return_X_y=True)
    est = fit_quietly(gradlm.GDRegressor(optimizer="adam", lr=0.1), X, y)  # standardized: Adam's steps fit
    assert est.converged_ and relative_error(est, numpy_lstsq(X, y)) < 1e-6
    with pytest.warns(gradlm.ConvergenceWarning, match=r"did not converge \(ran all 20 epochs\)"):
        est = gradlm.GDRegressor(optimizer="adam", lr=0.1, epochs=20).fit(X, y)
    assert not est.converged_


def test_automatic_step_is_inside_the_stable_bound_and_faster_than_plain_gd():
    X, y = load_diabetes(return_X_y=True)
    Xs = (X - X.mean(0)) / X.std(0)
    stats = gradlm.analytic.SufficientStatistics(torch.from_numpy(Xs), torch.from_numpy(y[:, None]))
    c = Curvature(stats)
    lr, momentum = c.heavy_ball()
    assert lr < c.max_stable_lr(momentum) / 1.005  # strictly inside, never on the edge
    kappa = 1.01 * c.condition_number  # (lambda_max taken 1% larger)
    assert c.rate(lr, momentum) == pytest.approx((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1), rel=1e-6)
    plain = 2 / (c.largest + c.smallest)
    assert c.rate(plain) == pytest.approx((c.condition_number - 1) / (c.condition_number + 1), rel=1e-9)
    # the Hessian's eigenvalues from the moments equal autograd's Hessian
    A = torch.from_numpy(np.column_stack([Xs, np.ones(len(Xs))]))
    H = torch.autograd.functional.hessian(lambda t: ((A @ t - torch.from_numpy(y)) ** 2).mean(),
                                          torch.zeros(11, dtype=torch.float64))
    eig = torch.linalg.eigvalsh(H)
    assert c.largest == pytest.approx(float(eig[-1]), rel=1e-10)
    assert c.smallest == pytest.approx(float(eig[0]), rel=1e-8)


@pytest.mark.parametrize("data, formula", [
    ("longley", "Employed ~ ."),
    ("mtcars", "mpg ~ ."),
    ("mtcars", "mpg ~ wt + hp + disp"),
    ("iris", "Sepal.Length ~ ."),
    ("airquality", "Ozone ~ ."),
    ("swiss", "Fertility ~ ."),
])
def test_default_gdregressor_matches_lm_on_r_data(R, data, formula):
    """longley needed about 170,000 plain-GD epochs for 10 digits; the others diverged or stopped far off."""
    R(f"f <- lm({formula}, data = {data}); mm <- model.matrix(f)[, -1, drop = FALSE]")
    X = np.asarray(R("mm"), dtype=np.float64)
    y = np.asarray(R("model.response(model.frame(f))"), dtype=np.float64)
    lm_coef = np.asarray(R("coef(f)"))[None, :]
    est = fit_quietly(gradlm.GDRegressor(), X, y)
    assert est.converged_
    assert relative_error(est, lm_coef) < 1e-6


def test_unscaled_columns_are_never_certified_far_from_least_squares(R):
    """New-user review: GDRegressor(standardize=False) on longley said "converged in 2 epochs: coefficients
    within 0.71 of least squares (tol 4)", the intercept -0.30 where lm() has -3.48e6: tol='auto' loosened with
    the Hessian's condition number (4.5e15 on the raw columns), though least squares itself, solved on the scaled
    columns, is known to 1e-12. The tolerance now follows the scaled problem, and the fit says it did not
    converge."""
    X = np.asarray(R("as.matrix(longley[, 1:6])"), dtype=np.float64)
    y = np.asarray(R("longley$Employed"), dtype=np.float64)
    for est in (gradlm.GDRegressor(standardize=False, epochs=2), gradlm.GDRegressor(standardize=False, epochs=50)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(X, y)
        assert est.report_.tol < 1e-6
        if est.converged_:  # (certified: then truly close)
            assert relative_error(est, np.asarray(R("coef(lm(Employed ~ ., longley))"))[None, :]) < 1e-6
        else:
            assert any(issubclass(w.category, gradlm.ConvergenceWarning) for w in caught)
            assert "standardizing the data" in str(caught[0].message)


def test_advice_on_standardized_data_does_not_suggest_standardizing(R):
    """New-user review: a default fit (standardized) of longley cut at 50 epochs advised "standardizing the data
    (GDRegressor and gd_lm do by default) often lowers it", which the fit had done."""
    X = np.asarray(R("as.matrix(longley[, 1:6])"), dtype=np.float64)
    y = np.asarray(R("longley$Employed"), dtype=np.float64)
    with pytest.warns(gradlm.ConvergenceWarning) as caught:
        gradlm.GDRegressor(epochs=50).fit(X, y)
    message = str(caught[0].message)
    assert "on the standardized data: some predictors are close to collinear" in message
    assert "standardizing the data" not in message


def test_ill_conditioned_polynomial_either_converges_or_warns():
    x = np.arange(0, 20.05, 0.1)
    X = np.column_stack([x ** k for k in range(1, 6)])
    y = np.sin(x / 4) + 0.01 * np.random.default_rng(0).normal(size=len(x))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = gradlm.GDRegressor().fit(X, y)
    warned = any(issubclass(w.category, gradlm.ConvergenceWarning) for w in caught)
    assert est.converged_ != warned
    if est.converged_:
        assert relative_error(est, numpy_lstsq(X, y)) < 1e-4
    else:
        assert "condition number" in str(caught[0].message)


def test_collinear_predictors_are_certified_on_the_directions_the_data_decide():
    """With an aliased column, least squares has many solutions: gradient descent finds one, which the
    certificate accepted only if it was the minimum-norm one (never, from a random start)."""
    X, y = gradlm.datasets.crops()
    X, y = X.double().numpy(), y.double().numpy()
    Xd = np.column_stack([X, X[:, 0] + X[:, 1]])
    est = fit_quietly(gradlm.GDRegressor(seed=0), Xd, y)
    assert est.converged_ and est.report_.rank == 4 and est.report_.n_coefficients == 5
    assert "on the 4 of 5 directions the data decide" in est.report_.verdict()
    # predictions are least squares' to float rounding, though the coefficients differ from the minimum-norm ones
    exact = gradlm.lstsq(Xd, y)
    np.testing.assert_allclose(est.predict(Xd), Xd @ exact.weight.T + exact.bias, rtol=1e-9)
    assert est.report_.gap <= 1e-12 * est.report_.optimum_loss
    # the split between aliased columns was the random start's; now it is the minimum-norm one, whatever the seed
    other = gradlm.GDRegressor(seed=1).fit(Xd, y)
    np.testing.assert_allclose(other.coef_, est.coef_, rtol=1e-8)
    # minimum norm on the standardized scale: orthogonal there to the aliased direction x1 + x2 - x4
    scaled = est.coef_ * Xd.std(0)
    alias = np.array([1.0, 1.0, 0.0, -1.0]) * Xd.std(0)
    np.testing.assert_allclose(scaled @ alias, 0.0, atol=1e-8 * np.abs(scaled).max() * np.abs(alias).max())


@pytest.mark.parametrize("loader, epochs", [(load_diabetes, 30), (load_linnerud, 3)], ids=["one output", "three"])
def test_the_warning_and_the_report_quote_the_same_gap_on_any_scale(loader, epochs):
    """The warning came from the standardized run, the report from the original scale: two different gaps
    (with several outputs, even relative ones: hence the largest of the outputs' relative gaps)."""
    X, y = loader(return_X_y=True)
    with pytest.warns(gradlm.ConvergenceWarning) as caught:
        est = gradlm.GDRegressor(epochs=epochs).fit(X, y)
    quoted = float(str(caught[0].message).split("loss gap ")[1].split(" ")[0])
    assert quoted == pytest.approx(est.report_.relative_gap, rel=1e-2)
    assert f"loss gap {quoted:.3g} (relative)" in est.report_.verdict()


def test_default_step_never_diverges_on_a_very_ill_conditioned_design():
    """cars, dist ~ poly(speed, 6, raw = TRUE): condition number about 1e10; the automatic step sat on the stable
    bound, its stiffest direction grew, and the guard called the default fit divergent, advising lr='auto'."""
    speed = np.array([4, 4, 7, 7, 8, 9, 10, 10, 10, 11, 11, 12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15,
                      15, 16, 16, 17, 17, 17, 18, 18, 18, 18, 19, 19, 19, 20, 20, 20, 20, 20, 22, 23, 24, 24, 24, 24,
                      25], dtype=np.float64)
    dist = np.array([2, 10, 4, 22, 16, 10, 18, 26, 34, 17, 28, 14, 20, 24, 28, 26, 34, 34, 46, 26, 36, 60, 80, 20, 26,
                     54, 32, 40, 32, 40, 50, 42, 56, 76, 84, 36, 46, 68, 32, 48, 52, 56, 64, 66, 54, 70, 92, 93, 120,
                     85], dtype=np.float64)
    X = np.column_stack([speed ** k for k in range(1, 7)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = gradlm.GDRegressor().fit(X, dist)  # no DivergenceError
    assert est.history_.stop_reason in ("converged", "epochs") and np.isfinite(est.coef_).all()
    assert est.converged_ != any(issubclass(w.category, gradlm.ConvergenceWarning) for w in caught)
    assert est.report_.loss <= 1.01 * np.mean((dist - dist.mean()) ** 2)  # never worse than the mean


def test_predictors_whose_squares_underflow_are_refused_not_certified():
    """X * 1e-170: the moments underflowed, the columns looked constant, and the fit said converged (score 0)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    y = X @ np.array([1.0, 2.0]) + 0.1 * rng.normal(size=20)
    with pytest.raises(ValueError, match=r"column 0 of X has values of about .*e-17\d: their squares underflow"):
        gradlm.GDRegressor().fit(X * 1e-170, y)
    assert fit_quietly(gradlm.GDRegressor(), X * 1e-140, y).score(X * 1e-140, y) > 0.99


def test_the_warning_says_how_many_epochs_the_step_needs():
    """A given small lr ran its budget and warned 'raise epochs', without saying by how much, or that the
    automatic step needs a thousandth of it."""
    X, y = load_diabetes(return_X_y=True)
    with pytest.warns(gradlm.ConvergenceWarning, match=r"At this step \(lr=0.01\) it needs about [\d,]+ epochs; "
                                                       r"lr='auto' and momentum='auto' need about [\d,]+") as caught:
        est = gradlm.GDRegressor(lr=0.01, epochs=200).fit(X, y)
    needed, auto = est.history_.report.epochs_needed, est.history_.report.epochs_needed_auto
    assert needed > 100 * auto
    # the prediction holds: the automatic step converges within it
    assert fit_quietly(gradlm.GDRegressor(), X, y).n_iter_ <= auto
    assert "float32" not in str(caught[0].message)  # float64 parameters: no dtype hint
