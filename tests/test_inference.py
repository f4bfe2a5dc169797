"""lm()'s inference from the moments, against statsmodels' OLS/WLS and R's lm(), summary.lm() and anova()."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import torch
from sklearn.datasets import load_diabetes

import gradlm
from gradlm.inference import compare_nested, sequential_anova
from gradlm.streaming import stream

RTOL = 1e-6


def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[:, :6], y


def check_against(result, inf, row=0):
    """Every number summary.lm() prints, and the intervals, log-likelihood and criteria."""
    np.testing.assert_allclose(inf.params[row], result.params, rtol=RTOL)
    np.testing.assert_allclose(inf.bse[row], result.bse, rtol=RTOL)
    np.testing.assert_allclose(inf.tvalues[row], result.tvalues, rtol=RTOL)
    np.testing.assert_allclose(inf.pvalues[row], result.pvalues, rtol=RTOL, atol=1e-300)
    np.testing.assert_allclose(inf.sigma[row], np.sqrt(result.scale), rtol=RTOL)
    np.testing.assert_allclose(inf.ssr[row], result.ssr, rtol=RTOL)
    np.testing.assert_allclose(inf.rsquared[row], result.rsquared, rtol=RTOL)
    np.testing.assert_allclose(inf.rsquared_adj[row], result.rsquared_adj, rtol=RTOL)
    np.testing.assert_allclose(inf.fvalue[row], result.fvalue, rtol=RTOL)
    np.testing.assert_allclose(inf.f_pvalue[row], result.f_pvalue, rtol=RTOL, atol=1e-300)
    np.testing.assert_allclose(inf.llf[row], result.llf, rtol=RTOL)
    np.testing.assert_allclose(inf.aic[row], result.aic + 2, rtol=RTOL)  # lm() counts sigma; statsmodels does not
    np.testing.assert_allclose(inf.bic[row], result.bic + np.log(result.nobs), rtol=RTOL)
    np.testing.assert_allclose(inf.conf_int()[row], result.conf_int(), rtol=RTOL)
    cov = np.asarray(result.cov_params())  # (entries near 0 next to large ones: judged on the matrix's scale)
    np.testing.assert_allclose(inf.cov_params()[row], cov, rtol=RTOL, atol=1e-12 * np.abs(cov).max())
    assert inf.df_resid == result.df_resid and inf.df_model == result.df_model and inf.nobs == result.nobs


def test_ols_matches_statsmodels():
    X, y = diabetes()
    est = gradlm.GDRegressor().fit(X, y)
    assert est.converged_ and est.inference_.converged
    check_against(sm.OLS(y, sm.add_constant(X)).fit(), est.inference_)


def test_weighted_least_squares_matches_statsmodels_wls():
    X, y = diabetes()
    w = np.random.default_rng(0).uniform(0.2, 3.0, size=len(y))
    est = gradlm.GDRegressor().fit(X, y, sample_weight=w)
    check_against(sm.WLS(y, sm.add_constant(X), weights=w).fit(), est.inference_)
    ref = sm.WLS(y, sm.add_constant(X), weights=w).fit()
    np.testing.assert_allclose(est.score(X, y, sample_weight=w), ref.rsquared, rtol=1e-6)


def test_zero_weights_count_for_nothing_as_in_lm():
    """Rows of weight 0 are left out of nobs and the degrees of freedom, as lm() does."""
    X, y = diabetes()
    w = np.ones(len(y))
    w[::3] = 0.0
    inf = gradlm.GDRegressor().fit(X, y, sample_weight=w).inference_
    check_against(sm.OLS(y[w > 0], sm.add_constant(X[w > 0])).fit(), inf)


def test_no_intercept_matches_statsmodels_without_constant():
    """fit_intercept=False: R² from 0 (uncentred), F on all coefficients, as lm(y ~ x - 1)."""
    X, y = diabetes()
    est = gradlm.GDRegressor(fit_intercept=False).fit(X, y)
    assert est.intercept_ == 0.0
    check_against(sm.OLS(y, X).fit(), est.inference_)


def test_several_responses_each_as_its_own_fit():
    X, y = diabetes()
    Y = np.column_stack([y, X[:, 0] * 50 - y / 3 + np.sin(np.arange(len(y)))])
    inf = gradlm.GDRegressor().fit(X[:, 1:], Y).inference_
    for j in range(2):
        check_against(sm.OLS(Y[:, j], sm.add_constant(X[:, 1:])).fit(), inf, row=j)


def test_prediction_intervals_and_standard_errors_match_statsmodels():
    X, y = diabetes()
    inf = gradlm.GDRegressor().fit(X, y).inference_
    ref = sm.OLS(y, sm.add_constant(X)).fit().get_prediction(sm.add_constant(X[:7])).summary_frame(alpha=0.1)
    conf = inf.predict(X[:7], interval="confidence", level=0.9)
    pred = inf.predict(X[:7], interval="prediction", level=0.9)
    np.testing.assert_allclose(conf["fit"][:, 0], ref["mean"], rtol=RTOL)
    np.testing.assert_allclose(conf["se_fit"][:, 0], ref["mean_se"], rtol=RTOL)
    np.testing.assert_allclose(conf["lower"][:, 0], ref["mean_ci_lower"], rtol=RTOL)
    np.testing.assert_allclose(pred["upper"][:, 0], ref["obs_ci_upper"], rtol=RTOL)
    assert np.isnan(inf.predict(X[:2])["lower"]).all()  # interval="none"


def test_row_diagnostics_match_statsmodels_influence():
    X, y = diabetes()
    est = gradlm.GDRegressor().fit(X, y)
    out = est.inference_.influence(X, y - est.predict(X))
    ref = sm.OLS(y, sm.add_constant(X)).fit().get_influence()
    np.testing.assert_allclose(out["hat"], ref.hat_matrix_diag, rtol=RTOL)
    np.testing.assert_allclose(out["cooks_distance"][:, 0], ref.cooks_distance[0], rtol=RTOL)
    np.testing.assert_allclose(out["rstandard"][:, 0], ref.resid_studentized_internal, rtol=RTOL)
    np.testing.assert_allclose(out["rstudent"][:, 0], ref.resid_studentized_external, rtol=RTOL)


def test_sequential_anova_and_nested_comparison_match_statsmodels():
    X, y = diabetes()
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)]).assign(y=y)
    from statsmodels.formula.api import ols
    big = ols("y ~ x0 + x1 + x2 + x3 + x4 + x5", frame).fit()
    small = ols("y ~ x0 + x1", frame).fit()
    table = sm.stats.anova_lm(big)
    stats = gradlm.analytic.SufficientStatistics(*(gradlm.validation.check_X_y_view(X, y)))
    est = gradlm.GDRegressor().fit(X, y)
    # terms: x0 and x1 together, then x2 ... x5 one each
    out = sequential_anova(stats, [0, 1, 1, 2, 3, 4, 5], est.inference_)
    np.testing.assert_allclose(out["sum_sq"][0, 0], table["sum_sq"].iloc[:2].sum(), rtol=RTOL)
    np.testing.assert_allclose(out["sum_sq"][0, 1:], table["sum_sq"].iloc[2:6], rtol=RTOL)
    np.testing.assert_allclose(out["p_value"][0, 1:], table["PR(>F)"].iloc[2:6], rtol=RTOL)
    assert out["df"].tolist() == [2, 1, 1, 1, 1]
    nested = compare_nested([[small.ssr], [big.ssr]], [small.df_resid, big.df_resid])
    ref = sm.stats.anova_lm(small, big)
    np.testing.assert_allclose(nested["f_value"][1, 0], ref["F"].iloc[1], rtol=RTOL)
    np.testing.assert_allclose(nested["p_value"][1, 0], ref["Pr(>F)"].iloc[1], rtol=RTOL)


def test_not_converged_fits_say_so():
    X, y = diabetes()
    with pytest.warns(gradlm.ConvergenceWarning):
        est = gradlm.GDRegressor(epochs=3).fit(X, y)
    assert not est.inference_.converged
    assert "Not converged" in est.summary()
    # computed at the fitted coefficients, not at least squares'
    np.testing.assert_allclose(est.inference_.params[0, 1:], est.coef_)


def test_sample_weight_bad_values_are_named():
    X, y = diabetes()
    for w, message in [(-np.ones(len(y)), "finite and >= 0"), (np.ones(3), "has 3 values, but X has"),
                       (np.zeros(len(y)), "zero for every row"), (np.r_[np.nan, np.ones(len(y) - 1)], "finite")]:
        with pytest.raises(ValueError, match=message):
            gradlm.GDRegressor().fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match="sample_weight trains full batch"):
        gradlm.GDRegressor(batch_size=32).fit(X, y, sample_weight=np.ones(len(y)))
    with pytest.raises(ValueError, match="fit_intercept=False trains full batch"):
        gradlm.GDRegressor(batch_size=32, fit_intercept=False).fit(X, y)


def test_rank_is_decided_on_the_scaled_problem(R):
    """mpg ~ wt + hp + factor(cyl) + I(hp^2): rank 5 from the unscaled moments, lm()'s 6 on the scaled ones."""
    A = np.asarray(R("model.matrix(~ wt + hp + factor(cyl) + I(hp^2), mtcars)"))
    y = np.asarray(R("mtcars$mpg"))
    inf = gradlm.GDRegressor().fit(A[:, 1:], y).inference_
    assert inf.rank == 6 == int(R("lm(mpg ~ wt + hp + factor(cyl) + I(hp^2), mtcars)$rank")[0])
    assert inf.df_resid == 26 and not inf.aliased.any()
    np.testing.assert_allclose(inf.bse[0], np.asarray(R(
        "coef(summary(lm(mpg ~ wt + hp + factor(cyl) + I(hp^2), mtcars)))[, 2]")), rtol=RTOL)


