"""Inference for a linear model from its moments: what ``summary.lm()`` prints, at any scale.

Standard errors, t and p values, the residual standard error, R² and
adjusted R², the F statistic, intervals, the log-likelihood, AIC and BIC
need only ``(A'WA)^+`` (:class:`~gradlm.design.ScaledDesign`), the residual
sum of squares and the fitted values' sum of squares, which the moments give
at any coefficients in O(d^2): in-memory, streamed and distributed fits get
the same numbers. They are computed at the coefficients given, the fit's
(gradient descent's), and ``converged`` says whether those are certified to
be least squares': when not, the numbers describe coefficients that are not
the least-squares ones, and the standard errors understate the error.

The formulas are ``lm()``'s (weights as its precision weights, rows of weight
0 not counted; ``p`` the rank, intercept included):

    sigma^2 = RSS / (n - p)              Var(coef) = sigma^2 (A'WA)^+
    R^2 = 1 - RSS / TSS                  adj. R^2 = 1 - (1 - R^2) (n - i) / (n - p)
    F = ((TSS - RSS) / (p - i)) / sigma^2
    logLik = (sum log w - n (log 2 pi + 1 - log n + log RSS)) / 2

with ``i`` 1 with an intercept, else 0, and ``TSS`` the response's sum of
squares about its (weighted) mean (about 0 without intercept). At least
squares these are ``lm()``'s (which writes ``TSS - RSS`` as the fitted
values' sum of squares); elsewhere they describe the coefficients reached:
the R² is the share of variance those explain (as ``score()``), and sigma is
estimated from their residuals. Several responses get each their own, as
``lm()``'s ``mlm``.

The residual sum of squares comes from the moments, or, where their
rounding could reach 1e-9 of it (a close fit; large coefficients on
near-collinear columns), from the rows (:func:`residual_sum_of_squares`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Optional

import numpy as np
import torch

from .analytic import CHUNK_ROWS, SufficientStatistics
from .design import ScaledDesign, as_weight
from .distributions import f_sf, t_quantile, t_two_sided_p

# Where the moments' rounding could exceed this share of the residual sum of squares, it is taken from the rows
# (when at hand).
CLOSE_FIT = 1e-9
EPS = float(torch.finfo(torch.float64).eps)
# A hat value this close to 1 is 1: the moments know leverages to about this.
LEVERAGE_ONE = 1e-8


class Inference:
    """``lm()``'s inference at coefficients ``(weight, bias)`` (see the module's docstring).

    Arrays are float64, one row per response (``k``), coefficients intercept
    first: ``params`` (k, p) and ``bse``, ``tvalues``, ``pvalues`` alike;
    ``sigma``, ``ssr`` (the RSS), ``rsquared``, ``rsquared_adj``, ``fvalue``,
    ``f_pvalue``, ``llf``, ``aic``, ``bic`` (k,); ``df_resid``, ``df_model``
    (the F statistic's numerator df), ``rank``, ``nobs``; ``aliased`` (p,);
    ``converged``; ``term_names`` (p,), when known. Names follow statsmodels'
    results (arrays keep one row per response, also for one). For collinear
    predictors, ``params`` are ``lm()``'s: NaN for the aliased columns (those
    that are combinations of the columns before them), the others those of the
    model without them, which predicts as the fit does (see
    :class:`gradlm.design.ScaledDesign`).

    >>> import gradlm, torch
    >>> X, y = gradlm.datasets.crops()
    >>> est = gradlm.GDRegressor(seed=0).fit(X, y)
    >>> inf = est.inference_
    >>> inf.params.shape, inf.bse.shape, inf.df_resid
    ((2, 4), (2, 4), 11)
    """

    def __init__(self, design: ScaledDesign, statistics: SufficientStatistics, weight: Any, bias: Any, *,
                 rss: Any = None, converged: bool = True, term_names: Optional[list] = None,
                 rows: Optional[Callable[[], tuple]] = None) -> None:
        """``rss``: the residual sums of squares, when the caller has them from the rows; else from the moments,
        or from ``rows()`` (giving ``(X, y, sample_weight or None)``) where the moments' rounding would show."""
        W = torch.as_tensor(np.asarray(weight, dtype=np.float64)).reshape(statistics.k, -1)
        b = torch.as_tensor(np.asarray(bias, dtype=np.float64)).reshape(-1)
        stats = statistics.to("cpu")
        self.design = design
        self.intercept = design.intercept
        # lm()'s solution for collinear predictors (the same predictions): aliased coefficients NaN, as its NA
        self._coef = design.basic(torch.cat([b[:, None], W], dim=1) if design.intercept else W).numpy()
        self.params = np.where(design.aliased[None, :], np.nan, self._coef)
        self.tss = stats.yy.numpy().copy()
        if rss is not None:
            self.ssr = np.asarray(rss, dtype=np.float64).reshape(-1)
        else:
            self.ssr = stats.sse(W, b).clamp(min=0.0).numpy()
            # The moments' sum cancels: its rounding is about eps times the size of its terms, which is large
            # beside the RSS for a close fit, or for large coefficients on near-collinear columns.
            e = b + W @ stats.mx - stats.my
            size = ((W.abs() @ stats.G.abs() * W.abs()).sum(dim=1) + 2 * (W.abs() * stats.C.abs().T).sum(dim=1)
                    + stats.yy + stats.n * e * e).numpy()
            if rows is not None and bool((10 * EPS * size > CLOSE_FIT * self.ssr).any()):
                X, y, w = rows()
                self.ssr = residual_sum_of_squares(X, y, W, b, w)
        self.mss = self.tss - self.ssr  # (lm()'s fitted sum of squares, at least squares)
        self.weighted = bool(stats.weighted)
        self.term_names = None if term_names is None else list(term_names)
        self.nobs = int(stats.rows)
        self.rank = int(design.rank)
        self.df_resid = self.nobs - self.rank
        self.df_model = self.rank - int(design.intercept)
        self.converged = bool(converged)
        self.aliased = np.asarray(design.aliased, dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.scale = self.ssr / self.df_resid if self.df_resid > 0 else np.full_like(self.ssr, np.nan)
            self.sigma = np.sqrt(self.scale)
            self.cov_unscaled = design.unscaled_covariance().numpy()
            se_unit = np.sqrt(np.clip(np.diag(self.cov_unscaled), 0.0, None))
            se_unit = np.where(self.aliased, np.nan, se_unit)
            self.bse = self.sigma[:, None] * se_unit[None, :]
            self.tvalues = self.params / self.bse
            self.pvalues = t_two_sided_p(self.tvalues, self.df_resid) if self.df_resid > 0 else self.tvalues * np.nan
            self.rsquared = np.where(self.tss > 0, 1.0 - self.ssr / np.where(self.tss > 0, self.tss, 1.0), np.nan)
            # (a saturated fit, n = p, has no residual degrees of freedom: NaN, as lm() gives)
            self.rsquared_adj = (1.0 - (1.0 - self.rsquared) * ((self.nobs - int(self.intercept)) / self.df_resid)
                                 if self.df_resid > 0 else self.mss * np.nan)
            self.fvalue = ((self.mss / self.df_model) / self.scale if self.df_model > 0 and self.df_resid > 0
                           else self.mss * np.nan)
            self.f_pvalue = (f_sf(self.fvalue, self.df_model, self.df_resid)
                             if self.df_model > 0 and self.df_resid > 0 else self.fvalue * np.nan)
            n = self.nobs
            self.llf = 0.5 * (stats.sum_log_weight - n * (math.log(2 * math.pi) + 1.0 - math.log(n)
                                                          + np.log(self.ssr)))
            # REML, as logLik.lm(REML = TRUE): n - p observations, less log |R| of the kept columns' QR
            kept = ~self.aliased
            logdet = -np.linalg.slogdet(self.cov_unscaled[np.ix_(kept, kept)])[1] if kept.any() else 0.0
            m = n - self.rank
            self.llf_reml = (0.5 * (stats.sum_log_weight - m * (math.log(2 * math.pi) + 1.0 - math.log(m)
                                                                + np.log(self.ssr))) - 0.5 * logdet
                             if m > 0 else self.ssr * np.nan)
        self.df_loglik = self.rank + 1  # the coefficients and sigma
        self.aic = -2.0 * self.llf + 2.0 * self.df_loglik
        self.bic = -2.0 * self.llf + math.log(self.nobs) * self.df_loglik

    def cov_params(self) -> np.ndarray:
        """(k, p, p): ``sigma^2 (A'WA)^+`` per response; NaN rows and columns for aliased coefficients."""
        out = self.scale[:, None, None] * self.cov_unscaled[None, :, :]
        out[:, self.aliased, :] = np.nan
        out[:, :, self.aliased] = np.nan
        return out

    def conf_int(self, alpha: float = 0.05, *, level: Optional[float] = None) -> np.ndarray:
        """(k, p, 2): the ``1 - alpha`` (or ``level``) confidence intervals of the coefficients, as ``confint.lm``
        (statsmodels' ``alpha``, R's ``level``)."""
        return confint(self.params, self.bse, self.df_resid, 1.0 - alpha if level is None else level)

    def predict(self, X: Any, interval: str = "none", level: float = 0.95, pred_weight: Any = None) -> dict:
        """Fitted values for the rows of ``X`` (m, d) with their standard errors and intervals, as
        ``predict.lm``: ``fit``, ``se_fit``, ``lower``, ``upper`` (m, k), ``df``, ``residual_scale`` (k,).

        ``interval="confidence"`` bounds the mean response, ``"prediction"`` a new observation (of weight
        ``pred_weight``, default 1: its variance is ``sigma^2 / w``).
        """
        if interval not in ("none", "confidence", "prediction"):
            raise ValueError(f"interval must be 'none', 'confidence' or 'prediction'; got {interval!r}.")
        check_level(level)
        Xt = self._rows(X)
        A = Xt.numpy()
        fit = A @ self._coef[:, int(self.intercept):].T + (self._coef[:, 0] if self.intercept else 0.0)
        unit = self.design.leverage(Xt).numpy()  # Var(fit) / sigma^2
        se_fit = np.sqrt(unit)[:, None] * self.sigma[None, :]
        lower = upper = np.full_like(fit, np.nan)
        if interval != "none":
            variance = se_fit ** 2
            if interval == "prediction":
                w = np.ones(A.shape[0]) if pred_weight is None else np.asarray(pred_weight, dtype=np.float64)
                if w.size != A.shape[0]:
                    raise ValueError(f"pred_weight has {w.size} values for {A.shape[0]} rows; pass one per row.")
                variance = variance + self.scale[None, :] / w.reshape(-1, 1)
            half = _t_critical(level, self.df_resid) * np.sqrt(variance)
            lower, upper = fit - half, fit + half
        return {"fit": fit, "se_fit": se_fit, "lower": lower, "upper": upper, "df": self.df_resid,
                "residual_scale": self.sigma}

    def influence(self, X: Any, residuals: Any, sample_weight: Any = None) -> dict:
        """Row-level diagnostics for the training rows (in-memory data only), as ``lm.influence()`` and
        ``cooks.distance()``: ``hat`` (n,), and ``weighted_residuals``, ``rstandard``, ``rstudent``,
        ``cooks_distance``, ``sigma`` (leave-one-out) (n, k). ``residuals`` are ``y - fitted``."""
        Xt = self._rows(X)
        r = np.asarray(residuals, dtype=np.float64)
        if r.size != Xt.shape[0] * len(self.sigma):
            raise ValueError(f"residuals must be ({Xt.shape[0]}, {len(self.sigma)}): one per row of X and response; "
                             f"got shape {r.shape}.")
        r = r.reshape(Xt.shape[0], -1)
        if sample_weight is None and getattr(self, "weighted", False):
            raise ValueError("this fit was weighted: pass its sample_weight (the hat values depend on them).")
        w = np.ones(Xt.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        hat = w * self.design.leverage(Xt).numpy()
        # A row the fit passes through whatever its y (leverage 1, up to rounding) has a residual of rounding
        # only: lm() sets its hat to 1 and its standardized measures to NaN, never 1e-10 / 1e-12.
        whole = hat > 1.0 - LEVERAGE_ONE
        hat[whole] = 1.0
        wr = np.sqrt(w)[:, None] * r
        wr[whole] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            room = (1.0 - hat)[:, None]
            std = wr / (self.sigma[None, :] * np.sqrt(room))
            sigma_i = (np.sqrt(np.clip(self.ssr[None, :] - np.where(room > 0, wr ** 2 / room, 0.0), 0.0, None)
                               / (self.df_resid - 1)) if self.df_resid > 1 else np.full_like(wr, np.nan))
            student = wr / (sigma_i * np.sqrt(room))
            cooks = (wr / (self.sigma[None, :] * room)) ** 2 * hat[:, None] / self.rank
        zero = w == 0  # rows of weight 0, as lm() shows them
        hat[zero] = 0.0
        for a in (std, student, cooks):
            a[zero | whole] = np.nan
        return {"hat": hat, "weighted_residuals": wr, "rstandard": std, "rstudent": student,
                "cooks_distance": cooks, "sigma": sigma_i}

    def _rows(self, X: Any) -> torch.Tensor:
        """``X`` (m, d) as float64, its columns checked against ``term_names`` when both have names."""
        from .validation import check_X, column_names

        d = len(self.design.aliased) - int(self.intercept)
        names = (getattr(self, "term_names", None) or [])[int(self.intercept):]
        given = column_names(X) if hasattr(X, "columns") else None
        if names and given is not None and list(given) != names:
            raise ValueError(f"X has columns {list(given)}, but the model was fitted with {names}; "
                             "pass the same columns in the same order.")
        return check_X(X, n_features=d, dtype=torch.float64, task="predicting")

    def summary(self, names: Optional[list] = None, response_names: Optional[list] = None,
                exact: Any = None) -> str:
        """A coefficient table per response, as ``summary.lm()`` prints it.

        >>> import gradlm
        >>> X, y = gradlm.datasets.crops()
        >>> print(gradlm.GDRegressor(seed=0).fit(X, y[:, 0]).inference_.summary().splitlines()[1].strip())
        Estimate  Std. Error  t value  Pr(>|t|)
        """
        p = self.params.shape[1]
        if names is not None:
            names = (["(Intercept)"] if self.intercept else []) + list(names)
        else:
            names = self.term_names or ((["(Intercept)"] if self.intercept else [])
                                        + [f"x{j}" for j in range(1, p + 1 - int(self.intercept))])
        width = max(len(n) for n in names) + 2
        responses = response_names or [f"y{j + 1}" for j in range(self.params.shape[0])]
        exact = None if exact is None else np.asarray(exact, dtype=np.float64).reshape(self.params.shape)
        lines = []
        for j, response in enumerate(responses):
            lines.append(f"Response {response}:" if len(responses) > 1 else "Coefficients:")
            lines.append(" " * width + f"{'Estimate':>9}  {'Std. Error':>10}  {'t value':>7}  {'Pr(>|t|)':>8}"
                         + ("  Least squares" if exact is not None else ""))
            for i, name in enumerate(names):
                lines.append(f"{name:<{width}}{self.params[j, i]:>9.4g}  {self.bse[j, i]:>10.4g}  "
                             f"{self.tvalues[j, i]:>7.3f}  {self.pvalues[j, i]:>8.3g}"
                             + (f"  {exact[j, i]:>13.7g}" if exact is not None else ""))
            lines.append(f"Residual standard error: {self.sigma[j]:.4g} on {self.df_resid} degrees of freedom")
            lines.append(f"Multiple R-squared: {self.rsquared[j]:.4g},  Adjusted R-squared: {self.rsquared_adj[j]:.4g}")
            if self.df_model > 0:
                lines.append(f"F-statistic: {self.fvalue[j]:.4g} on {self.df_model} and {self.df_resid} DF,  "
                             f"p-value: {self.f_pvalue[j]:.4g}")
            lines.append("")
        if not self.converged:
            lines.append("Not converged: these are computed at the gradient-descent coefficients, which are not "
                         "certified to be the least-squares ones (sigma comes from their residuals, so the standard "
                         "errors are too large too); raise epochs, or read the least-squares estimates.")
        return "\n".join(lines).rstrip() + "\n"

    def to_dict(self) -> dict:
        """Plain values (NumPy arrays and numbers), as the R package reads them."""
        return {"intercept": self.intercept, "estimate": self.params, "std_error": self.bse,
                "statistic": self.tvalues, "p_value": self.pvalues, "vcov": self.cov_params(),
                "cov_unscaled": self.cov_unscaled, "aliased": self.aliased, "sigma": self.sigma, "rss": self.ssr,
                "mss": self.mss, "r_squared": self.rsquared, "adj_r_squared": self.rsquared_adj,
                "f_statistic": self.fvalue, "f_p_value": self.f_pvalue, "f_df": [self.df_model, self.df_resid],
                "log_lik": self.llf, "log_lik_reml": self.llf_reml, "aic": self.aic, "bic": self.bic,
                "df_residual": self.df_resid,
                "rank": self.rank, "nobs": self.nobs, "converged": self.converged,
                "design": {**self.design.to_dict(), "sigma": self.sigma, "df_residual": self.df_resid}}

    @classmethod
    def from_design(cls, design: dict, weight: Any = None, bias: Any = None) -> "Inference":
        """What :meth:`predict` and :meth:`influence` need, from ``to_dict()["design"]`` (as R keeps it) and
        the coefficients."""
        out = object.__new__(cls)
        out.design = ScaledDesign.from_dict(design)
        out.intercept = out.design.intercept
        out.rank = out.design.rank
        out.sigma = np.atleast_1d(np.asarray(design["sigma"], dtype=np.float64))
        out.scale = out.sigma ** 2
        out.df_resid = int(design["df_residual"])
        out.ssr = out.scale * float(out.df_resid)
        if weight is not None:
            W = np.asarray(weight, dtype=np.float64).reshape(len(out.sigma), -1)
            b = np.asarray(bias, dtype=np.float64).reshape(-1, 1)
            out._coef = out.design.basic(np.hstack([b, W]) if out.intercept else W).numpy()
            out.params = np.where(out.design.aliased[None, :], np.nan, out._coef)
        return out


def infer(weight: Any, bias: Any, X: Any, y: Any = None, *, sample_weight: Any = None, fit_intercept: bool = True,
          converged: bool = True) -> Inference:
    """``lm()``'s inference at coefficients ``(weight, bias)`` (k, d) and (k,) on data ``(X, y)``.

    ``X`` may be arrays, a :class:`~gradlm.streaming.Stream` (``y=None``) or
    the data's :class:`~gradlm.analytic.SufficientStatistics` (``y=None``;
    about the origin without intercept). ``converged`` flags whether the
    coefficients are least squares' (see :class:`Inference`).

    >>> import gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> weight, bias = gradlm.lstsq(X, y)
    >>> infer(weight, bias, X, y).df_resid
    11
    """
    from .lstsq import solve
    from .streaming import Stream
    from .validation import check_X_y_view

    rows = None
    if isinstance(X, (Stream, SufficientStatistics)):
        if y is not None or sample_weight is not None:
            raise ValueError("with a Stream or SufficientStatistics as X, pass neither y nor sample_weight "
                             "(a stream names its weight column).")
        stats = X.statistics() if isinstance(X, Stream) else X
        if not fit_intercept:
            stats = stats.about_origin()
        design = ScaledDesign(stats)
    else:
        design, stats = solve(X, y, sample_weight=sample_weight, fit_intercept=fit_intercept)[1:]
        Xv, yv = check_X_y_view(X, y)
        w = as_weight(sample_weight, Xv.shape[0])
        rows = lambda: (Xv, yv, w)  # noqa: E731
    if not fit_intercept and np.any(np.asarray(bias) != 0):
        raise ValueError("fit_intercept=False, but bias is not 0.")
    d, k = stats.G.shape[0], stats.C.shape[1]
    if np.size(weight) != d * k or np.size(bias) != k:
        raise ValueError(f"the data have {d} feature(s) and {k} response(s); weight must be ({k}, {d}) and bias "
                         f"({k},): pass the data the coefficients were fitted on.")
    return Inference(design, stats, weight, bias, converged=converged, rows=rows)


def check_level(level: float) -> None:
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < float(level) < 1:
        raise ValueError(f"level must be a number between 0 and 1 (e.g. 0.95); got {level!r}.")


def _t_critical(level: float, df: int) -> float:
    """The two-sided ``level`` quantile of t with ``df`` degrees of freedom; NaN without any (a saturated fit)."""
    return t_quantile(0.5 + float(level) / 2, df) if df > 0 else math.nan


def residual_sum_of_squares(X: torch.Tensor, y: torch.Tensor, weight: Any, bias: Any,
                            sample_weight: Optional[torch.Tensor] = None) -> np.ndarray:
    """``sum w (y - X W' - b)^2`` per response from the rows, a chunk at a time in float64 (k,).

    >>> X = torch.tensor([[0.0], [1.0]]); y = torch.tensor([[1.0], [1.0]])
    >>> residual_sum_of_squares(X, y, [[1.0]], [1.0]).tolist()
    [1.0]
    """
    W = torch.as_tensor(np.asarray(weight, dtype=np.float64)).reshape(y.shape[1], -1)
    b = torch.as_tensor(np.asarray(bias, dtype=np.float64)).reshape(-1)
    out = torch.zeros(y.shape[1], dtype=torch.float64)
    for start in range(0, X.shape[0], CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        r = y[rows].to("cpu", torch.float64) - torch.addmm(b, X[rows].to("cpu", torch.float64), W.T)
        r = r * r
        out += r.sum(dim=0) if sample_weight is None else sample_weight[rows].to("cpu", torch.float64) @ r
    return out.numpy()


def confint(estimate: Any, std_error: Any, df: int, level: float = 0.95) -> np.ndarray:
    """``estimate -/+ t_{(1 + level) / 2, df} std_error``: (…, 2) intervals, as ``confint.lm``.

    >>> confint([1.0], [0.5], 10, 0.95).round(4).tolist()
    [[-0.1141, 2.1141]]
    """
    check_level(level)
    estimate, std_error = np.asarray(estimate, dtype=np.float64), np.asarray(std_error, dtype=np.float64)
    half = _t_critical(level, int(df)) * std_error
    return np.stack([estimate - half, estimate + half], axis=-1)


def sequential_anova(statistics: SufficientStatistics, assign: Any, inference: Inference) -> dict:
    """``anova.lm()`` of one fit: each term's sequential sum of squares (terms in order, as in the formula).

    ``assign`` gives each column of the model matrix its term (R's
    ``attr(, "assign")``: 0 the intercept column, then 1, 2, ...). A term's
    sum of squares is the fall in the least-squares RSS when it joins the
    terms before it (from the moments, by the sweep operator on the scaled
    problem); the residual row is the fit's. A term that adds no rank (its
    columns aliased) is left out, as ``anova.lm()`` leaves it.
    """
    assign = [int(a) for a in np.atleast_1d(np.asarray(assign))]
    columns = [a for a in assign if a != 0] if inference.intercept else assign
    stats = statistics.to("cpu")
    d = stats.G.shape[0]
    if len(columns) != d:
        raise ValueError(f"assign has {len(columns)} predictor column(s); the model has {d}.")
    scale = stats.G.diagonal().sqrt()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    # The sweep operator on the scaled moments, column by column in the model's order: each pivot takes a
    # column's part not explained by the columns before it out of the rest, and its share of the RSS out of
    # the RSS (O(d^2) a column, O(d^3) in all). The fit's aliased columns (lm()'s rule, the same sweep's) are
    # passed over.
    G, C = stats.G / torch.outer(scale, scale), stats.C / scale[:, None]
    rss = stats.yy.clone()
    aliased = inference.aliased[int(inference.intercept):]
    terms = list(dict.fromkeys(columns))
    df, sum_sq = [0] * len(terms), [torch.zeros_like(rss) for _ in terms]
    for j, term in enumerate(columns):
        pivot = float(G[j, j])
        if aliased[j] or pivot <= 0.0:
            continue
        t = terms.index(term)
        share = C[j] * C[j] / pivot
        rss -= share
        sum_sq[t] += share
        df[t] += 1
        column = G[:, j].clone()
        C -= torch.outer(column, C[j]) / pivot
        G -= torch.outer(column, G[j]) / pivot
    # a term whose columns are all aliased adds nothing: left out, as anova.lm() leaves it
    shown = [i for i, value in enumerate(df) if value > 0]
    terms = [terms[i] for i in shown]
    ss = torch.stack(sum_sq, dim=1).numpy()[:, shown]  # (k, T)
    dfs = np.asarray(df)[shown]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_sq = ss / dfs[None, :]
        f_value = mean_sq / inference.scale[:, None]
        p_value = np.full_like(f_value, np.nan)  # (NaN for a term that adds no rank, as R's NA)
        tested = dfs > 0
        if inference.df_resid > 0 and tested.any():
            p_value[:, tested] = f_sf(f_value[:, tested], dfs[None, tested], inference.df_resid)
    return {"term": np.asarray(terms), "df": dfs, "sum_sq": ss, "mean_sq": mean_sq, "f_value": f_value,
            "p_value": p_value, "residual_df": inference.df_resid, "residual_sum_sq": inference.ssr}


def drop_terms(inference: dict, assign: Any, terms: Any) -> dict:
    """``drop1()``: for each term, the rise in the RSS when its columns leave the model, with its F test.

    From the fit's inference alone (``Inference.to_dict()``, as R keeps it):
    at least squares, leaving out columns ``S`` raises the RSS by
    ``b_S' (V_SS)^-1 b_S``, ``V = (A'WA)^+`` (aliased columns left out), so no
    model is refitted. ``assign`` as in :func:`sequential_anova`; ``terms``
    the term numbers to drop (R's ``drop.scope()``). Returns ``df`` (T,),
    ``sum_sq``, ``rss``, ``f_value``, ``p_value`` (k, T).

    >>> import gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> out = drop_terms(gradlm.GDRegressor().fit(X, y[:, 0]).inference_.to_dict(), [0, 1, 2, 3], [2])
    >>> out["df"].tolist(), bool(out["f_value"][0, 0] > 100)
    ([1], True)
    """
    estimate = np.atleast_2d(np.asarray(inference["estimate"], dtype=np.float64))
    V = np.asarray(inference["cov_unscaled"], dtype=np.float64).reshape(estimate.shape[1], -1)
    aliased = np.asarray(inference["aliased"], dtype=bool).reshape(-1)
    assign = np.atleast_1d(np.asarray(assign)).astype(int)
    if len(assign) != estimate.shape[1]:
        raise ValueError(f"assign has {len(assign)} columns; the model has {estimate.shape[1]} coefficients.")
    if aliased.any():
        # leaving a term out can let an aliased column in: the identity below would not hold
        raise ValueError("drop1() needs a model without aliased coefficients; leave the aliased (collinear) "
                         "terms out of the formula first.")
    rss = np.atleast_1d(np.asarray(inference["rss"], dtype=np.float64))
    df_resid = int(inference["df_residual"])
    terms = [int(t) for t in np.atleast_1d(np.asarray(terms))]
    df, sum_sq = [], []
    for term in terms:
        cols = np.flatnonzero(assign == term)
        b = estimate[:, cols]  # (k, m)
        sum_sq.append(np.einsum("km,mn,kn->k", b, np.linalg.pinv(V[np.ix_(cols, cols)]), b) if len(cols)
                      else np.zeros(len(rss)))
        df.append(len(cols))
    ss = np.stack(sum_sq, axis=1) if terms else np.zeros((len(rss), 0))
    dfs = np.asarray(df)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_value = (ss / dfs[None, :]) / (rss[:, None] / df_resid)
        p_value = np.full_like(f_value, np.nan)
        tested = dfs > 0
        if df_resid > 0 and tested.any():
            p_value[:, tested] = f_sf(f_value[:, tested], dfs[None, tested], df_resid)
    return {"df": dfs, "sum_sq": ss, "rss": rss[:, None] + ss, "f_value": f_value, "p_value": p_value}


def compare_nested(rss: Any, df: Any) -> dict:
    """``anova(fit1, fit2, ...)`` of nested fits: each fit against the one before.

    ``rss`` (m, k) and ``df`` (m,) are the fits' residual sums of squares and
    residual degrees of freedom. The F tests use the scale of the fit with
    fewest residual df, as ``anova.lmlist``.

    >>> out = compare_nested([[10.0], [6.0]], [20, 18])
    >>> out["f_value"][1].round(4).tolist(), out["df"].tolist()
    ([6.0], [nan, 2.0])
    """
    rss = np.asarray(rss, dtype=np.float64)
    rss = rss.reshape(rss.shape[0], -1)
    res_df = np.asarray(df, dtype=np.float64).reshape(-1)
    big = int(np.argmin(res_df))
    scale = rss[big] / res_df[big]
    step_df = np.concatenate([[np.nan], -np.diff(res_df)])
    step_ss = np.vstack([np.full(rss.shape[1], np.nan), -np.diff(rss, axis=0)])
    with np.errstate(divide="ignore", invalid="ignore"):
        f_value = (step_ss / step_df[:, None]) / scale[None, :]
        p_value = np.full_like(f_value, np.nan)
        for i in range(1, len(res_df)):
            if step_df[i] != 0 and np.isfinite(step_df[i]):
                p_value[i] = f_sf(np.abs(f_value[i]), abs(step_df[i]), res_df[big])
    return {"res_df": res_df, "rss": rss, "df": step_df, "sum_sq": step_ss, "f_value": f_value, "p_value": p_value}
