"""Student's t and F tail probabilities and t quantiles, in ``math`` and NumPy only (no scipy).

The p values and confidence intervals of a fitted linear model need the t and F
distributions; the R package's Python environment has torch and NumPy but not
scipy, so they are computed here from the regularized incomplete beta function

    I_x(a, b) = B(x; a, b) / B(a, b),     P(|T| > t) = I_{df / (df + t^2)}(df / 2, 1 / 2),
                                          P(F > f)   = I_{df2 / (df2 + df1 f)}(df2 / 2, df1 / 2).

Accuracy, not speed, is the point (inputs are a few hundred values at most):

- ``x``, ``y = 1 - x`` and ``lambda = a - (a + b) x`` are each computed from
  the caller's own arguments (``t`` and ``df``, say) without cancellation, and
  the smaller of ``I`` and ``1 - I`` is computed directly, not as
  ``1 - (something near 1)``: tail probabilities down to 1e-300 keep their
  relative accuracy;
- the factor ``x^a y^b / B(a, b)`` comes from Stirling's series and the
  deviance ``bd0`` (Loader's method for the binomial density, as in R's
  ``dbinom``), not from ``lgamma(a + b) - lgamma(a) - lgamma(b) + ...``, whose
  terms reach 1e8 for ``df = 1e7`` and would cancel to an absolute (so, after
  ``exp``, relative) error near 1e-8;
- the continued fraction is Didonato & Morris' form (TOMS 708's ``bfrac``),
  written in ``lambda`` so that its terms do not cancel when ``x`` is near 1
  (large ``df``), and evaluated by the modified Lentz method.

Against 60-digit references the relative errors stay below 4e-13 (about
``1e-16 * |log p|``, from ``exp`` of the logarithm) for ``a, b >= 1/2``,
``df`` up to 1e20 and p values down to 1e-300; the quantiles' below 1e-13.
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any, Callable, Optional, Tuple

import numpy as np

__all__ = ["betainc", "f_sf", "t_quantile", "t_sf", "t_two_sided_p"]

_LN_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
# Lentz's method replaces a zero denominator by this (any number far below the terms' scale will do).
_TINY = 1e-300
# The continued fraction stops when a step changes it by less than this (relative); its truncation error is then
# about as large, a few units in the last place.
_CF_EPS = 2e-16
_CF_MAX_ITER = 100_000
_DBL_MAX = sys.float_info.max


# --- ingredients: Stirling's series, the deviance, and the prefactor x^a y^b / B(a, b) ----------------------------

def _stirlerr(z: float) -> float:
    """``lgamma(z) - ((z - 1/2) log z - z + log sqrt(2 pi))``, the error of Stirling's formula, for ``z > 0``."""
    if z > 8.0:
        # The asymptotic series, to an absolute error below 8e-16 here (its next term is 3617 / (122400 z^15)). For
        # large z this is what keeps the difference accurate: lgamma(z) is about z log z, whose rounding alone is more.
        zz = 1.0 / (z * z)
        return (1.0 / 12 - zz * (1.0 / 360 - zz * (1.0 / 1260 - zz * (1.0 / 1680 - zz * (1.0 / 1188 - zz * (
            691.0 / 360360 - zz / 156)))))) / z
    # Terms of at most ~20 here: the absolute error (what exp() turns into a relative one) stays below 5e-15.
    return math.lgamma(z) - (z - 0.5) * math.log(z) + z - _LN_SQRT_2PI


def _bd0(k: float, m: float, d: float) -> float:
    """The deviance ``k log(k / m) + m - k >= 0`` for ``k > 0, m >= 0``, given ``d = k - m`` computed accurately.

    ``m`` itself may carry a rounding error far larger than ``d`` (``m = n x`` with ``x`` near 1 and ``n`` large),
    so the difference is never taken here.
    """
    if m == 0.0:
        return math.inf
    if abs(d) < (k + m) / 3.0:
        # k log(k/m) and m - k nearly cancel here: sum the series in v = (k - m) / (k + m) instead,
        # bd0 = d v + 2 k (v^3 / 3 + v^5 / 5 + ...) (|v| < 1/3: each term below a ninth of the last, ~16 terms).
        v = d / (k + m)
        s = d * v
        if abs(s) < 1e-300:
            return s
        ej = 2.0 * k * v
        v2 = v * v
        for j in range(1, 200):
            ej *= v2
            s1 = s + ej / (2 * j + 1)
            if s1 == s:
                return s1
            s = s1
        return s
    # Here k / m is outside [1/2, 2]: |log(k / m)| > 0.69, and the two terms cancel at most fivefold.
    r = k / m
    # log(k / m) unless the ratio over- or underflows (m subnormal, say), then the difference of the logs.
    lr = math.log(r) if 0.0 < r < math.inf else math.log(k) - math.log(m)
    return k * lr - d


