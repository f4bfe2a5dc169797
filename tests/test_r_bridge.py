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



def test_row_diagnostics_and_intervals_from_the_design_r_keeps():
    """R passes back the design dict alone (no coefficients) for the row diagnostics: 'Inference' object has no
    attribute 'params'."""
    X, y = gradlm.datasets.crops()
    X64 = np.column_stack([np.ones(15), X.numpy()]).astype(np.float64)
    out = r_bridge.fit_lm(X64, y.numpy()[:, 0].astype(np.float64), drop_column=0)
    design = out["inference"]["design"]
    rows = r_bridge.row_diagnostics(design, X64[:, 1:], out["residuals"])
    assert rows["hat"].shape == (15,) and np.isclose(rows["hat"].sum(), 4.0)  # the trace of the hat matrix: p
    pred = r_bridge.predict_intervals(design, out["coef"], out["intercept"], X64[:2, 1:], "confidence")
    np.testing.assert_allclose(pred["fit"][:, 0], out["fitted"][:2], rtol=1e-12)
