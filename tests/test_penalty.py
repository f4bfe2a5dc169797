"""Ridge, lasso and elastic net, against scikit-learn's ElasticNet, Lasso and Ridge (glmnet: R's tests).

The references solve the same objective (see gradlm.penalty): scikit-learn's
ElasticNet on the data as given (``standardize=False``), or on the features
scaled by their population standard deviations, the coefficients then mapped
back (``standardize=True``, glmnet's convention). They run to tol=1e-15, far
inside the 1e-6 relative compared here.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes, load_linnerud
from sklearn.linear_model import ElasticNet, Lasso, Ridge

import gradlm
from gradlm.analytic import SufficientStatistics
from gradlm.penalty import Penalty, exact_solution

RTOL = 1e-6
PENALTIES = [(0.5, 0.0), (0.05, 1.0), (0.2, 0.5)]  # ridge, lasso, elastic net


def reference(X, y, alpha, l1_ratio, standardize, sample_weight=None):
    """scikit-learn's ElasticNet on the same objective: ``(coef (k, d), intercept (k,))``."""
    scale = np.sqrt(np.cov(X.T, bias=True, aweights=sample_weight).diagonal()) if standardize else np.ones(X.shape[1])
    net = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-15, max_iter=10**6)
    Y = y.reshape(len(y), -1)
    coef, intercept = [], []
    for j in range(Y.shape[1]):
        net.fit(X / scale, Y[:, j], sample_weight=sample_weight)
        coef.append(net.coef_ / scale)
        intercept.append(net.intercept_)
    return np.array(coef), np.array(intercept)


def relative_error(est, coef, intercept):
    ours = np.hstack([np.atleast_2d(est.coef_), np.atleast_1d(est.intercept_)[:, None]])
    theirs = np.hstack([coef, intercept[:, None]])
    return np.abs(ours - theirs).max() / np.abs(theirs).max()


def fit(**params):
    return gradlm.GDRegressor(**params)


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("alpha, l1_ratio", PENALTIES)
def test_matches_scikit_learn_elastic_net_on_diabetes(alpha, l1_ratio, standardize):
    X, y = load_diabetes(return_X_y=True)
    est = fit(alpha=alpha, l1_ratio=l1_ratio, standardize=standardize).fit(X, y)
    assert est.converged_
    assert relative_error(est, *reference(X, y, alpha, l1_ratio, standardize)) < RTOL
    assert "penalized optimum" in est.report_.verdict()


@pytest.mark.parametrize("alpha, l1_ratio", PENALTIES)
def test_matches_scikit_learn_per_target_on_linnerud(alpha, l1_ratio):
    """Several targets: each its own elastic net (as ElasticNet on a 2-D y), on its own scale of y."""
    X, Y = load_linnerud(return_X_y=True)
    est = fit(alpha=alpha, l1_ratio=l1_ratio).fit(X, Y)
    assert est.converged_ and est.coef_.shape == (3, 3)
    assert relative_error(est, *reference(X, Y, alpha, l1_ratio, True)) < RTOL


@pytest.mark.parametrize("data, formula", [("mtcars", "mpg ~ ."), ("longley", "Employed ~ ."),
                                           ("airquality", "Ozone ~ .")])
@pytest.mark.parametrize("alpha, l1_ratio", PENALTIES)
def test_matches_scikit_learn_on_r_data(R, data, formula, alpha, l1_ratio):
    R(f"f <- lm({formula}, data = {data}); mm <- model.matrix(f)[, -1, drop = FALSE]")
    X = np.asarray(R("mm"), dtype=np.float64)
    y = np.asarray(R("model.response(model.frame(f))"), dtype=np.float64)
    est = fit(alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    assert est.converged_
    assert relative_error(est, *reference(X, y, alpha, l1_ratio, True)) < RTOL


def test_ridge_is_scikit_learn_ridge_with_alpha_over_n():
    """scikit-learn's Ridge does not divide the squared error by 2n: its alpha is n times ours."""
    X, y = load_diabetes(return_X_y=True)
    ridge = Ridge(alpha=3.0).fit(X, y)
    est = fit(alpha=3.0 / len(y), standardize=False).fit(X, y)
    assert relative_error(est, ridge.coef_[None, :], np.array([ridge.intercept_])) < RTOL


def test_lasso_zeroes_what_scikit_learn_zeroes():
    X, y = load_diabetes(return_X_y=True)
    est = fit(alpha=1.0, l1_ratio=1.0, standardize=False).fit(X, y)
    lasso = Lasso(alpha=1.0, tol=1e-15, max_iter=10**6).fit(X, y)
    assert 0 < np.count_nonzero(lasso.coef_) < X.shape[1]
    np.testing.assert_array_equal(est.coef_ == 0, lasso.coef_ == 0)  # exact zeros, from the proximal step


def test_weighted_elastic_net_matches_scikit_learn():
    X, y = load_diabetes(return_X_y=True)
    w = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    est = fit(alpha=0.1, l1_ratio=0.5).fit(X, y, sample_weight=w)
    assert est.converged_
    assert relative_error(est, *reference(X, y, 0.1, 0.5, True, sample_weight=w)) < RTOL


def test_fit_function_takes_alpha_on_the_data_as_given():
    X, y = load_diabetes(return_X_y=True)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)[:, None]
    model = gradlm.LinearModel(10, 1, dtype=torch.float64)
    history = gradlm.fit(model, Xt, yt, alpha=0.05, l1_ratio=0.5)
    assert history.converged and history.settings["optimizer"] == "fista"
    coef, intercept = reference(X, y, 0.05, 0.5, False)
    np.testing.assert_allclose(history.weight, coef, rtol=RTOL, atol=RTOL * np.abs(coef).max())
    np.testing.assert_allclose(history.bias, intercept, rtol=RTOL)