def test_longley_summary_matches_lm(R):
    A = np.asarray(R("as.matrix(longley[, 1:6])"))
    y = np.asarray(R("longley$Employed"))
    inf = gradlm.GDRegressor().fit(A, y).inference_
    table = np.asarray(R("coef(summary(lm(Employed ~ ., longley)))"))
    np.testing.assert_allclose(inf.params[0], table[:, 0], rtol=RTOL)
    np.testing.assert_allclose(inf.bse[0], table[:, 1], rtol=RTOL)
    np.testing.assert_allclose(inf.pvalues[0], table[:, 3], rtol=RTOL)
    np.testing.assert_allclose(inf.fvalue[0], R("summary(lm(Employed ~ ., longley))$fstatistic[1]")[0], rtol=RTOL)


def test_collinear_predictors_are_aliased_as_lm_does():
    """Every coefficient a null direction touched was NaN (all 18 of a rank-15 fit); lm() aliases the columns that
    are combinations of the ones before them, and reports the others from the model without them."""
    X, y = diabetes()
    Xc = np.column_stack([X[:, :2], X[:, 0] + X[:, 1], X[:, 2:], 2 * X[:, 3]])
    est = gradlm.GDRegressor().fit(Xc, y)
    inf = est.inference_
    assert inf.rank == 7 and inf.df_resid == len(y) - 7
    assert inf.aliased.tolist() == [False, False, False, True, False, False, False, False, True]
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    kept = ~inf.aliased
    np.testing.assert_allclose(inf.params[0, kept], ref.params, rtol=RTOL)
    np.testing.assert_allclose(inf.bse[0, kept], ref.bse, rtol=RTOL)
    assert np.isnan(inf.params[0, ~kept]).all() and np.isnan(inf.bse[0, ~kept]).all()
    np.testing.assert_allclose(inf.predict(Xc[:5])["fit"][:, 0], est.predict(Xc[:5]), rtol=1e-9)
    np.testing.assert_allclose(inf.predict(Xc[:5], interval="confidence")["se_fit"][:, 0],
                               ref.get_prediction(sm.add_constant(X[:5])).se_mean, rtol=RTOL)


