"""GDRegressor: scikit-learn conventions, standardization, agreement with least squares."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import cross_val_score

import gradlm


def test_standardized_fit_reaches_lstsq_to_1e_4():
    X, y = gradlm.datasets.crops()
    est = gradlm.GDRegressor(epochs=500, lr=0.5, standardize=True, seed=0).fit(X, y)
    weight, bias = gradlm.lstsq(X, y)
    assert est.coef_.shape == (2, 3) and est.intercept_.shape == (2,)
    np.testing.assert_allclose(est.coef_, weight, rtol=1e-4)
    np.testing.assert_allclose(est.intercept_, bias, rtol=1e-4)
    gap = est.optimality_gap(X, y)
    assert -1e-12 <= gap / gradlm.loss_at(weight, bias, X, y) < 1e-5  # (rounding can take it a hair below 0)


def test_matches_sklearn_linear_regression_and_r2():
    data = gradlm.datasets.make_regression(300, 4, outputs=2, noise=0.3, seed=1)
    X, y = data.X.numpy(), data.y.numpy()
    est = gradlm.GDRegressor(epochs=300, lr=0.5, standardize=True, seed=0).fit(X, y)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-4, atol=1e-5)
    assert est.score(X, y) == pytest.approx(r2_score(y, est.predict(X)), rel=1e-12)
    assert est.score(X, y) == pytest.approx(ref.score(X, y), rel=1e-6)


def test_without_standardize_coefficients_are_the_models():
    X, y = gradlm.datasets.line()
    est = gradlm.GDRegressor(epochs=50, lr=0.001, seed=59, standardize=False, fast=False).fit(X, y)
    torch.manual_seed(59)
    history = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=50, lr=0.001)
    np.testing.assert_allclose(est.coef_, history.weight, rtol=1e-7)
    np.testing.assert_array_equal(est.history_.loss, history.loss)


def test_seed_leaves_the_global_rng_alone():
    X, y = gradlm.datasets.line()
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    gradlm.GDRegressor(epochs=2, lr=1e-3, seed=5).fit(X, y)
    assert torch.equal(torch.rand(2), expected)


def test_one_dimensional_y_gives_sklearn_shapes():
    X, y = gradlm.datasets.numpy_points()
    est = gradlm.GDRegressor(epochs=300, lr=0.5, standardize=True, seed=0).fit(X.reshape(-1, 1), y)
    assert est.coef_.shape == (1,) and isinstance(est.intercept_, float)
    assert est.predict(X.reshape(-1, 1)).shape == (15,)
    slope, intercept = np.polyfit(X, y, 1)
    assert est.coef_[0] == pytest.approx(slope, rel=1e-4)
    assert est.intercept_ == pytest.approx(intercept, rel=1e-4)


def test_get_set_params_clone_and_cross_validation():
    est = gradlm.GDRegressor(epochs=200, lr=0.5, standardize=True, seed=0)
    params = est.get_params()
    assert params["lr"] == 0.5 and params["standardize"] is True
    copy = clone(est)
    assert copy.get_params() == params and copy is not est
    assert est.set_params(lr=0.25) is est and est.lr == 0.25
    with pytest.raises(ValueError, match="'lambda_' is not a parameter of GDRegressor"):
        est.set_params(lambda_=1.0)
    data = gradlm.datasets.make_regression(120, 3, noise=0.1, seed=2)
    X, y = data.X.numpy(), data.y.numpy()[:, 0]
    scores = cross_val_score(copy, X, y, cv=3)
    np.testing.assert_allclose(scores, cross_val_score(LinearRegression(), X, y, cv=3), rtol=1e-4)
    assert "lr=0.5" in repr(copy) and "epochs=200" in repr(copy)


def test_dataframes_keep_names_and_check_them_at_predict():
    frame = gradlm.datasets.crops().to_frame()
    X = frame[["temperature", "rainfall", "humidity"]]
    y = frame[["mangoes", "oranges"]]
    est = gradlm.GDRegressor(epochs=200, lr=0.5, standardize=True, seed=0).fit(X, y)
    assert list(est.feature_names_in_) == ["temperature", "rainfall", "humidity"]
    assert est.target_names_ == ["mangoes", "oranges"]
    assert est.predict(X).shape == (15, 2)
    with pytest.raises(ValueError, match="X has columns"):
        est.predict(X[["rainfall", "temperature", "humidity"]])
    with pytest.raises(ValueError, match="X has 2 features, but GDRegressor is expecting 3 features as input; pass "
                                         "the same columns it was fitted with"):
        est.predict(X.to_numpy()[:, :2])


def test_unfitted_and_non_numeric_input():
    """Predicting before fitting raised RuntimeError; scikit-learn's convention is its NotFittedError."""
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        gradlm.GDRegressor().predict(np.ones((2, 2)))
    with pytest.raises(gradlm.exceptions.NotFittedError):  # (without scikit-learn's bases: gradlm's own)
        gradlm.estimator.Regressor().predict(np.ones((2, 2)))
    assert gradlm.GDRegressor().__sklearn_tags__().target_tags.multi_output
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "region": ["x", "y", "z"]})
    with pytest.raises(TypeError, match="X has non-numeric column\\(s\\) 'region'"):
        gradlm.GDRegressor(epochs=1).fit(frame, [1.0, 2.0, 3.0])


def test_validation_is_standardized_like_the_training_data():
    X, y = gradlm.datasets.crops()
    est = gradlm.GDRegressor(epochs=200, lr=0.5, standardize=True, seed=0)
    est.fit(X[:10], y[:10], validation=(X[10:], y[10:]))
    final = est.history_.val_loss[-1]
    # the targets are standardized too: the loss is in units of their standard deviations
    direct = np.mean((est.predict(X[10:]) - y[10:].numpy()) ** 2 / est.y_scale_ ** 2)
    assert final == pytest.approx(direct, rel=1e-4)


def test_standardize_never_modifies_the_callers_data():
    data = gradlm.datasets.make_regression(200, 3, seed=4)
    X32 = data.X.numpy().copy()
    inputs = [X32, torch.from_numpy(X32.copy()), pd.DataFrame(X32.copy(), columns=["a", "b", "c"]),
              X32.astype(np.float64), X32.tolist()]
    for X in inputs:
        before = np.array(X, dtype=np.float64)
        est = gradlm.GDRegressor(epochs=50, lr=0.3, standardize=True, seed=0).fit(X, data.y)
        np.testing.assert_array_equal(np.array(X, dtype=np.float64), before)
        assert est.score(X, data.y) > 0.9