def _two_sum(u: float, v: float) -> Tuple[float, float]:
    """``(s, e)`` with ``s = fl(u + v)`` and ``s + e = u + v`` exactly (Knuth)."""
    s = u + v
    vv = s - u
    return s, (u - (s - vv)) + (v - vv)


def _two_prod(u: float, v: float) -> Tuple[float, float]:
    """``(p, e)`` with ``p = fl(u v)`` and ``p + e = u v`` exactly (Dekker, with Veltkamp's splitting)."""
    p = u * v
    uh = u * 134217729.0
    uh -= uh - u
    ul = u - uh
    vh = v * 134217729.0
    vh -= vh - v
    vl = v - vh
    return p, ((uh * vh - p) + uh * vl + ul * vh) + ul * vl


def _lambda(a: float, b: float, x: float, y: float) -> float:
    """``a - (a + b) x = (a + b) y - b`` to nearly full relative accuracy, from the smaller of ``x`` and ``y``.

    Near the mean ``a / (a + b)`` this difference is far smaller than its terms; rounding ``(a + b) x`` would leave
    it an absolute error of about 1e-16 (a + b) (1e-9 for ``a = b = 5e6``), which the deviances of
    :func:`_log_beta_prefactor` turn into a relative error of 1e-11 in the tails. So the sum and the product are
    carried exactly, in two floats each.
    """
    n, n_err = _two_sum(a, b)
    if x <= y:
        p, p_err = _two_prod(n, x)
        return ((a - p) - p_err) - n_err * x
    p, p_err = _two_prod(n, y)
    return ((p - b) + p_err) + n_err * y


def _log_beta_prefactor(a: float, b: float, x: float, y: float, lam: float) -> float:
    """``log(x^a y^b / B(a, b))`` for ``a, b > 0``, ``0 < x, y``, ``x + y = 1`` and ``lam = a - (a + b) x``.

    With n = a + b and Stirling's formula for the three gamma functions,

        x^a y^b / B(a, b) = sqrt(a b / (2 pi n)) exp(-bd0(a, n x) - bd0(b, n y) + d(n) - d(a) - d(b)),

    d = :func:`_stirlerr` (the linear parts of the two deviances cancel, as n x + n y = a + b). Every term is
    computed to a small absolute error, whatever the size of ``a`` and ``b``: ``lgamma(a + b) - lgamma(a) -
    lgamma(b) + a log x + b log y`` would add and cancel terms of about 1e8 for ``a = 5e6`` (``df = 1e7``).
    """
    n = a + b
    return (0.5 * (math.log(a) + math.log(b) - math.log(n)) - _LN_SQRT_2PI
            - _bd0(a, n * x, lam) - _bd0(b, n * y, -lam) + _stirlerr(n) - _stirlerr(a) - _stirlerr(b))


def _log_gamma_ratio(z: float, h: float) -> float:
    """``lgamma(z + h) - lgamma(z)`` for ``z, h > 0``, without the cancellation of two large lgamma values."""
    if z <= 8.0:
        return math.lgamma(z + h) - math.lgamma(z)
    # Stirling's formula for both, rearranged so that the large parts cancel analytically.
    return (z - 0.5) * math.log1p(h / z) + h * math.log(z + h) - h + _stirlerr(z + h) - _stirlerr(z)


# --- the incomplete beta function ----------------------------------------------------------------------------------