def test_rank_deficient_without_residual_degrees_of_freedom_aliases_as_lm(R):
    """crops with a 15-level factor: rank 15 of 18, df 0; lm() aliases the last three columns only."""
    A = np.asarray(R("model.matrix(~ factor(1:15) + temperature + rainfall + humidity, "
                     "data.frame(temperature = c(73, 91, 87, 102, 69, 74, 91, 88, 101, 68, 73, 92, 87, 103, 68), "
                     "rainfall = c(67, 88, 134, 43, 96, 66, 87, 135, 44, 96, 66, 87, 134, 43, 97), "
                     "humidity = c(43, 64, 58, 37, 70, 44, 65, 59, 38, 71, 43, 64, 58, 37, 70)))"))
    y = np.arange(15.0) ** 1.5
    inf = gradlm.GDRegressor().fit(A[:, 1:], y).inference_
    assert inf.rank == 15 and inf.df_resid == 0
    assert inf.aliased.tolist() == [False] * 15 + [True] * 3


@pytest.fixture
def parquet_folder(tmp_path):
    pytest.importorskip("pyarrow")
    X, y = diabetes()
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)]).assign(y=y)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(y)), 3)):
        frame.iloc[part].to_parquet(folder / f"part-{i}.parquet")
    return folder, X, y


