"""gradlm.distributions (t, F and incomplete beta without scipy) against scipy, R, a 50-digit mpmath reference and
closed forms.

The tolerance is a relative error of 1e-10 (an absolute one of 1e-300 where a value underflows); the module reaches
about 1e-13. Grids cover the degrees of freedom of small and huge fits (1 to 1e7) and tails down to 1e-300, where
the p values must be computed directly, not as 1 minus something close to 1.
"""

import math
import shutil
import subprocess
import sys

import numpy as np
import pytest

from gradlm import distributions as D

RTOL = 1e-10
DFS = [1.0, 2.0, 3.0, 5.0, 10.0, 26.0, 30.0, 100.0, 1e4, 1e7]
QUANTILE_PS = [1e-10, 0.001, 0.025, 0.05, 0.5, 0.9, 0.975, 0.995]
# From the centre to the far tails: P(T > t) reaches 1e-300 at t = 1e300 for df = 1, near 1e11 for df = 30 and at
# t = 37 for df = 1e7 (the log-spaced tail has a point every half decade, so every df gets p values in
# [1e-300, 1e-250]).
T_GRID = np.concatenate([np.geomspace(1e-3, 50.0, 41), np.arange(30.0, 39.0), np.geomspace(60.0, 1e300, 600)])
F_GRID = [1e-3, 0.1, 0.5, 0.9, 0.99, 1.0, 1.01, 1.1, 2.0, 3.0, 5.0, 10.0, 30.0, 100.0, 1e3, 1e4, 1e8, 1e20, 1e50,
          1e150]


@pytest.fixture(scope="module")
def scipy():
    return pytest.importorskip("scipy")


def assert_close(actual, expected, what, rtol=RTOL):
    """Relative error at most rtol, or absolute error at most 1e-300 (underflow); NaN only where expected."""
    actual, expected = np.broadcast_arrays(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=float))
    err = np.abs(actual - expected)
    ok = (err <= rtol * np.abs(expected)) | (err <= 1e-300) | (np.isnan(actual) & np.isnan(expected))
    ok |= np.isinf(expected) & (actual == expected)
    if not ok.all():
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = err / np.abs(expected)
        lines = [f"  at {what(i) if callable(what) else i}: got {actual[i]!r}, expected {expected[i]!r} "
                 f"(relative error {rel[i]:.2e})" for i in zip(*np.nonzero(~ok))][:10]
        raise AssertionError(f"{(~ok).sum()} of {ok.size} values off by more than {rtol:g}:\n" + "\n".join(lines))