def _beta_cf(a: float, b: float, x: float, y: float, lam: float, max_iter: int = _CF_MAX_ITER) -> float:
    """``I_x(a, b)`` by the continued fraction, for ``x <= (a + 1) / (a + b + 2)`` (where it converges fast).

    The fraction is TOMS 708's ``bfrac`` (Didonato & Morris 1992; the classical fraction with its terms taken in
    pairs), written in ``lam = a - (a + b) x`` so that no coefficient cancels when ``x`` is near 1:

        I_x(a, b) = x^a y^b / B(a, b) / (c / c1 + alpha_1 / (beta_1 + alpha_2 / (beta_2 + ...))),

    with c = 1 + lam, c1 = 1 + 1/a, evaluated by the modified Lentz method. It takes a few dozen terms unless both
    ``a`` and ``b`` are large, then about ``sqrt(min(a, b))`` (a thousand for ``a = b = 5e6``). NaN if it has not
    converged in ``max_iter`` terms.
    """
    c = 1.0 + lam
    c0 = b / a
    c1 = 1.0 + 1.0 / a
    yp1 = y + 1.0
    f = c / c1
    if f == 0.0:
        f = _TINY
    C, D = f, 0.0
    p, s = 1.0, a + 1.0
    for n in range(1, max_iter + 1):
        t = n / a
        w = n * (b - n) * x
        e = a / s
        alpha = p * (p + c0) * e * e * (w * x)
        beta = n + w / s + (t + 1.0) / (c1 + t + t) * (c + n * yp1)
        p = t + 1.0
        s += 2.0
        D = beta + alpha * D
        if D == 0.0:
            D = _TINY
        C = beta + alpha / C
        if C == 0.0:
            C = _TINY
        D = 1.0 / D
        delta = C * D
        f *= delta
        if abs(delta - 1.0) <= _CF_EPS:
            break
    else:
        return math.nan
    # f > 0 at convergence; combined in logs, so that a prefactor beyond the float range still gives its product.
    return math.exp(_log_beta_prefactor(a, b, x, y, lam) - math.log(f))


def _betainc_pair(a: float, b: float, x: float, y: float, lam: Optional[float] = None) -> Tuple[float, float]:
    """``(I_x(a, b), 1 - I_x(a, b))``, each to full relative accuracy.

    ``y = 1 - x`` (and optionally ``lam = a - (a + b) x``) are passed as computed by the caller from its own
    arguments (``t^2 / (df + t^2)``, say), since recomputing them from a rounded ``x`` near 1 would lose digits.
    """
    if x == 0.0:
        return 0.0, 1.0
    if y == 0.0:
        return 1.0, 0.0
    if lam is None:
        lam = _lambda(a, b, x, y)
    # The symmetry I_x(a, b) = 1 - I_y(b, a) keeps the fraction in its fast region, x <= (a + 1) / (a + b + 2), that
    # is lam >= (a - b) / (a + b + 2) (decided on lam: x itself may have rounded to 1). The other value of the pair
    # is then the larger one unless b (or a) is well below 1/2 (for b >= 1/2 it is at least 0.08), so 1 - w loses
    # little.
    swap = lam < (a - b) / (a + b + 2.0)
    if swap:
        a, b, x, y, lam = b, a, y, x, -lam
    w = _beta_cf(a, b, x, y, lam)
    if math.isnan(w):
        warnings.warn(f"the incomplete beta function's continued fraction did not converge in {_CF_MAX_ITER} terms "
                      f"(a = {a!r}, b = {b!r}, x = {x!r}: both parameters beyond about 1e12); NaN returned",
                      RuntimeWarning, stacklevel=5)
    elif w > 0.9:
        # 1 - w would keep only the absolute accuracy: try the fraction for the complement itself, outside its fast
        # region (as with a small b and x near 1), where it may still converge in a bounded number of terms.
        w1 = _beta_cf(b, a, y, x, -lam, max_iter=5000)
        if not math.isnan(w1):
            return (w1, w) if swap else (w, w1)
    return (1.0 - w, w) if swap else (w, 1.0 - w)


# --- argument handling ---------------------------------------------------------------------------------------------

def _elementwise(func: Callable[..., float], *args: Any) -> Any:
    """``func`` on each element of the broadcast float64 arguments: a float for scalars, else an ndarray."""
    arrays = np.broadcast_arrays(*(np.asarray(arg, dtype=np.float64) for arg in args))
    out = np.empty(arrays[0].shape, dtype=np.float64)
    for index in np.ndindex(out.shape):
        out[index] = func(*(float(arr[index]) for arr in arrays))
    return float(out) if out.ndim == 0 else out


def _check_positive(name: str, value: Any, allow_inf: bool) -> None:
    arr = np.asarray(value, dtype=np.float64)
    bad = (arr <= 0) | (np.isinf(arr) if not allow_inf else False)
    if np.any(bad):
        what = "> 0 (inf for the normal limit)" if allow_inf else "finite and > 0"
        raise ValueError(f"{name} must be {what}, got {arr[bad].flat[0]!r}")


