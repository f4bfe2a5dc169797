"""gradlm against R's lm(), computed in R embedded through rpy2 (no Python objects cross into R)."""

import shutil

import numpy as np
import pytest

import gradlm

pytestmark = pytest.mark.skipif(shutil.which("R") is None, reason="R is not installed")


@pytest.mark.parametrize("data, formula", [
    ("mtcars", "mpg ~ wt + hp + qsec"),
    ("stackloss", "stack.loss ~ Air.Flow + Water.Temp + Acid.Conc."),
    ("trees", "Volume ~ Girth + Height"),
])
def test_lstsq_and_gdregressor_match_lm(R, data, formula):
    lhs, rhs = [s.strip() for s in formula.split("~")]
    terms = [t.strip() for t in rhs.split("+")]
    X = np.asarray(R(f"as.matrix({data}[, c({', '.join(repr(t) for t in terms)})])"), dtype=np.float64)
    y = np.asarray(R(f"{data}[[{lhs!r}]]"), dtype=np.float64)
    lm_coef = np.asarray(R(f"coef(lm({formula}, data = {data}))"))
    weight, bias = gradlm.lstsq(X, y)
    np.testing.assert_allclose(np.r_[bias, weight[0]], lm_coef, rtol=1e-9)
    est = gradlm.GDRegressor(epochs=5000, lr=0.2, standardize=True, seed=0, dtype="float64").fit(X, y)
    np.testing.assert_allclose(np.r_[est.intercept_, est.coef_], lm_coef, rtol=1e-4)