def test_per_target_alpha():
    """One alpha per target: each target's elastic net with its own; alpha 0 is least squares."""
    X, Y = load_linnerud(return_X_y=True)
    est = fit(alpha=[0.1, 0.3, 0.0], l1_ratio=1.0).fit(X, Y)
    for j, alpha in enumerate([0.1, 0.3]):
        coef, _ = reference(X, Y[:, j], alpha, 1.0, True)
        np.testing.assert_allclose(est.coef_[j], coef[0], rtol=RTOL, atol=RTOL * np.abs(coef).max())
    exact = gradlm.lstsq(X, Y).weight[2]
    np.testing.assert_allclose(est.coef_[2], exact, rtol=1e-8, atol=1e-8 * np.abs(exact).max())


def test_exact_solution_is_certified_only_for_the_right_signs():
    X, y = load_diabetes(return_X_y=True)
    stats = SufficientStatistics(torch.from_numpy(X), torch.from_numpy(y)[:, None])
    penalty = Penalty.of(1.0, 1.0, 1)
    lasso = Lasso(alpha=1.0, tol=1e-15, max_iter=10**6).fit(X, y)
    solution = exact_solution(stats, penalty, torch.from_numpy(lasso.coef_)[None, :])
    assert solution is not None
    np.testing.assert_allclose(solution[0][0].numpy(), lasso.coef_, rtol=1e-7, atol=1e-7 * np.abs(lasso.coef_).max())
    assert exact_solution(stats, penalty, torch.ones(1, 10, dtype=torch.float64)) is None  # all active: wrong
    assert exact_solution(stats, penalty, -torch.from_numpy(lasso.coef_)[None, :]) is None  # signs flipped


def test_mini_batch_penalty_takes_proximal_steps_and_approaches_the_optimum():
    """Constant-step proximal SGD settles in a noise band around the penalized optimum (about 10% here),
    far closer to it than the same mini-batch fit without the penalty."""
    X, y = load_diabetes(return_X_y=True)
    optimum = reference(X, y, 0.2, 0.5, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gradlm.ConvergenceWarning)  # (a constant-step SGD is not certified)
        est = fit(alpha=0.2, l1_ratio=0.5, batch_size=32, epochs=200, seed=0).fit(X, y)
        plain = fit(batch_size=32, epochs=200, seed=0).fit(X, y)
    assert relative_error(est, *optimum) < 0.25 < 1.0 < relative_error(plain, *optimum)
    assert est.history_.settings["penalty"]["l1"][0] > 0


def test_penalized_fit_has_no_lm_inference():
    X, y = load_diabetes(return_X_y=True)
    est = fit(alpha=0.1).fit(X, y)
    assert est.inference_ is None
    with pytest.raises(ValueError, match=r"penalized fit \(alpha > 0\) has no lm\(\) inference.*alpha=0"):
        est.summary()


@pytest.mark.parametrize("params, message", [
    ({"alpha": -1.0}, r"alpha must be >= 0"),
    ({"alpha": 1.0, "l1_ratio": 1.5}, r"l1_ratio must be between 0 and 1"),
    ({"alpha": [1.0, 2.0]}, r"alpha has 2 values; pass one number, or one per output \(1\)"),
    ({"alpha": "big"}, r"alpha must be a number"),
    ({"alpha": 1.0, "l1_ratio": 0.5, "optimizer": "adam"}, r"L1 penalty .* proximal .* optimizer='sgd'"),
])
def test_bad_penalty_arguments_are_clear_errors(params, message):
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises((ValueError, TypeError), match=message):
        fit(**params).fit(X, y)