def test_streamed_fit_has_the_in_memory_standard_errors(parquet_folder):
    folder, X, y = parquet_folder
    streamed = gradlm.GDRegressor().fit(stream(str(folder), target=["y"]), None).inference_
    in_memory = gradlm.GDRegressor().fit(X, y).inference_
    for name in ("params", "bse", "pvalues", "rsquared", "fvalue", "llf"):
        np.testing.assert_allclose(getattr(streamed, name), getattr(in_memory, name), rtol=1e-8, err_msg=name)


TWO_PROCESSES = r"""
import json, os, sys, gradlm
from gradlm.streaming import stream
est = gradlm.GDRegressor(distributed=True).fit(stream(sys.argv[1], target=["y"]), None)
if gradlm.distributed.is_main_process():
    with open(sys.argv[2], "w") as fh:
        json.dump({"bse": est.inference_.bse.tolist(), "params": est.inference_.params.tolist(),
                   "nobs": est.inference_.nobs}, fh)
gradlm.distributed.shutdown()
sys.stdout.flush(); sys.stderr.flush(); os._exit(0)  # (gloo can abort finalization: see gradlm.distributed)
"""


def two_processes(code, folder, tmp_path):
    """Run ``code`` (a script of ``folder`` and a report path) in 2 processes under torchrun; its JSON report."""
    script, report = tmp_path / "processes.py", tmp_path / "report.json"
    script.write_text(code)
    out = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                          str(script), str(folder), str(report)], capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(report.read_text())


def test_two_process_fit_has_the_in_memory_standard_errors(parquet_folder, tmp_path):
    folder, X, y = parquet_folder
    got = two_processes(TWO_PROCESSES, folder, tmp_path)
    in_memory = gradlm.GDRegressor().fit(X, y).inference_
    assert got["nobs"] == len(y)
    np.testing.assert_allclose(got["bse"], in_memory.bse, rtol=1e-8)
    np.testing.assert_allclose(got["params"], in_memory.params, rtol=1e-8)