def _check_unit(name: str, value: Any, closed: bool) -> None:
    arr = np.asarray(value, dtype=np.float64)
    bad = (arr < 0) | (arr > 1) if closed else (arr <= 0) | (arr >= 1)
    if np.any(bad):
        interval = "[0, 1]" if closed else "(0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {arr[bad].flat[0]!r}")


# --- public functions ----------------------------------------------------------------------------------------------

def betainc(a: Any, b: Any, x: Any) -> Any:
    """The regularized incomplete beta function ``I_x(a, b)`` (scipy.special.betainc, R's ``pbeta(x, a, b)``).

    ``a, b > 0`` finite and ``0 <= x <= 1``; NaN gives NaN. The relative error is about 1e-16 times ``|log I|``
    (below 4e-13 down to 1e-300) for ``a, b >= 1/2``; for ``b`` below 0.01 and ``x`` near 1 it may reach a few 1e-12,
    and where both ``a`` and ``b`` exceed about 1e12 the fraction does not converge: NaN, with a RuntimeWarning.

    >>> betainc(2.0, 3.0, 0.5)  # 11/16
    0.6875
    >>> betainc(0.5, 0.5, [0.0, 0.25, 1.0]).round(15).tolist()  # the arcsine law, (2 / pi) asin(sqrt(x))
    [0.0, 0.333333333333333, 1.0]
    >>> f"{betainc(13.0, 1.0, 1e-20):.10e}"  # x^13
    '1.0000000000e-260'
    """
    _check_positive("a", a, allow_inf=False)
    _check_positive("b", b, allow_inf=False)
    _check_unit("x", x, closed=True)
    return _elementwise(_betainc_scalar, a, b, x)


def _betainc_scalar(a: float, b: float, x: float) -> float:
    if math.isnan(a) or math.isnan(b) or math.isnan(x):
        return math.nan
    # 1 - x is exact for x >= 1/2 (Sterbenz); for x < 1/2 its rounding is relative to y > 1/2, harmless.
    return _betainc_pair(a, b, x, 1.0 - x)[0]


def _log_beta(a: float, b: float) -> float:
    """``log B(a, b)`` for ``a, b > 0``."""
    lo, hi = (a, b) if a <= b else (b, a)
    return math.lgamma(lo) - _log_gamma_ratio(hi, lo)


# Below this (a + b + 1) x, I_x(a, b) = x^a / (a B(a, b)) (1 + O((a + b) x)) is exact in floating point, and x itself
# may underflow where x^a does not (x = df / t^2 for t = 1e200 and df = 1): such an x is handled in logs.
_X_LEADING = 1e-280


def _t_parts(t: float, df: float) -> Tuple[float, float, float]:
    """``(P(|T| > t), P(|T| < t), 2 pdf(t))`` for finite ``t > 0`` and ``df > 0``, the first two each computed directly
    (not as one minus the other)."""
    if math.isinf(df):
        z = t / math.sqrt(2.0)
        return math.erfc(z), math.erf(z), 2.0 * math.exp(-0.5 * t * t) / _SQRT_2PI
    a = 0.5 * df
    # x = df / (df + t^2) and y = t^2 / (df + t^2) from r = df / t^2 or t^2 / df <= 1, neither overflowing.
    if t > math.sqrt(df):
        r = (df / t) / t
        if r * (a + 1.0) < _X_LEADING:  # x underflows, or nearly: its logarithm is log(df) - 2 log(t)
            log_p = a * (math.log(df) - 2.0 * math.log(t)) - _log_beta(a, 0.5)
            tail = math.exp(log_p - math.log(a))
            return tail, 1.0 - tail, 2.0 * math.exp(log_p) / t
        x, y = r / (1.0 + r), 1.0 / (1.0 + r)
    else:
        r = (t / df) * t if df > 1.0 else t * t / df  # (t * t cannot overflow here)
        if r * (a + 1.0) < _X_LEADING:  # y underflows, or nearly: P(|T| < t) = 2 pdf(0) t exactly in floating point
            log_p = 0.5 * (2.0 * math.log(t) - math.log(df)) - _log_beta(a, 0.5)
            central = math.exp(log_p - math.log(0.5))
            return 1.0 - central, central, 2.0 * math.exp(log_p) / t
        x, y = 1.0 / (1.0 + r), r / (1.0 + r)
    lam = _lambda(a, 0.5, x, y)
    tail, central = _betainc_pair(a, 0.5, x, y, lam)
    # d I_x(a, 1/2) / dt = -(x^a y^(1/2) / B(a, 1/2)) * 2 / t: the density from the same accurate prefactor.
    return tail, central, 2.0 * math.exp(_log_beta_prefactor(a, 0.5, x, y, lam)) / t


