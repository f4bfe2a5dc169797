"""What a fit is judged by: its loss beside the exact optimum's, R², and a verdict that can be trusted.

The exact least-squares solution is known from the data's moments, so a fit
is *certified*: it has converged when every coefficient is within ``tol`` of
the least-squares one, measured in the coefficient's own units,

    |theta - theta*| <= tol * (|theta*| + unit),

where a weight's unit is ``sd(y) / sd(x)`` (the coefficient that moves the
prediction by one standard deviation of ``y`` per standard deviation of
``x``) and the bias's is ``sd(y) (1 + sum |mean(x)| / sd(x))``. The units make
the measure the same on the standardized and on the original scale, and
meaningful for coefficients that are zero. ``FitReport`` holds the verdict and
the numbers it rests on; ``GDRegressor``, the CLI's ``--json``, the R bridge
and R's ``print``/``summary`` all read it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Optional

import numpy as np
import torch

from .analytic import SufficientStatistics

# The certified tolerance by the parameters' dtype: float32 parameters hold
# about 7 digits, float64 about 16; ill-conditioning costs digits of either
# (the gradient's rounding moves the fixed point by about kappa * eps).
BASE_TOL = {torch.float64: 1e-10, torch.float32: 1e-6, torch.bfloat16: 1e-2, torch.float16: 1e-3}


def default_tol(dtype: torch.dtype, condition_number: float = 1.0, exact_condition: Optional[float] = None) -> float:
    """The tolerance ``tol="auto"`` certifies at, for parameters of ``dtype``.

    At least the dtype's base tolerance; looser on ill-conditioned data,
    where the exact solution itself is known only to about
    ``kappa * eps`` (``exact_condition``: the condition number of the
    column-scaled problem :func:`gradlm.lstsq` solves; by default
    ``condition_number``), and where parameters stored in a short dtype stall
    about ``sqrt(kappa)`` units in the last place from it (``kappa`` the
    Hessian's ``condition_number``, what training faces).

    Training on unscaled columns (``standardize=False``, ``Year`` beside a
    ratio) can have a Hessian of condition number 1e15 while the scaled
    problem has 1e4: the exact solution is still known to 1e-12, and the
    tolerance stays tight (a loose one had certified coefficients far from it).

    >>> default_tol(torch.float64), default_tol(torch.float32), default_tol(torch.float64, 1e8)
    (1e-10, 1e-06, 8.881784197001252e-08)
    >>> f"{default_tol(torch.float64, 4.5e15, exact_condition=1e4):.2g}"
    '1.5e-08'
    """
    exact = condition_number if exact_condition is None else exact_condition
    if not (math.isfinite(condition_number) and math.isfinite(exact)):
        return 1.0
    return max(BASE_TOL.get(dtype, 1e-6), 4 * torch.finfo(torch.float64).eps * exact,
               torch.finfo(dtype).eps * math.sqrt(condition_number))


def coefficient_units(statistics: SufficientStatistics) -> tuple:
    """``(unit_weight (k, d), unit_bias (k,))``: each coefficient's natural scale (see the module's docstring)."""
    sx = statistics.std.cpu()
    sy = (statistics.yy.cpu() / statistics.n).sqrt()
    sy = torch.where(sy > 0, sy, statistics.my.cpu().abs().clamp(min=1.0))  # a constant response
    safe = torch.where(sx > 0, sx, torch.ones_like(sx))
    unit_w = sy[:, None] / safe[None, :]
    unit_b = sy * (1.0 + (statistics.mx.cpu().abs() / safe).sum())
    return unit_w, unit_b


class CoefficientDistance:
    """``max |theta - theta*| / (|theta*| + unit)`` over all coefficients (see the module's docstring).

    Measured on the data's original scale: for standardized statistics
    (``statistics.origin``), parameters are mapped back first, so that a
    fit certified on the standardized scale is certified as reported (the
    original intercept takes every weight's error times its column's mean).
    For collinear predictors least squares has many solutions: the part of
    ``theta - theta*`` that the loss does not see (the Hessian's null space)
    is left out, so any least-squares solution is at distance 0.

    >>> X = torch.tensor([[1.0], [2.0], [4.0]], dtype=torch.float64); y = 2 * X + 1
    >>> distance = CoefficientDistance(SufficientStatistics(X, y), ([[2.0]], [1.0]))
    >>> distance(torch.tensor([[2.0]]), torch.tensor([1.0])), round(distance([[2.0]], [1.5]), 6)
    (0.0, 0.061266)
    """

    def __init__(self, statistics: SufficientStatistics, optimum: Any, curvature: Any = None,
                 device: Any = None) -> None:
        from .stability import Curvature

        opts: dict[str, Any] = {"dtype": torch.float64, "device": device if device is not None else statistics.G.device}
        k, d = statistics.k, statistics.G.shape[0]
        # Row vectors [w, b] map to the original scale as theta_o = rows * (theta @ L) + shift (identity for
        # statistics that are not standardized); differences need only the linear part.
        L = torch.eye(d + 1, **opts)
        rows, shift = torch.ones(k, 1, **opts), torch.zeros(k, d + 1, **opts)
        original = statistics
        if statistics.origin is not None:
            original, center, scale, y_center, y_scale = statistics.origin
            center, scale = center.to(**opts), scale.to(**opts)
            L[:d, :d] = torch.diag(1.0 / scale)
            L[:d, d] = -center / scale
            rows, shift[:, d] = y_scale.to(**opts)[:, None], y_center.to(**opts)
        unit_w, unit_b = coefficient_units(original)
        self.theta = torch.cat([torch.as_tensor(optimum[0], **opts).reshape(k, -1),
                                torch.as_tensor(optimum[1], **opts).reshape(-1, 1)], dim=1)  # the model's scale
        theta_o = rows * (self.theta @ L) + shift
        curvature = curvature if curvature is not None else Curvature.of(statistics)
        if curvature.null_space is not None:  # leave out, on the original scale, what the data do not decide
            Q = torch.linalg.qr((curvature.null_space.to(**opts).T @ L).T).Q
            L = L - (L @ Q) @ Q.T
        self.map = L
        # |diff_o| / (|theta_o| + unit): the row factor and the denominators in one multiplier
        self.weights = rows / (theta_o.abs() + torch.cat([unit_w, unit_b[:, None]], dim=1).to(**opts))
        self.rank = curvature.rank
        self.n_coefficients = d + 1

    def __call__(self, weight: Any, bias: Any) -> float:
        """(Called every epoch by the certified stop: a few tensor operations.)"""
        W = torch.as_tensor(weight).detach().to(self.theta).reshape(self.theta.shape[0], -1)
        b = torch.as_tensor(bias).detach().to(self.theta).reshape(-1, 1)
        diff = torch.cat([W, b], dim=1).sub_(self.theta)
        value = float(((diff @ self.map).mul_(self.weights)).abs_().max())
        return value if math.isfinite(value) else math.inf


class SolvedDistance:
    """:class:`CoefficientDistance` to an optimum that an iterate identifies: ``solve(weight)`` gives it, or
    None (then the distance is infinite: not certified). An L1 penalty's optimum follows from the signs of
    an iterate (see :mod:`gradlm.penalty`)."""

    def __init__(self, statistics: SufficientStatistics, solve: Any, curvature: Any = None, device: Any = None
                 ) -> None:
        self.statistics, self.solve, self.curvature, self.device = statistics, solve, curvature, device
        self._last: Any = None
        self._distance: Optional[CoefficientDistance] = None
        self.rank, self.n_coefficients = getattr(curvature, "rank", None), statistics.G.shape[0] + 1

    def __call__(self, weight: Any, bias: Any) -> float:
        optimum = self.solve(weight)
        if optimum is None:
            return math.inf
        if optimum is not self._last:
            self._last = optimum
            self._distance = CoefficientDistance(self.statistics, optimum, self.curvature, self.device)
        assert self._distance is not None
        return self._distance(weight, bias)


def r_squared(sse: Any, sst: Any) -> np.ndarray:
    """``1 - SSE / SST`` per output; a constant response scores 1 when fitted exactly, else 0 (as scikit-learn).

    >>> r_squared([1.0, 0.0, 2.0], [4.0, 0.0, 0.0]).tolist()
    [0.75, 1.0, 0.0]
    """
    sse, sst = np.asarray(sse, dtype=np.float64), np.asarray(sst, dtype=np.float64)
    safe = np.where(sst > 0, sst, 1.0)
    return np.where(sst > 0, 1.0 - sse / safe, np.where(sse == 0, 1.0, 0.0))


@dataclass
class FitReport:
    """A fit's numbers and verdict.

    Attributes
    ----------
    loss : float
        MSE of the final parameters (float64, from the moments).
    optimum_loss : float
        MSE of the least-squares solution.
    gap : float
        ``loss - optimum_loss`` (>= 0 up to rounding); with a penalty, that of the penalized objective
        (in the MSE's units).
    relative_gap : float
        The largest over outputs of each output's gap over its optimum's
        loss (the gap itself where that is 0): the same on any scale of y.
    coef_error : float
        The largest coefficient error, in the units above.
    tol : float or None
        The certified tolerance (None: none was asked).
    converged : bool
        ``coef_error <= tol`` (with ``tol=None``, at the dtype's default
        tolerance): certified, never inferred from the loss curve.
    stop_reason : str
    epochs_run : int
    r_squared : list of float, per output
    condition_number : float
        Of the loss's Hessian on the scale the optimizer worked on.
    lr, momentum : float
        The step used (chosen by ``lr="auto"`` or given).
    batch_size : int or None
        None for full batch.
    dtype : str
        The parameters' dtype.
    epochs_needed, epochs_needed_auto : int or None
        About how many full-batch epochs reach the tolerance at the step used,
        and at the automatic step (from the Hessian's eigenvalues; None where
        that is not known: mini-batches, Adam, or a step that diverges).
    rank, n_coefficients : int
        The rank of ``[X, 1]`` (decided on the column-scaled problem) and its
        column count; below it, predictors are collinear and only the part of
        the coefficients the data decide is certified.
    penalized : bool
        Trained with a penalty (ridge, lasso, elastic net): the optimum, the
        distance and the gaps are the penalized objective's.
    standardized : bool
        Trained on standardized data (the condition number is theirs).
    """

    loss: float
    optimum_loss: float
    gap: float
    coef_error: float
    tol: Optional[float]
    converged: bool
    stop_reason: str
    epochs_run: int
    r_squared: list = field(default_factory=list)
    condition_number: float = math.nan
    lr: Optional[float] = None
    momentum: Optional[float] = None
    batch_size: Optional[int] = None
    relative_gap: float = math.nan
    dtype: Optional[str] = None
    epochs_needed: Optional[int] = None
    epochs_needed_auto: Optional[int] = None
    rank: Optional[int] = None
    n_coefficients: Optional[int] = None
    penalized: bool = False
    standardized: bool = False

    @classmethod
    def from_moments(cls, statistics: SufficientStatistics, weight: Any, bias: Any, optimum: Any, *,
                     tol: Optional[float], certify_at: float, stop_reason: str, epochs_run: int,
                     condition_number: float = math.nan, lr: Optional[float] = None,
                     momentum: Optional[float] = None, batch_size: Optional[int] = None,
                     curvature: Any = None, penalty: Any = None) -> "FitReport":
        """The report of ``(weight, bias)`` on the data whose moments are ``statistics``.

        ``optimum`` is the least-squares ``(weight, bias)`` (:func:`gradlm.lstsq`), or with a
        :class:`~gradlm.penalty.Penalty` the penalized one (None: an L1 penalty's optimum not certified yet);
        the gaps are then of the penalized objective. ``certify_at`` is the tolerance ``converged`` is judged by.
        """
        device = statistics.G.device
        W = torch.as_tensor(weight).detach().to(device=device, dtype=torch.float64)
        b = torch.as_tensor(bias).detach().to(device=device, dtype=torch.float64).reshape(-1)
        sse = statistics.sse(W, b).cpu()
        nk = statistics.n * statistics.k
        loss = float(sse.sum() / nk)
        common = dict(tol=tol, stop_reason=stop_reason, epochs_run=epochs_run, loss=loss,
                      r_squared=r_squared(sse.numpy(), statistics.yy.cpu().numpy()).tolist(),
                      condition_number=float(condition_number), lr=lr, momentum=momentum, batch_size=batch_size,
                      penalized=penalty is not None, standardized=statistics.origin is not None)
        if optimum is None:
            return cls(optimum_loss=math.nan, gap=math.nan, coef_error=math.inf, converged=False,
                       relative_gap=math.nan, rank=getattr(curvature, "rank", None),
                       n_coefficients=W.shape[1] + 1, **common)
        best_W, best_b = (torch.as_tensor(a, dtype=torch.float64).to(device) for a in optimum)
        best = statistics.sse(best_W, best_b).cpu()
        # each output's objective, in units of its sum of squares: sse (+ 2 n penalty)
        objective, best_objective = sse.clone(), best.clone()
        if penalty is not None:
            objective += 2 * statistics.n * penalty.value(W).cpu()
            best_objective += 2 * statistics.n * penalty.value(best_W).cpu()
        excess = (objective - best_objective).clamp(min=0.0)
        relative = torch.where(best_objective > 0,
                               excess / torch.where(best_objective > 0, best_objective, torch.ones_like(best)),
                               excess / nk)
        distance = CoefficientDistance(statistics, optimum, curvature)
        error = distance(W, b)
        return cls(optimum_loss=float(best.sum() / nk), gap=max(float((objective - best_objective).sum() / nk), 0.0),
                   coef_error=error,
                   converged=bool(error <= certify_at), rank=distance.rank, n_coefficients=distance.n_coefficients,
                   relative_gap=float(relative.max()), **common)

    def on_scale_of(self, statistics: SufficientStatistics, weight: Any, bias: Any, optimum: Any,
                    penalty: Any = None) -> "FitReport":
        """This report with the loss, the optimum's loss, the gap and R² of ``(weight, bias)`` on the data of
        ``statistics`` (the original scale of a standardized fit; ``penalty`` on that scale); the verdict is
        kept as certified."""
        other = FitReport.from_moments(statistics, weight, bias, optimum, tol=self.tol, certify_at=math.inf,
                                       stop_reason=self.stop_reason, epochs_run=self.epochs_run, penalty=penalty)
        return replace(self, loss=other.loss, optimum_loss=other.optimum_loss, gap=other.gap,
                       relative_gap=other.relative_gap, r_squared=other.r_squared)

    def verdict(self) -> str:
        """One line: converged or not, the gap, and (when not) what to change.

        >>> r = FitReport(loss=1.0, optimum_loss=1.0, gap=0.0, coef_error=3e-12, tol=1e-10, converged=True,
        ...               stop_reason="converged", epochs_run=42, relative_gap=0.0)
        >>> r.verdict()
        'converged in 42 epochs: coefficients within 3e-12 of least squares (tol 1e-10), loss gap 0 (relative)'
        """
        target = "the penalized optimum" if self.penalized else "least squares"
        if self.penalized and not math.isfinite(self.coef_error):
            reached = ("the penalized optimum not identified yet (the coefficients' signs do not meet its KKT "
                       "conditions)")
        else:
            reached = f"coefficients within {self.coef_error:.2g} of {target}"
        if self.tol is not None:
            reached += f" (tol {self.tol:.2g})"
        if self.rank is not None and self.n_coefficients is not None and self.rank < self.n_coefficients:
            reached += (f" on the {self.rank} of {self.n_coefficients} directions the data decide "
                        "(collinear predictors)")
        if math.isfinite(self.relative_gap):
            reached += f", loss gap {self.relative_gap:.3g} (relative)"
        if self.converged:
            return f"converged in {self.epochs_run} epochs: {reached}"
        why = {"diverged": "diverged", "interrupted": "interrupted", "callback": "stopped by a callback",
               "patience": "stopped by patience (the monitored loss stopped improving)"}.get(
            self.stop_reason, f"ran all {self.epochs_run} epochs")
        return f"did not converge ({why}): {reached}"

    def advice(self) -> str:
        """What to change when the fit did not converge (empty when it did)."""
        if self.converged:
            return ""
        exact = "take the exact solution from lstsq()"
        if self.batch_size is not None:
            return ("Mini-batch SGD settles within a noise band around the optimum, not on it (a decaying "
                    "lr_schedule narrows it): train full batch (batch_size=None, the default; an epoch then costs "
                    f"O(d^2) on the data's moments){'' if self.penalized else ', or ' + exact}.")
        kappa = self.condition_number
        hints = []
        if math.isfinite(kappa) and kappa > 1e4:
            per_digit = f"gradient descent with lr='auto' needs about {math.sqrt(kappa):.2g} epochs per digit"
            hints.append(f"The loss's Hessian has condition number {kappa:.2g} on the standardized data: some "
                         f"predictors are close to collinear, and {per_digit}; combining or dropping nearly "
                         "collinear columns lowers it." if self.standardized else
                         f"The loss's Hessian has condition number {kappa:.2g}: {per_digit}; standardizing the "
                         "data (GDRegressor and gd_lm do by default) often lowers it.")
        if self.epochs_needed is not None and self.epochs_needed > self.epochs_run:
            step = f"lr={self.lr:.3g}" + (f", momentum={self.momentum:.6g}" if self.momentum else "")
            hints.append(f"At this step ({step}) it needs about {self.epochs_needed:,} epochs"
                         + (f"; lr='auto' and momentum='auto' need about {self.epochs_needed_auto:,}"
                            if self.epochs_needed_auto is not None and self.epochs_needed_auto < self.epochs_needed
                            else "") + ".")
        if self.dtype in ("float32", "float16", "bfloat16"):
            hints.append(f"{self.dtype} parameters hold few digits; float64 ones (a float64 model) reach 1e-10.")
        hints.append("Raise epochs." if self.penalized else "Raise epochs, or take the exact solution from lstsq().")
        return " ".join(hints)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["verdict"] = self.verdict()
        return out