def test_fit_with_sample_weight_reaches_weighted_least_squares():
    """gradlm.fit took no sample_weight ("unexpected keyword argument")."""
    X, y = diabetes()
    w = np.random.default_rng(1).uniform(0.1, 2.0, size=len(y))
    model = gradlm.LinearModel(6, 1, dtype=torch.float64)
    history = gradlm.fit(model, X, y, sample_weight=w)
    ref = sm.WLS(y, sm.add_constant(X), weights=w).fit().params
    assert history.converged
    np.testing.assert_allclose(np.r_[model.bias.detach().numpy(), model.weight.detach().numpy()[0]], ref, rtol=1e-6)
    weight, bias = gradlm.lstsq(X, y, sample_weight=w)
    np.testing.assert_allclose(np.r_[bias, weight[0]], ref, rtol=1e-9)
    with pytest.raises(ValueError, match="sample_weight trains full batch"):
        gradlm.fit(gradlm.LinearModel(6, 1), X, y, sample_weight=w, batch_size=16, lr=0.01, epochs=1)


def test_streamed_weight_column_gives_weighted_least_squares(tmp_path):
    """Streams had no way to carry weights."""
    pytest.importorskip("pyarrow")
    X, y = diabetes()
    w = np.random.default_rng(2).uniform(0.0, 2.0, size=len(y))
    w[:40] = 0.0  # a whole row group of weight 0
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)]).assign(y=y, w=w)
    frame.iloc[:40].to_parquet(tmp_path / "a.parquet")
    frame.iloc[40:].to_parquet(tmp_path / "b.parquet")
    data = stream(str(tmp_path), target="y", weight="w")
    assert data.n_features == 6  # (the weight column is not a feature)
    streamed = gradlm.GDRegressor().fit(data, None).inference_
    kept = w > 0  # (statsmodels counts rows of weight 0 in nobs; lm() and gradlm do not)
    check_against(sm.WLS(y[kept], sm.add_constant(X[kept]), weights=w[kept]).fit(), streamed)
    with pytest.raises(ValueError, match="trains full batch"):
        gradlm.GDRegressor(batch_size=32).fit(data, None)
    with pytest.raises(ValueError, match="weight column 'w' trains full batch"):
        gradlm.fit(gradlm.LinearModel(6, 1), data, None, batch_size=32, lr=0.01, epochs=1)
    frame.assign(w=-w).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(ValueError, match="weight column 'w' has a missing, negative or infinite value"):
        gradlm.GDRegressor().fit(stream(str(tmp_path), target="y", weight="w"), None)


def test_saturated_fit_has_nan_where_lm_has_nan():
    """n = p: no residual degrees of freedom; the core raised ZeroDivisionError."""
    X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0]])
    inf = gradlm.GDRegressor().fit(X, np.array([1.0, 3.0, 2.0])).inference_
    assert inf.df_resid == 0 and np.isnan(inf.sigma).all() and np.isnan(inf.rsquared_adj).all()
    assert np.isnan(inf.fvalue).all() and np.isnan(inf.bse).all()


def test_fit_results_have_the_same_inference(parquet_folder):
    """gradlm.fit's History gives lm()'s numbers too, from arrays, a Stream or the moments."""
    folder, X, y = parquet_folder
    model = gradlm.LinearModel(6, 1, dtype=torch.float64)
    history = gradlm.fit(model, X, y)
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    check_against(ref, history.inference(X, y))
    check_against(ref, history.inference(stream(str(folder), target=["y"])))
    stats = gradlm.analytic.SufficientStatistics(torch.as_tensor(X), torch.as_tensor(y)[:, None])
    check_against(ref, history.inference(stats))
    with pytest.raises(ValueError, match="pass neither y nor sample_weight"):
        history.inference(stats, y)