def _t_two_sided_scalar(t: float, df: float) -> float:
    if math.isnan(t) or math.isnan(df):
        return math.nan
    t = abs(t)
    if t == 0.0:
        return 1.0
    if math.isinf(t):
        return 0.0
    return _t_parts(t, df)[0]


def _t_sf_scalar(t: float, df: float) -> float:
    if math.isnan(t) or math.isnan(df):
        return math.nan
    if t == 0.0:
        return 0.5
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    tail, central, _ = _t_parts(abs(t), df)
    # For t < 0 the answer is in (1/2, 1): 1/2 + P(0 < T < |t|), from the directly computed central part.
    return 0.5 * tail if t > 0 else 0.5 + 0.5 * central


def t_sf(t: Any, df: Any) -> Any:
    """The upper tail ``P(T > t)`` of Student's t with ``df > 0`` degrees of freedom (R: ``pt(t, df, lower=FALSE)``).

    ``df`` may be any positive float; ``df = inf`` is the standard normal. ``t = inf`` gives 0, ``t = -inf`` 1, NaN
    gives NaN. Tail probabilities keep their relative accuracy down to the smallest floats.

    >>> round(t_sf(2.0, 3.0), 12)  # R: pt(2, 3, lower = FALSE)
    0.069662984279
    >>> f"{t_sf(40.0, 3.0):.9e}"  # R: 1.719034039457927e-05
    '1.719034039e-05'
    >>> t_sf([-float("inf"), 0.0, float("inf")], 3.0).tolist()
    [1.0, 0.5, 0.0]
    """
    _check_positive("df", df, allow_inf=True)
    return _elementwise(_t_sf_scalar, t, df)


def t_two_sided_p(t: Any, df: Any) -> Any:
    """The two-sided p value ``P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2)`` of Student's t, without cancellation.

    Same arguments as :func:`t_sf` (R: ``2 * pt(-abs(t), df)``).

    >>> round(t_two_sided_p(-5.0, 3.0), 15)  # R: 2 * pt(-5, 3) = 0.015392438073302296
    0.015392438073302
    >>> f"{t_two_sided_p(40.0, 10.0):.9e}"  # R: 2.2808577430857475e-12
    '2.280857743e-12'
    >>> f"{t_two_sided_p(30.0, float('inf')):.9e}"  # the normal: R's 2 * pnorm(-30) = 9.8134278542963744e-198
    '9.813427854e-198'
    """
    _check_positive("df", df, allow_inf=True)
    return _elementwise(_t_two_sided_scalar, t, df)


def f_sf(f: Any, df1: Any, df2: Any) -> Any:
    """The upper tail ``P(F > f)`` of the F distribution with ``(df1, df2)`` degrees of freedom (R: ``pf(f, df1,
    df2, lower=FALSE)``).

    ``df1, df2`` finite and ``> 0``; ``f <= 0`` gives 1, ``f = inf`` 0, NaN NaN.

    >>> round(f_sf(3.0, 2.0, 10.0), 15)  # for df1 = 2 it is (1 + 2 f / df2)^(-df2 / 2) = 1.6^-5
    0.095367431640625
    >>> f_sf([0.0, float("inf")], 2.0, 10.0).tolist()
    [1.0, 0.0]
    """
    _check_positive("df1", df1, allow_inf=False)
    _check_positive("df2", df2, allow_inf=False)
    return _elementwise(_f_sf_scalar, f, df1, df2)


