"""Warm starts, partial_fit and a history that keeps the loss only."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes

import gradlm
from gradlm.loop import ParameterPath


def quiet(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gradlm.ConvergenceWarning)
        return est.fit(*args, **kwargs)


def test_history_loss_keeps_a_few_parameter_sets_whatever_the_epochs():
    """A pickled estimator held every epoch's weights: 500 features x 5,000 epochs was 10 MB for 1.2 MB of data."""
    X, y = gradlm.datasets.make_regression(300, 100, seed=0)
    params = dict(lr=1e-4, momentum=0.0, seed=0)
    full = quiet(gradlm.GDRegressor(history="full", epochs=1000, **params), X, y)
    lean = quiet(gradlm.GDRegressor(epochs=1000, **params), X, y)
    short = quiet(gradlm.GDRegressor(epochs=100, **params), X, y)
    assert full.n_iter_ == lean.n_iter_ == 1000
    np.testing.assert_array_equal(full.coef_, lean.coef_)
    np.testing.assert_array_equal(full.history_.loss, lean.history_.loss)
    assert full.history_.weight_path.shape == (1000, 1, 100) and lean.history_.weight_path.shape == (0, 1, 100)
    assert len(pickle.dumps(full)) - len(pickle.dumps(lean)) > 1000 * 100 * 8
    # the lean estimator's size grows only by the losses' 8 bytes an epoch (its moments are O(d^2), once)
    assert len(pickle.dumps(lean)) - len(pickle.dumps(short)) < 900 * 8 * 2


def test_parameter_path_keeps_the_first_the_latest_and_what_is_needed():
    path = ParameterPath(keep=False)
    for i in range(10):
        path.append(i)
        path.keep_only({3, 4})
    assert len(path) == 10 and [path[i] for i in (0, 3, 4, 9)] == [0, 3, 4, 9]
    with pytest.raises(KeyError):
        path[5]
    assert path.first(10) == []


def test_patience_rolls_back_alike_with_the_loss_only_history():
    X, y = gradlm.datasets.make_regression(400, 4, noise=1.0, seed=1)
    val = gradlm.datasets.make_regression(200, 4, noise=1.0, seed=2)
    fits = []
    for history in ("full", "loss"):
        torch.manual_seed(0)
        fits.append(gradlm.fit(gradlm.LinearModel(4, 1, dtype=torch.float64), X.double(), y.double(), epochs=300,
                               lr=0.05, batch_size=16, seed=0, validation=(val.X.double(), val.y.double()),
                               patience=5, history=history))
    assert fits[0].stop_reason == fits[1].stop_reason == "patience"
    np.testing.assert_array_equal(fits[0].weight, fits[1].weight)
    with pytest.raises(ValueError, match="history must be one of"):
        gradlm.fit(gradlm.LinearModel(4, 1), X, y, epochs=2, lr=0.1, history="weights")


def test_warm_start_continues_from_the_last_fit():
    X, y = load_diabetes(return_X_y=True)
    est = gradlm.GDRegressor(warm_start=True, seed=0).fit(X, y)
    cold_epochs = est.n_iter_
    assert est.converged_ and cold_epochs > 10
    again = est.fit(X, y)  # at the optimum already (within tol): a few epochs certify it again
    assert again.converged_ and again.n_iter_ < cold_epochs / 3
    shifted = y + np.random.default_rng(0).normal(scale=1.0, size=len(y))  # new data, close to the old
    warm = est.fit(X, shifted).n_iter_
    cold = gradlm.GDRegressor(seed=0).fit(X, shifted)
    assert est.converged_ and warm < cold.n_iter_
    np.testing.assert_allclose(est.coef_, cold.coef_, rtol=1e-8, atol=1e-8 * np.abs(cold.coef_).max())


def test_warm_start_with_other_features_starts_afresh():
    X, y = load_diabetes(return_X_y=True)
    est = gradlm.GDRegressor(warm_start=True, seed=0).fit(X, y)
    est.fit(X[:, :4], y)
    fresh = gradlm.GDRegressor(seed=0).fit(X[:, :4], y)
    np.testing.assert_array_equal(est.coef_, fresh.coef_)


def test_partial_fit_over_chunks_is_judged_on_all_the_data_seen():
    data = gradlm.datasets.make_regression(6000, 5, noise=0.5, seed=3)
    X, y = data.X.numpy().astype(np.float64), data.y.numpy()[:, 0].astype(np.float64)
    est = gradlm.GDRegressor(seed=0, lr=0.02)  # (the automatic mini-batch step is larger: a wider noise band)
    for _ in range(3):
        for start in range(0, 6000, 1000):
            est.partial_fit(X[start : start + 1000], y[start : start + 1000])
    exact = gradlm.lstsq(X, y)
    # the least squares of all the data seen, from the merged moments of the chunks (seen 3 times: same solution)
    np.testing.assert_allclose(est.lstsq_.weight, exact.weight, rtol=1e-10)
    assert est.report_.coef_error < 0.05  # a constant-step SGD's noise band around it
    assert est.n_iter_ == 1 and est.inference_ is not None and "Residual standard error" in est.summary()
    np.testing.assert_allclose(est.coef_, exact.weight[0], rtol=0.05, atol=0.01)