def test_near_exact_fits_take_the_residuals_from_the_rows():
    """sigma came from the moments, whose rounding (eps * TSS) swamped a near-exact fit's RSS: 500x too small."""
    X, _ = diabetes()
    y = X @ np.arange(1.0, 7.0) * 100 + 5e-7 * np.random.default_rng(0).normal(size=len(X))
    inf = gradlm.GDRegressor().fit(X, y).inference_
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(inf.sigma[0], np.sqrt(ref.scale), rtol=1e-3)
    np.testing.assert_allclose(inf.bse[0], ref.bse, rtol=1e-3)


def test_not_converged_r_squared_is_the_share_explained_by_the_coefficients_reached():
    """R² was MSS / (MSS + RSS), which holds at least squares only: 0.566 where score() gave -13.2."""
    X, y = diabetes()
    with pytest.warns(gradlm.ConvergenceWarning):
        est = gradlm.GDRegressor(epochs=2).fit(X, y)
    np.testing.assert_allclose(est.inference_.rsquared[0], est.score(X, y), rtol=1e-9)
    assert "Least squares" in est.summary()  # the exact column beside the estimates


def test_user_slips_are_errors_not_silent_numbers():
    X, y = diabetes()
    w = np.random.default_rng(3).uniform(0.5, 2.0, size=len(y))
    frame = pd.DataFrame(X, columns=list("abcdef"))
    est = gradlm.GDRegressor().fit(frame, y, sample_weight=w)
    with pytest.raises(ValueError, match="this fit was weighted"):
        est.inference_.influence(frame, y - est.predict(frame))
    with pytest.raises(ValueError, match="fitted with"):
        est.inference_.predict(frame[list("bacdef")])
    with pytest.raises(ValueError, match="pred_weight has 3 values"):
        est.inference_.predict(frame[:5], interval="prediction", pred_weight=[1, 2, 3])
    history = gradlm.fit(gradlm.LinearModel(6, 1, dtype=torch.float64), X, y, sample_weight=w)
    with pytest.raises(ValueError, match="this fit was weighted"):
        history.inference(X, y)
    with pytest.raises(ValueError, match="weight must be"):
        history.inference(X[:, :5], y, sample_weight=w)
    assert "\na " in est.inference_.summary()  # the column names, not x1, x2


def test_saturated_fit_intervals_are_nan_not_errors():
    X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0]])
    inf = gradlm.GDRegressor().fit(X, np.array([1.0, 3.0, 2.0])).inference_
    assert np.isnan(inf.conf_int()).all()
    assert np.isnan(inf.predict(X, interval="prediction")["lower"]).all()


def test_conf_int_takes_statsmodels_alpha_and_r_level():
    X, y = diabetes()
    inf = gradlm.GDRegressor().fit(X, y).inference_
    ref = sm.OLS(y, sm.add_constant(X)).fit().conf_int(alpha=0.1)
    np.testing.assert_allclose(inf.conf_int(0.1)[0], ref, rtol=1e-6)
    np.testing.assert_allclose(inf.conf_int(level=np.float32(0.9))[0], ref, rtol=1e-6)


def test_anova_leaves_out_a_term_that_adds_no_rank_as_lm():
    """A term collinear with the ones before it: f_sf raised on its 0 degrees of freedom."""
    X, y = diabetes()
    Xc = np.column_stack([X[:, :3], X[:, 0] + X[:, 1]])
    stats = gradlm.analytic.SufficientStatistics(*(gradlm.validation.check_X_y_view(Xc, y)))
    out = sequential_anova(stats, [0, 1, 2, 3, 4], gradlm.GDRegressor().fit(Xc, y).inference_)
    assert out["df"].tolist() == [1, 1, 1] and out["term"].tolist() == [1, 2, 3]
    assert np.isfinite(out["p_value"]).all()