def test_module_imports_without_scipy():
    # The R package's Python environment has no scipy: the module must not import it, even indirectly.
    code = ("import sys, gradlm.distributions as d; d.t_quantile(0.975, 10.0); d.f_sf(3.0, 2.0, 10.0); "
            "print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --- against scipy -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("df", DFS)
def test_t_sf_and_two_sided_p_match_scipy(scipy, df):
    t = np.concatenate([T_GRID, -T_GRID, [0.0]])
    expected = scipy.stats.t.sf(t, df)
    # Where scipy underflows to 0 too early (df = 1: it gives 0 for all p below about 1e-155), the closed form of
    # test_closed_forms is the reference instead.
    t, expected = t[expected > 0], expected[expected > 0]
    assert expected.min() < (1e-150 if df == 1 else 1e-250)  # the far tail was reached (and compared)
    assert_close(D.t_sf(t, df), expected, lambda i: f"t={t[i]:g}, df={df:g}")
    expected = 2.0 * scipy.stats.t.sf(np.abs(t), df)
    t, expected = t[expected > 0], expected[expected > 0]
    assert_close(D.t_two_sided_p(t, df), expected, lambda i: f"two-sided t={t[i]:g}, df={df:g}")


@pytest.mark.parametrize("df", DFS)
def test_t_quantile_matches_scipy(scipy, df):
    p = np.array(QUANTILE_PS)
    assert_close(D.t_quantile(p, df), scipy.stats.t.ppf(p, df), lambda i: f"p={p[i]:g}, df={df:g}")
    # and the quantile is an inverse of our own distribution function, to the last digits
    q = D.t_quantile(p, df)
    assert_close(D.t_sf(q, df), 1.0 - p, lambda i: f"round trip p={p[i]:g}, df={df:g}", rtol=1e-13)


def test_t_quantile_far_tails_and_centre_match_scipy(scipy):
    p = np.array([1e-300, 1e-100, 1e-30, 0.4, 0.45, 0.55, 0.6, 1.0 - 1e-10])
    for df in [1.0, 2.0, 26.0, 30.0, 100.0, 1e4, 1e7]:
        assert_close(D.t_quantile(p, df), scipy.stats.t.ppf(p, df), lambda i, df=df: f"p={p[i]:g}, df={df:g}")


def test_normal_limit_matches_scipy(scipy):
    t = np.concatenate([T_GRID[T_GRID < 39], -T_GRID[T_GRID < 39]])
    assert_close(D.t_sf(t, np.inf), scipy.stats.norm.sf(t), lambda i: f"t={t[i]:g}")
    assert_close(D.t_two_sided_p(t, math.inf), 2.0 * scipy.stats.norm.sf(np.abs(t)), lambda i: f"t={t[i]:g}")
    p = np.array(QUANTILE_PS + [1e-300, 1e-100, 0.3, 1.0 - 1e-10])
    assert_close(D.t_quantile(p, np.inf), scipy.stats.norm.ppf(p), lambda i: f"p={p[i]:g}")


def _scipy_f_rtol(df1, df2):
    # scipy's own f.sf is off by up to 3e-10 where one df is 1e7 and the other 10 to 30 (against 50 digits, see
    # test_f_sf_against_high_precision, which holds the module to 1e-12 there).
    return 1e-9 if max(df1, df2) == 1e7 and 10.0 <= min(df1, df2) <= 30.0 else RTOL


@pytest.mark.parametrize("df1", DFS)
def test_f_sf_matches_scipy(scipy, df1):
    f = np.array(F_GRID + [0.0, -1.0])
    for df2 in DFS:
        assert_close(D.f_sf(f, df1, df2), scipy.stats.f.sf(f, df1, df2),
                     lambda i, df2=df2: f"f={f[i]:g}, df1={df1:g}, df2={df2:g}", rtol=_scipy_f_rtol(df1, df2))


def test_betainc_matches_scipy(scipy):
    params = [0.5, 1.0, 2.5, 13.0, 100.0, 5000.0, 5e6]
    x = np.array([0.0, 1e-300, 1e-100, 1e-20, 1e-8, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999, 1 - 1e-8,
                  1.0 - 2.0 ** -52, 1.0])
    for a in params:
        for b in params:
            # also the neighbourhood of the mean, where the continued fraction is slowest
            m = a / (a + b)
            xs = np.concatenate([x, [m, m * (1 - 1e-3), m * (1 + 1e-3), (a + 1) / (a + b + 2)]])
            xs = xs[xs <= 1.0]
            assert_close(D.betainc(a, b, xs), scipy.special.betainc(a, b, xs),
                         lambda i, a=a, b=b, xs=xs: f"a={a:g}, b={b:g}, x={xs[i]!r}")


# --- against 50 digits ---------------------------------------------------------------------------------------------

def _mp_betainc(a, b, x):
    """I_x(a, b) to 50 digits, for floats a, b, x (x an mpf is taken as it is): the classical continued fraction
    (Numerical Recipes' betacf) with the symmetry, and lgamma's prefactor: at this precision nothing cancels."""
    mp = pytest.importorskip("mpmath")
    with mp.workdps(60):
        a, b, x = mp.mpf(a), mp.mpf(b), mp.mpf(x)
        if x == 0 or x == 1:
            return x
        y = 1 - x
        flip = x >= (a + 1) / (a + b + 2)
        if flip:
            a, b, x, y = b, a, y, x
        tiny, eps = mp.mpf(10) ** -300, mp.mpf(10) ** -50
        c, d = mp.mpf(1), 1 - (a + b) * x / (a + 1)
        d = 1 / (d if abs(d) > tiny else tiny)
        h = d
        for m in range(1, 10 ** 6):
            for aa in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                       -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
                d = 1 + aa * d
                d = 1 / (d if abs(d) > tiny else tiny)
                c = 1 + aa / c
                c = c if abs(c) > tiny else tiny
                h *= d * c
            if abs(d * c - 1) < eps:
                break
        w = mp.exp(a * mp.log(x) + b * mp.log(y) + mp.loggamma(a + b) - mp.loggamma(a) - mp.loggamma(b)) * h / a
        return 1 - w if flip else w


def _mp_f_sf(f, df1, df2):
    mp = pytest.importorskip("mpmath")
    with mp.workdps(60):
        f, df1, df2 = mp.mpf(f), mp.mpf(df1), mp.mpf(df2)
        return float(_mp_betainc(df2 / 2, df1 / 2, df2 / (df2 + df1 * f)))


def _mp_t_two_sided(t, df):
    mp = pytest.importorskip("mpmath")
    with mp.workdps(60):
        t, df = mp.mpf(t), mp.mpf(df)
        return float(_mp_betainc(df / 2, mp.mpf(0.5), df / (df + t * t)))


def test_high_precision_reference_itself():
    # The reference against closed forms, so that the comparisons below can be trusted.
    assert _mp_betainc(2.0, 3.0, 0.5) == pytest.approx(11 / 16, rel=1e-15)
    assert float(_mp_betainc(13.0, 1.0, 1e-20)) == pytest.approx(1e-260, rel=1e-15)
    assert _mp_t_two_sided(3.0, 1.0) == pytest.approx(1 - 2 * math.atan(3.0) / math.pi, rel=1e-15)


@pytest.mark.parametrize("df1, df2", [(10.0, 1e7), (26.0, 1e7), (30.0, 1e7), (1e7, 10.0), (1e7, 30.0),
                                      (1e7, 1e7), (3.0, 1e4), (1e4, 1e4)])
def test_f_sf_against_high_precision(df1, df2):
    f = [0.5, 0.9, 0.99, 1.0, 1.001, 1.01, 1.1, 2.0, 5.0, 30.0, 1e3]
    expected = [_mp_f_sf(v, df1, df2) for v in f]
    assert_close(D.f_sf(f, df1, df2), expected, lambda i: f"f={f[i[0]]:g}, df1={df1:g}, df2={df2:g}", rtol=1e-12)


@pytest.mark.parametrize("df", [1e4, 1e7, 1e12, 1e20])
def test_t_two_sided_p_for_huge_df_against_high_precision(df):
    # df / (df + t^2) rounds to 1 for df = 1e20: t^2 / (df + t^2) must carry the digits.
    t = [1e-3, 0.5, 1.0, 1.7, 2.0, 5.0, 20.0, 37.0]
    expected = [_mp_t_two_sided(v, df) for v in t]
    assert_close(D.t_two_sided_p(t, df), expected, lambda i: f"t={t[i[0]]:g}, df={df:g}", rtol=1e-12)


def test_betainc_random_against_high_precision():
    rng = np.random.default_rng(20261128)
    a, b = 10.0 ** rng.uniform(-0.3, 6.5, size=(2, 60))
    # a third in the far lower tail, a third near the mean, a third near x = 1
    mean = a / (a + b)
    sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    x = np.concatenate([10.0 ** rng.uniform(-300, -1, 20), np.clip(mean[20:40] + 5 * sd[20:40] *
                        rng.standard_normal(20), 1e-300, 1 - 1e-16), 1.0 - 10.0 ** rng.uniform(-15, -1, 20)])
    expected = [float(_mp_betainc(ai, bi, xi)) for ai, bi, xi in zip(a, b, x)]
    assert_close(D.betainc(a, b, x), expected, lambda i: f"a={a[i]!r}, b={b[i]!r}, x={x[i]!r}", rtol=1e-12)


# --- against R -----------------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_match_r():
    # What users compare against: R's pt, qt and pf (TOMS 708 and Hill's qt, independent of scipy's Boost code).
    pt_cases = [(-5.0, 3.0), (2.0, 3.0), (40.0, 3.0), (1e3, 26.0), (0.001, 10.0), (8.0, 100.0), (3.0, 1e4),
                (1e150, 2.0)]
    qt_cases = [(0.975, 10.0), (0.025, 3.0), (1e-10, 26.0), (0.995, 1.0), (0.9, 2.0), (0.05, 1e4), (0.3, 5.0)]
    pf_cases = [(3.0, 2.0, 10.0), (1.0, 5.0, 1e4), (50.0, 30.0, 1e4), (1e4, 30.0, 26.0), (0.1, 1.0, 1.0),
                (4.2, 3.0, 26.0)]
    code = "cat(sprintf('%.17g', c({})), sep = '\\n')".format(", ".join(
        [f"pt({t!r}, {df!r}, lower.tail = FALSE)" for t, df in pt_cases]
        + [f"2 * pt(-abs({t!r}), {df!r})" for t, df in pt_cases]
        + [f"qt({p!r}, {df!r})" for p, df in qt_cases]
        + [f"pf({f!r}, {d1!r}, {d2!r}, lower.tail = FALSE)" for f, d1, d2 in pf_cases]))
    out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=120, check=True).stdout
    r = np.array(out.split(), dtype=np.float64)
    n1, n2 = len(pt_cases), len(qt_cases)
    ours = np.array([D.t_sf(t, df) for t, df in pt_cases] + [D.t_two_sided_p(t, df) for t, df in pt_cases]
                    + [D.t_quantile(p, df) for p, df in qt_cases] + [D.f_sf(*c) for c in pf_cases])
    assert r.shape == ours.shape
    labels = ([f"pt{c}" for c in pt_cases] + [f"2*pt{c}" for c in pt_cases] + [f"qt{c}" for c in qt_cases]
              + [f"pf{c}" for c in pf_cases])
    assert_close(ours, r, lambda i: labels[i[0]])
    assert r[:n1].min() < 1e-300 and r[2 * n1 + n2:].min() < 1e-200  # tails that R computes directly, too