def test_partial_fit_epochs_over_the_same_chunks_count_each_row_once():
    """New-user review: five epochs of partial_fit over the diabetes data's chunks gave 2,199 residual degrees of
    freedom for 442 rows (t values sqrt(5) too large, no warning): each pass was merged into the moments as new
    rows. A chunk seen before is now recognised by its moments and counted once."""
    X, y = load_diabetes(return_X_y=True)
    est = gradlm.GDRegressor(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(5):
            for i in range(0, 442, 100):
                est.partial_fit(X[i : i + 100], y[i : i + 100])
    full = gradlm.GDRegressor().fit(X, y)
    assert est.inference_.nobs == 442 and est.inference_.df_resid == full.inference_.df_resid == 431
    np.testing.assert_allclose(est.lstsq_.weight, full.lstsq_.weight, rtol=1e-9)
    # the same rows again after fit(): still 442
    full.partial_fit(X, y)
    assert full.inference_.nobs == 442
    # new rows do count
    est.partial_fit(X[:50] + 1.0, y[:50])
    assert est.inference_.nobs == 492


def test_partial_fit_after_fit_starts_from_its_coefficients():
    X, y = load_diabetes(return_X_y=True)
    est = gradlm.GDRegressor(seed=0).fit(X[:300], y[:300])
    before = est.coef_.copy()
    est.set_params(lr=1e-9).partial_fit(X[300:], y[300:])  # a negligible step: the start is fit's result
    np.testing.assert_allclose(est.coef_, before, rtol=1e-6)
    np.testing.assert_allclose(est.lstsq_.weight[0], gradlm.lstsq(X, y).weight[0], rtol=1e-9)


def test_partial_fit_clear_errors():
    X, y = load_diabetes(return_X_y=True)
    est = gradlm.GDRegressor().partial_fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="X has 4 features, but GDRegressor is expecting 10 features"):
        est.partial_fit(X[:100, :4], y[:100])
    with pytest.raises(ValueError, match="partial_fit takes no sample_weight"):
        est.partial_fit(X[:100], y[:100], sample_weight=np.ones(100))


def test_partial_fit_on_a_stream(tmp_path):
    data = gradlm.datasets.make_regression(3000, 3, noise=0.1, seed=4)
    np.save(tmp_path / "X.npy", data.X.numpy())
    np.save(tmp_path / "y.npy", data.y.numpy())
    source = gradlm.stream(tmp_path / "X.npy", target=tmp_path / "y.npy", chunk_rows=500)
    est = gradlm.GDRegressor(seed=0, lr=0.02)
    for _ in range(3):
        est.partial_fit(source)
    exact = gradlm.lstsq(data.X.double(), data.y.double())
    assert np.abs(est.coef_[0] - exact.weight[0]).max() < 0.05 * np.abs(exact.weight).max()


def test_early_stopping_on_held_out_rows_is_not_stopped_by_heavy_balls_transient():
    """Heavy ball's loss rose for a while (1.47 -> 9.7) before it fell: patience ran out, and the fit went back
    to epoch 1, R² -1.56 on diabetes (least squares: 0.518), silently. With patience, plain steps."""
    X, y = load_diabetes(return_X_y=True)
    est = gradlm.GDRegressor(seed=0, validation_fraction=0.2).fit(X, y)
    assert est.history_.settings["momentum"] == 0.0
    assert est.score(X, y) > 0.5


def test_nesterov_with_a_given_momentum_takes_nesterovs_step():
    """lr='auto' gave heavy ball's step, beyond Nesterov's stable region: a DivergenceError at epoch 11."""
    X, y = load_diabetes(return_X_y=True)
    est = gradlm.GDRegressor(momentum=0.9, nesterov=True).fit(X, y)
    assert est.converged_


def test_warm_start_must_be_a_bool():
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(TypeError, match="warm_start must be True or False"):
        gradlm.GDRegressor(warm_start="yes").fit(X, y)


def test_partial_fit_invscaling_decays_across_calls():
    """Each partial_fit call was a fresh epoch at the schedule's first rate: invscaling changed nothing."""
    data = gradlm.datasets.make_regression(6000, 5, noise=0.5, seed=3)
    X, y = data.X.numpy().astype(np.float64), data.y.numpy()[:, 0].astype(np.float64)
    constant = gradlm.GDRegressor(seed=0, lr=0.1)
    decaying = gradlm.GDRegressor(seed=0, lr=0.1, lr_schedule="invscaling")
    for call, start in enumerate(range(0, 6000, 1000)):
        for est in (constant, decaying):
            est.partial_fit(X[start : start + 1000], y[start : start + 1000])
        if call == 0:  # call 1 runs at lr / 1 ** 0.25: the same step
            np.testing.assert_array_equal(decaying.coef_, constant.coef_)
    assert np.abs(decaying.coef_ - constant.coef_).max() > 1e-6
    with pytest.raises(ValueError, match="partial_fit has no last one"):
        gradlm.GDRegressor(lr_schedule="cosine").partial_fit(X[:100], y[:100])