def _f_sf_scalar(f: float, df1: float, df2: float) -> float:
    if math.isnan(f) or math.isnan(df1) or math.isnan(df2):
        return math.nan
    if f <= 0.0:
        return 1.0
    if math.isinf(f):
        return 0.0
    # x = df2 / (df2 + df1 f) and y = df1 f / (df2 + df1 f) from a ratio <= 1, so that neither overflows.
    a, b = 0.5 * df2, 0.5 * df1
    if df1 * f > df2:
        r = (df2 / df1) / f
        if r * (a + b + 1.0) < _X_LEADING:  # x underflows, or nearly (see _X_LEADING)
            return math.exp(a * (math.log(df2) - math.log(df1) - math.log(f)) - math.log(a) - _log_beta(a, b))
        x, y = r / (1.0 + r), 1.0 / (1.0 + r)
    else:
        r = (df1 / df2) * f
        x, y = 1.0 / (1.0 + r), r / (1.0 + r)
    # a - (a + b) x with a = df2 / 2, b = df1 / 2 is (df1 / 2) (f - 1) x: exact near the mean (f - 1 is exact for
    # f in [1/2, 2]), where (a + b) x's rounding, about 1e-16 (a + b), would be amplified when both df are large.
    return _betainc_pair(a, b, x, y, 0.5 * df1 * x * (f - 1.0))[0]


# --- quantiles -----------------------------------------------------------------------------------------------------