def test_rows_of_leverage_one_get_nan_as_in_lm(R):
    """A cell of one row in a cyl x gear interaction: Cook's distance 9.6e8 (rounding over 1 - h = 0); lm(): NaN."""
    A = np.asarray(R("model.matrix(~ factor(cyl) * factor(gear), mtcars)"))
    y = np.asarray(R("mtcars$mpg"))
    est = gradlm.GDRegressor().fit(A[:, 1:], y)
    out = est.inference_.influence(A[:, 1:], y - est.predict(A[:, 1:]))
    ref_cooks = np.asarray(R("cooks.distance(lm(mpg ~ factor(cyl) * factor(gear), mtcars))"))
    ref_hat = np.asarray(R("hatvalues(lm(mpg ~ factor(cyl) * factor(gear), mtcars))"))
    np.testing.assert_array_equal(np.isnan(out["cooks_distance"][:, 0]), np.isnan(ref_cooks))
    assert np.isnan(ref_cooks).sum() == 2
    ok = ~np.isnan(ref_cooks)
    np.testing.assert_allclose(out["cooks_distance"][ok, 0], ref_cooks[ok], rtol=1e-6)
    np.testing.assert_allclose(out["hat"], ref_hat, rtol=1e-6, atol=1e-12)
    ref_sigma = np.asarray(R("influence(lm(mpg ~ factor(cyl) * factor(gear), mtcars))$sigma"))
    np.testing.assert_allclose(out["sigma"][:, 0], ref_sigma, rtol=1e-6)


def test_reml_log_likelihood_matches_lm(R):
    """logLik(fit, REML = TRUE) was ignored (-74.33 for lm()'s -77.87)."""
    A = np.asarray(R("as.matrix(mtcars[, c('wt', 'hp')])"))
    y = np.asarray(R("mtcars$mpg"))
    inf = gradlm.GDRegressor().fit(A, y).inference_
    np.testing.assert_allclose(inf.llf_reml[0], R("as.numeric(logLik(lm(mpg ~ wt + hp, mtcars), REML = TRUE))")[0],
                               rtol=1e-9)


def test_drop_terms_matches_statsmodels_partial_f_tests():
    """drop1()'s sums of squares from the fit's inference: each term against the full model."""
    from gradlm.inference import drop_terms

    X, y = diabetes()
    inf = gradlm.GDRegressor().fit(X, y).inference_
    out = drop_terms(inf.to_dict(), [0, 1, 1, 2, 3, 4, 5], [1, 4])
    full = sm.OLS(y, sm.add_constant(X)).fit()
    for t, cols in ((0, [0, 1]), (1, [4])):  # (term 4 is the fifth column)
        small = sm.OLS(y, sm.add_constant(np.delete(X, cols, axis=1))).fit()
        np.testing.assert_allclose(out["rss"][0, t], small.ssr, rtol=1e-9)
        np.testing.assert_allclose(out["p_value"][0, t], sm.stats.anova_lm(small, full)["Pr(>F)"].iloc[1], rtol=1e-6)


def test_rss_of_large_coefficients_on_near_collinear_columns_comes_from_the_rows():
    """The moments' RSS cancelled to 25604 where the rows give 19.6 (R² -399) for x2 = x1 + 1e-6 e."""
    rng = np.random.default_rng(5)
    x1 = rng.normal(size=30)
    X = np.column_stack([x1, x1 + 1e-6 * rng.normal(size=30), rng.normal(size=30)])
    y = X @ np.array([1.0, 2.0, 3.0]) + rng.normal(size=30)
    weight, bias = gradlm.lstsq(X, y)
    inf = gradlm.inference.infer(weight, bias, X, y)
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(inf.ssr[0], ref.ssr, rtol=1e-8)
    np.testing.assert_allclose(inf.bse[0], ref.bse, rtol=1e-5)