# --- closed forms and properties (no reference library needed) -----------------------------------------------------

def test_closed_forms():
    # (rtol 1e-12: tails near 1e-300 come from exp of a logarithm near -690, whose rounding alone is 1.5e-13)
    t = np.geomspace(1e-3, 1e300, 60)
    # Cauchy (df = 1): P(T > t) = atan2(1, t) / pi; df = 2: 1 / (s (s + t)) with s = sqrt(2 + t^2)
    assert_close(D.t_sf(t, 1.0), np.arctan2(1.0, t) / np.pi, lambda i: f"df=1, t={t[i]:g}", rtol=1e-12)
    tt = t[t < 1e150]
    s = np.sqrt(2.0 + tt ** 2)
    assert_close(D.t_sf(tt, 2.0), 1.0 / (s * (s + tt)), lambda i: f"df=2, t={tt[i]:g}", rtol=1e-12)
    # F with df1 = 2: (1 + 2 f / df2)^(-df2 / 2)
    f = np.geomspace(1e-3, 1e6, 40)
    for df2 in [1.0, 7.0, 40.0]:
        assert_close(D.f_sf(f, 2.0, df2), np.exp(-df2 / 2 * np.log1p(2 * f / df2)),
                     lambda i, df2=df2: f"f={f[i]:g}, df2={df2:g}", rtol=1e-12)
    # I_x(a, 1) = x^a and I_x(1, b) = 1 - (1 - x)^b
    x = np.geomspace(1e-300, 0.999, 50)
    assert_close(D.betainc(13.0, 1.0, x), x ** 13, "I_x(13, 1)", rtol=1e-12)
    assert_close(D.betainc(1.0, 7.5, x), -np.expm1(7.5 * np.log1p(-x)), "I_x(1, 7.5)", rtol=1e-12)
    # quantiles: the Cauchy's is tan(pi (p - 1/2)), df = 2's (2p - 1) / sqrt(2 p (1 - p))
    p = np.array([1e-300, 1e-10, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-10])
    q = np.minimum(p, 1.0 - p)  # (exact)
    cauchy = np.sign(p - 0.5) / np.tan(np.pi * q)
    cauchy[p == 0.5] = 0.0
    assert_close(D.t_quantile(p, 1.0), cauchy, "Cauchy quantile", rtol=1e-12)
    assert_close(D.t_quantile(p, 2.0), (2 * p - 1) / np.sqrt(2 * p * (1 - p)), "df=2 quantile", rtol=1e-12)