def test_manual_update_refuses_a_penalty():
    X, y = gradlm.datasets.line()
    with pytest.raises(ValueError, match=r"update='manual' .* without a penalty"):
        gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=2, lr=0.001, update="manual", alpha=0.1)


def test_ridge_curvature_includes_the_penalty():
    """The automatic step comes from the penalized Hessian: autograd's Hessian of the objective agrees."""
    X, y = load_diabetes(return_X_y=True)
    stats = SufficientStatistics(torch.from_numpy(X), torch.from_numpy(y)[:, None])
    penalty = Penalty.of(0.7, 0.0, 1)
    curvature = gradlm.stability.Curvature(stats, penalty=penalty)
    A = torch.from_numpy(np.column_stack([X, np.ones(len(X))]))
    target = torch.from_numpy(y)

    def objective(theta):  # the MSE plus (2 / k) l2 / 2 ||w||^2, k = 1
        return ((A @ theta - target) ** 2).mean() + 0.7 * (theta[:-1] ** 2).sum()

    eig = torch.linalg.eigvalsh(torch.autograd.functional.hessian(objective, torch.zeros(11, dtype=torch.float64)))
    assert curvature.largest == pytest.approx(float(eig[-1]), rel=1e-10)
    assert curvature.smallest == pytest.approx(float(eig[0]), rel=1e-8)


def test_lasso_with_an_exact_copy_of_a_column_is_certified():
    """The optimum is not unique (any split of the coefficient between the copies): its KKT system was singular
    and the fit was never certified; any solution meeting the conditions certifies it now."""
    X, y = load_diabetes(return_X_y=True)
    est = fit(alpha=0.1, l1_ratio=1.0).fit(np.column_stack([X, X[:, 2]]), y)
    assert est.converged_
    coef, intercept = reference(X, y, 0.1, 1.0, True)
    merged = np.append(est.coef_[:10], 0.0)
    merged[2] += est.coef_[10]  # the copies' coefficients have one sign: their L1 norm is that of their sum
    np.testing.assert_allclose(merged[:10], coef[0], rtol=RTOL, atol=RTOL * np.abs(coef).max())


def test_penalty_without_intercept_scales_by_the_centred_sd_as_glmnet():
    """Without intercept training scales by the root mean square; the penalty was scaled by it too (wt 5.143,
    hp 0), where glmnet scales by the standard deviation about the mean (wt 5.811, hp -0.0123 on mtcars)."""
    X, y = load_diabetes(return_X_y=True)
    X = X + 0.05  # columns whose means are not 0
    sd = X.std(axis=0)
    est = fit(alpha=0.05, l1_ratio=0.5, fit_intercept=False).fit(X, y)
    net = ElasticNet(alpha=0.05, l1_ratio=0.5, fit_intercept=False, tol=1e-15, max_iter=10**6).fit(X / sd, y)
    np.testing.assert_allclose(est.coef_, net.coef_ / sd, rtol=RTOL, atol=RTOL * np.abs(net.coef_ / sd).max())


def test_alpha_with_weight_decay_is_refused():
    """torch's weight_decay penalises the bias too: with alpha the fit was certified against another objective
    and could never converge."""
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match="weight_decay .* and alpha .* two penalties"):
        fit(alpha=0.1, weight_decay=0.01).fit(X, y)


def test_alpha_none_is_a_clear_error():
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(TypeError, match="alpha must be a number .*got None"):
        fit(alpha=None).fit(X, y)


def test_large_ridge_penalty_is_sized_to_the_weights_not_the_bias():
    """The unpenalised bias's curvature (1) was the smallest eigenvalue under a ridge penalty above 1: alpha 1e6
    took 10,884 epochs (3 s), 1e9 ran out of epochs with coefficients of 1,487 for an answer of 1e-9 or so.
    Standardized, the bias starts at its optimum and the steps are sized to the weights."""
    X, y = load_diabetes(return_X_y=True)
    sd = X.std(axis=0)
    Xs, yc, n = (X - X.mean(axis=0)) / sd, y - y.mean(), len(y)
    for alpha in (1e3, 1e6, 1e9):
        est = fit(alpha=alpha).fit(X, y)
        exact = np.linalg.solve(Xs.T @ Xs / n + alpha * np.eye(10), Xs.T @ yc / n) / sd
        assert est.converged_ and est.n_iter_ < 100
        unit = y.std() / sd  # (the certificate's units: the coefficients themselves are far smaller)
        assert np.all(np.abs(est.coef_ - exact) <= 1e-9 * unit)
        assert est.intercept_ == pytest.approx(y.mean() - exact @ X.mean(axis=0), rel=1e-12)
