"""The module R calls: one call per fit, the intercept column dropped as a view."""

import numpy as np
import pytest

import gradlm
from gradlm import r_bridge


def test_fit_lm_drops_the_intercept_column_and_matches_lstsq_and_gdregressor():
    X, y = gradlm.datasets.crops()
    X64 = np.asfortranarray(np.column_stack([np.ones(15), X.numpy()]).astype(np.float64))
    X64.flags.writeable = False  # as reticulate hands R's model matrix over
    out = r_bridge.fit_lm(X64, y.numpy().astype(np.float64), drop_column=0, epochs=500, lr=0.5,
                          standardize=True, seed=0)
    weight, bias = gradlm.lstsq(X, y)
    np.testing.assert_allclose(out["lstsq_weight"], weight, rtol=1e-12)
    est = gradlm.GDRegressor(epochs=500, lr=0.5, standardize=True, seed=0).fit(X.double(), y.double())
    np.testing.assert_allclose(out["coef"], est.coef_, rtol=1e-12)  # (moments of R's column-major copy)
    np.testing.assert_allclose(out["fitted"], est.predict(X), rtol=1e-12)
    np.testing.assert_allclose(out["residuals"], y.numpy() - out["fitted"], rtol=1e-12)
    assert out["lstsq_loss"] == pytest.approx(gradlm.loss_at(weight, bias, X, y), rel=1e-10)
    assert out["loss"] == pytest.approx(gradlm.loss_at(est.coef_, est.intercept_, X, y), rel=1e-10)
    np.testing.assert_allclose(out["r_squared"], [
        1 - ((y[:, j].numpy() - out["fitted"][:, j]) ** 2).sum()
        / ((y[:, j].numpy() - y[:, j].numpy().mean()) ** 2).sum()
        for j in range(2)], rtol=1e-10)
    assert out["rank"] == 4 and out["df_residual"] == X.shape[0] - 4  # lm()'s rank: the intercept counts