def test_symmetry_and_monotonicity():
    t = np.linspace(-12.0, 12.0, 481)
    for df in [0.7, 1.0, 3.5, 30.0, 1e7, np.inf]:
        upper, lower = D.t_sf(t, df), D.t_sf(-t, df)
        np.testing.assert_allclose(upper + lower, 1.0, rtol=0, atol=4e-16)
        assert np.all(np.diff(upper) <= 0), df
        inside = (upper[1:] < 1.0 - 1e-15) & (upper[1:] > 1e-300)  # (not where it is 1 in floating point)
        assert np.all(np.diff(upper)[inside] < 0), df
        np.testing.assert_allclose(D.t_two_sided_p(t, df), 2.0 * np.minimum(upper, lower), rtol=1e-14)
    p = np.arange(1, 1024) / 1024  # so that p[::-1] is 1 - p exactly
    q = D.t_quantile(p, 4.0)
    assert np.all(np.diff(q) > 0)
    np.testing.assert_array_equal(q, -q[::-1])


def test_quantile_near_one_half_keeps_relative_accuracy():
    # t_quantile(1/2 + e) ~ e / pdf(0): solved on P(|T| < t), not on 1/2 - P(T > t), which would lose the digits.
    e = 2.0 ** -40
    for df, pdf0 in [(1.0, 1 / math.pi), (2.0, 1 / (2 * math.sqrt(2))), (math.inf, 1 / math.sqrt(2 * math.pi))]:
        assert D.t_quantile(0.5 + e, df) == pytest.approx(e / pdf0, rel=1e-9)
        assert D.t_quantile(0.5 - e, df) == pytest.approx(-e / pdf0, rel=1e-9)