def _norm_quantile_start(p: float) -> float:
    """Acklam's rational approximation to the standard normal quantile (relative error below 1.2e-9), ``0 < p < 1``."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    if 0.02425 <= p <= 1.0 - 0.02425:
        q = p - 0.5
        r = q * q
        num = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
        return num / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)
    q = math.sqrt(-2.0 * math.log(p if p < 0.5 else 1.0 - p))
    z = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q
                                                                                  + d[3]) * q + 1.0)
    return z if p < 0.5 else -z


def _t_quantile_start(s: float, df: float) -> float:
    """An approximation to the ``t > 0`` with ``P(|T| > t) = s``, ``0 < s < 1``: exact formulas for ``df`` 1 and 2,
    Hill's (1970, CACM algorithm 396, as in R's ``qt``) for other ``df >= 1``, Acklam's for the normal; NaN below 1."""
    if math.isinf(df):
        return -_norm_quantile_start(0.5 * s)
    if df < 1.0:
        return math.nan
    if df == 1.0:  # Cauchy: t = cot(pi s / 2), written so that neither branch loses digits
        return math.tan(0.5 * math.pi * (1.0 - s)) if s > 0.5 else 1.0 / math.tan(0.5 * math.pi * s)
    if df == 2.0:  # P(|T| < t) = t / sqrt(2 + t^2)
        return (1.0 - s) * math.sqrt(2.0 / (s * (2.0 - s)))
    a = 1.0 / (df - 0.5)
    b = 48.0 / (a * a)
    c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36
    d = ((94.5 / (b + c) - 3.0) / b + 1.0) * math.sqrt(a * math.pi / 2.0) * df
    log_y = 2.0 / df * (math.log(d) + math.log(s))  # y = (d s)^(2 / df), in logs: it underflows for tiny s
    if (df < 2.1 and s > 0.5) or log_y > math.log(0.05 + a):
        # an expansion about the normal quantile
        x = _norm_quantile_start(0.5 * s)
        y = x * x
        if df < 5.0:
            c += 0.3 * (df - 4.5) * (x + 0.6)
        c = (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b + c
        y = (((((0.4 * y + 6.3) * y + 36.0) * y + 94.5) / c - y - 3.0) / b + 1.0) * x
        return math.sqrt(df * math.expm1(a * y * y))
    if log_y < math.log(2.2e-16):  # far tail: t ~ sqrt(df / y)
        return math.sqrt(df) * math.exp(-0.5 * log_y)
    y = math.exp(log_y)
    y = (((1.0 / (((df + 6.0) / (df * y) - 0.089 * d - 0.822) * (df + 2.0) * 3.0) + 0.5 / (df + 4.0)) * y - 1.0)
         * (df + 1.0) / (df + 2.0) + 1.0 / y)
    return math.sqrt(df * y)


def _t_upper_quantile(q: float, df: float) -> float:
    """The ``t > 0`` with ``P(T > t) = q`` for ``0 < q < 1/2``, to a relative error near 1e-15.

    Newton's method on ``log P(|T| > t) = log(2 q)`` (``2 q <= 1/2``) or on ``log P(|T| < t) = log(1 - 2 q)``
    (``2 q > 1/2``, so that ``t`` near 0 keeps its relative accuracy), both in ``log t``: there the tail's
    logarithm is nearly linear (about ``-df log t``), as is the centre's (``log t`` plus a constant), so Newton
    converges in a few steps from Hill's start. The iterates stay inside a bracket, which starts from two bounds;
    a step that would leave it is replaced by its midpoint (in ``log t``).
    """
    s = 2.0 * q
    use_tail = s <= 0.5
    target = s if use_tail else 1.0 - s  # 1 - s is exact for s >= 1/2
    log_target = math.log(target)
    if math.isinf(df):
        log_pdf0 = -_LN_SQRT_2PI
        # erfc(z) <= exp(-z^2)
        log_hi = 0.5 * math.log(-2.0 * math.log(s))
    else:
        log_pdf0 = _log_gamma_ratio(0.5 * df, 0.5) - 0.5 * (math.log(df) + math.log(math.pi))
        # pdf(t) <= pdf(0) (t^2 / df)^(-(df + 1) / 2), so P(|T| > t) <= 2 pdf(0) df^((df + 1) / 2) t^(-df) / df
        log_hi = (math.log(2.0) + log_pdf0 + 0.5 * (df - 1.0) * math.log(df) - math.log(s)) / df
    # pdf(t) <= pdf(0), so P(|T| < t) <= 2 pdf(0) t. Both bounds get a margin for their rounding.
    lo = (1.0 - s) * 0.5 * math.exp(-log_pdf0) * (1.0 - 1e-9)
    hi = min(math.exp(min(log_hi, 709.0)) * (1.0 + 1e-9), _DBL_MAX)
    if hi == _DBL_MAX or log_hi >= 709.0:
        # The bound is beyond the largest float (df well below 1): is the quantile itself?
        hi = _DBL_MAX
        tail, central, _ = _t_parts(hi, df)
        if (tail > target) if use_tail else (central < target):
            return math.inf
    t = _t_quantile_start(s, df)
    if not lo < t < hi:
        t = math.exp(0.5 * (math.log(lo) + math.log(hi)))
    for _ in range(300):
        tail, central, dens2 = _t_parts(t, df)
        g = tail if use_tail else central
        if g > 0.0:
            err = math.log(g) - log_target
            if err == 0.0:
                return t
            too_small = err > 0.0 if use_tail else err < 0.0
        else:  # underflow: the tail beyond t, or the centre below it, is far below the target
            err = math.nan
            too_small = not use_tail
        if too_small:
            lo = t
        else:
            hi = t
        # d log g / d log t = -+ 2 pdf(t) t / g
        slope = (-dens2 if use_tail else dens2) * t / g if g > 0.0 else math.nan
        step = -err / slope if slope != 0.0 else math.nan
        t_new = t * math.exp(step) if abs(step) < 700.0 else math.nan
        if not lo < t_new < hi:  # (also NaN) bisect in log t
            t_new = math.exp(0.5 * (math.log(lo) + math.log(hi)))
        elif abs(step) < 1e-13:
            # Newton converges quadratically: after a step this small the error is far below rounding.
            return t_new
        if hi - lo <= 4e-16 * hi:
            return t_new
        t = t_new
    return t  # pragma: no cover - the bracket halves at least every other step


def t_quantile(p: Any, df: Any) -> Any:
    """The quantile function (inverse CDF) of Student's t: the ``t`` with ``P(T <= t) = p`` (R: ``qt(p, df)``).

    ``0 < p < 1`` (NaN gives NaN) and ``df > 0``, ``inf`` for the standard normal. Relative accuracy about 1e-14.

    >>> round(t_quantile(0.975, 10.0), 12)  # R: qt(0.975, 10) = 2.2281388519862739
    2.228138851986
    >>> t_quantile(0.5, 3.0), round(t_quantile(0.025, float("inf")), 12)
    (0.0, -1.95996398454)
    """
    _check_unit("p", p, closed=False)
    _check_positive("df", df, allow_inf=True)
    return _elementwise(_t_quantile_scalar, p, df)


def _t_quantile_scalar(p: float, df: float) -> float:
    if math.isnan(p) or math.isnan(df):
        return math.nan
    if p == 0.5:
        return 0.0
    # Solve for the upper tail q = min(p, 1 - p) (1 - p is exact for p >= 1/2) and use the symmetry.
    if p > 0.5:
        return _t_upper_quantile(1.0 - p, df)
    return -_t_upper_quantile(p, df)