def test_a_constant_column_like_0_1_is_aliased_not_huge():
    """0.1 is not exact in binary: centring left a residue that scaling blew up to a column (coefficient 7e6)."""
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=7), np.full(7, 0.1)]
    y = 1 + X[:, 0] + rng.normal(size=7)
    est = gradlm.GDRegressor(seed=0).fit(X, y)
    assert est.inference_.aliased.tolist() == [False, False, True] and est.inference_.df_resid == 5
    np.testing.assert_allclose(est.inference_.bse[0, :2], sm.OLS(y, sm.add_constant(X[:, :1])).fit().bse, rtol=1e-6)
    assert abs(est.coef_[1]) < 1e-6


def test_anova_degrees_of_freedom_add_up_with_near_collinear_columns():
    """The anova used its own tolerance: df [1, 1] with 26 residual df for n - 1 = 29."""
    rng = np.random.default_rng(6)
    x1 = rng.normal(size=30)
    for delta in (1e-10, 1e-7, 1e-5):
        X = np.column_stack([x1, x1 + delta * rng.normal(size=30), rng.normal(size=30)])
        y = X[:, 0] + X[:, 2] + rng.normal(size=30)
        stats = gradlm.analytic.SufficientStatistics(*(gradlm.validation.check_X_y_view(X, y)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gradlm.ConvergenceWarning)  # (gradient descent cannot, on 1e-7 and 1e-5)
            inf = gradlm.GDRegressor().fit(X, y).inference_
        out = sequential_anova(stats, [0, 1, 2, 3], inf)
        assert out["df"].sum() + inf.df_resid == 29, delta
        if inf.converged:  # (the residual row is the fit's)
            np.testing.assert_allclose(out["sum_sq"].sum() + inf.ssr[0], stats.yy[0].item(), rtol=1e-6)


def test_drop1_with_aliased_columns_is_refused():
    """drop_terms gave df [1, 1, 0] where lm()'s drop1 gives 0 (the aliased column takes over)."""
    from gradlm.inference import drop_terms

    X, y = diabetes()
    Xc = np.column_stack([X[:, :2], X[:, 0] + X[:, 1]])
    with pytest.raises(ValueError, match="without aliased coefficients"):
        drop_terms(gradlm.GDRegressor().fit(Xc, y).inference_.to_dict(), [0, 1, 2, 3], [1, 2, 3])


ZERO_WEIGHT_SHARD = r"""
import json, os, sys, gradlm
from gradlm.streaming import stream
est = gradlm.GDRegressor(distributed=True).fit(stream(sys.argv[1], target="y", weight="w"), None)
if gradlm.distributed.is_main_process():
    with open(sys.argv[2], "w") as fh:
        json.dump({"bse": est.inference_.bse.tolist(), "nobs": est.inference_.nobs}, fh)
gradlm.distributed.shutdown()
sys.stdout.flush(); sys.stderr.flush(); os._exit(0)
"""


def test_a_process_whose_shard_has_only_zero_weights_joins_the_others(tmp_path):
    """That process raised "0 rows" before the merge, and the other waited for it until killed."""
    pytest.importorskip("pyarrow")
    X, y = diabetes()
    w = np.ones(len(y))
    w[200:] = 0.0
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)]).assign(y=y, w=w)
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:200].to_parquet(folder / "a.parquet")
    frame.iloc[200:].to_parquet(folder / "b.parquet")  # the second process's shard: weight 0 throughout
    got = two_processes(ZERO_WEIGHT_SHARD, folder, tmp_path)
    assert got["nobs"] == 200
    np.testing.assert_allclose(got["bse"][0], sm.OLS(y[:200], sm.add_constant(X[:200])).fit().bse, rtol=1e-8)


def test_one_row_and_all_constant_columns_fit_as_lm():
    """Every column constant (here, one row): nothing kept, and the design must not index an empty spectrum."""
    inf = gradlm.GDRegressor().fit(np.array([[2.0, 3.0]]), np.array([5.0])).inference_
    assert inf.rank == 1 and inf.aliased.tolist() == [False, True, True] and inf.df_resid == 0
    np.testing.assert_allclose(inf.params[0, 0], 5.0)