def test_tiny_df_quantiles():
    # P(T > t) ~ t^-df: for df = 0.1 the 1 - 1e-10 quantile is 1.6e96, the 1e-100 one beyond the largest float.
    assert D.t_quantile(1e-100, 0.1) == -math.inf
    for p, df in [(1 - 1e-10, 0.1), (1e-10, 0.25), (0.3, 0.1), (1 - 2.0 ** -53, 0.5)]:
        q = D.t_quantile(p, df)
        assert math.isfinite(q)
        assert D.t_sf(q, df) == pytest.approx(1.0 - p, rel=1e-12)
    assert 1e96 < D.t_quantile(1 - 1e-10, 0.1) < 1e97


# --- special values, types and errors ------------------------------------------------------------------------------

def test_special_values():
    nan, inf = math.nan, math.inf
    assert D.t_sf(inf, 3.0) == 0.0 and D.t_sf(-inf, 3.0) == 1.0 and D.t_sf(0.0, 3.0) == 0.5
    assert D.t_two_sided_p(inf, 3.0) == 0.0 and D.t_two_sided_p(-inf, 3.0) == 0.0 and D.t_two_sided_p(0.0, 3) == 1.0
    assert math.isnan(D.t_sf(nan, 3.0)) and math.isnan(D.t_two_sided_p(nan, 3.0)) and math.isnan(D.t_sf(1.0, nan))
    assert D.t_sf(1.5, inf) == 0.5 * math.erfc(1.5 / math.sqrt(2.0))
    assert D.f_sf(0.0, 2.0, 3.0) == 1.0 and D.f_sf(-5.0, 2.0, 3.0) == 1.0 and D.f_sf(inf, 2.0, 3.0) == 0.0
    assert math.isnan(D.f_sf(nan, 2.0, 3.0))
    assert D.t_quantile(0.5, 3.0) == 0.0 and D.t_quantile(0.5, inf) == 0.0 and math.isnan(D.t_quantile(nan, 3.0))
    assert D.betainc(2.0, 3.0, 0.0) == 0.0 and D.betainc(2.0, 3.0, 1.0) == 1.0 and math.isnan(D.betainc(2.0, 3.0, nan))


def test_types_and_broadcasting():
    assert type(D.t_sf(1.0, 3.0)) is float
    assert type(D.t_sf(np.float64(1.0), np.int64(3))) is float
    assert type(D.t_quantile(0.9, 3)) is float and type(D.f_sf(1, 2, 3)) is float
    assert type(D.betainc(1, 2, 0.5)) is float and type(D.t_two_sided_p(np.array(2.0), 3.0)) is float
    out = D.t_two_sided_p([[1.0, 2.0, 3.0]], [[3.0], [30.0]])
    assert isinstance(out, np.ndarray) and out.shape == (2, 3) and out.dtype == np.float64
    assert out[1, 2] == D.t_two_sided_p(3.0, 30.0)
    assert D.t_quantile(np.array([0.1, 0.9]), 5.0).shape == (2,)
    assert D.f_sf(np.arange(4), 2.0, [[3.0], [4.0]]).shape == (2, 4)
    assert D.betainc(2.0, 3.0, np.array([0.25])).shape == (1,)


@pytest.mark.parametrize("call, message", [
    (lambda: D.t_sf(1.0, 0.0), r"df must be > 0 .*got 0\.0"),
    (lambda: D.t_sf(1.0, [3.0, -1.0]), r"df must be > 0 .*got -1\.0"),
    (lambda: D.t_two_sided_p(1.0, -2.0), r"df must be > 0"),
    (lambda: D.t_quantile(0.0, 3.0), r"p must be in \(0, 1\), got 0\.0"),
    (lambda: D.t_quantile([0.5, 1.0], 3.0), r"p must be in \(0, 1\), got 1\.0"),
    (lambda: D.t_quantile(1.5, 3.0), r"p must be in \(0, 1\)"),
    (lambda: D.t_quantile(0.9, 0.0), r"df must be > 0"),
    (lambda: D.f_sf(1.0, 0.0, 3.0), r"df1 must be finite and > 0, got 0\.0"),
    (lambda: D.f_sf(1.0, 2.0, math.inf), r"df2 must be finite and > 0, got inf"),
    (lambda: D.betainc(-1.0, 2.0, 0.5), r"a must be finite and > 0"),
    (lambda: D.betainc(1.0, 0.0, 0.5), r"b must be finite and > 0"),
    (lambda: D.betainc(1.0, 2.0, 1.5), r"x must be in \[0, 1\], got 1\.5"),
])
def test_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
