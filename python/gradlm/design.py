"""The design matrix, column-scaled and factored once: the exact solution, the rank and the inference rest on it.

Least squares and its inference need ``(A'WA)^+`` for the model matrix
``A = [1, X]`` (``X`` alone without intercept). Columns may differ by 1e9 in
scale (polynomial terms), so the factorization is always of the
column-scaled problem (each column divided by its root sum of squares), and
the rank is decided there:

- **from the moments** when they are well conditioned (condition number of
  the scaled centred ``X'WX`` below ``MAX_CONDITION``): ``eigh`` of the
  scaled centred moments, O(d^3) whatever the number of rows. Streams and
  distributed fits have only these. Normal equations lose about
  ``log10(kappa^2)`` digits: where that is more than 3 (``kappa^2 >
  REFINE_CONDITION``) and the rows are at hand, one step of iterative
  refinement (the residual computed from the rows) wins them back, for one
  more pass over the rows.
- **from the rows** otherwise, when they are at hand: an SVD of the scaled
  ``sqrt(w) A``, then one step of iterative refinement, as accurate as
  ``lm()``'s QR (on a degree-10 polynomial design, more). Streams with
  ill-conditioned moments keep the moments' answer: about
  ``16 - 2 log10(kappa)`` digits.

**Rank, as lm() decides it.** Column by column in the model's order, a
column whose part outside the columns kept before it is below ``LM_TOL``
(1e-7, ``lm()``'s QR tolerance) of its length is *aliased*: from the rows, by
the diagonal of a QR of the scaled columns; from the moments, by the sweep
operator's pivots (the squared parts). The rank counts the intercept, as
``lm()``'s does. Least squares then solves the model without the aliased
columns (their coefficients 0, where ``lm()`` prints NA), and
:meth:`ScaledDesign.basic` moves any other solution (gradient descent ends at
the least-norm one on the standardized scale) there without changing its
predictions. (Moments alone, on a design too ill-conditioned for them, leave
out further directions below ``lambda_max * 10 eps * d``.)

Everything the inference needs is kept as ``half`` (p, q), with
``(A'WA)^+ = half half'``, so that streamed, distributed and in-memory fits
share one set of formulas (:mod:`gradlm.inference`).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np
import torch

from .analytic import CHUNK_ROWS, SufficientStatistics

# Above this condition number of the scaled moments, the rows (when at hand) are factored instead.
MAX_CONDITION = 1e6
# Above this one, a pass over the rows refines the moments' solution (below, it is good to about 1e-13 already).
REFINE_CONDITION = 1e3
EPS = float(torch.finfo(torch.float64).eps)
RANK_RTOL_ROWS = EPS
RANK_RTOL_MOMENTS = 10 * EPS
# lm()'s rule (its QR's tolerance): a column whose part outside the columns before it is below this share of its
# length is aliased.
LM_TOL = 1e-7


def _scaled_eigh(stats: SufficientStatistics) -> tuple:
    """``(Gs, scale, kept, lam, vectors)``: the scaled centred moments, the columns' scales, the columns lm()
    keeps, and the eigenpairs of ``Gs`` on them (largest first, as an SVD's)."""
    G = stats.G.cpu()
    scale = G.diagonal().sqrt()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    Gs = G / torch.outer(scale, scale)
    kept = lm_columns(Gs)
    lam, vectors = torch.linalg.eigh(Gs[kept][:, kept])
    return Gs, scale, kept, lam.flip(0), vectors.flip(1)


def scaled_condition_number(statistics: SufficientStatistics) -> float:
    """The condition number of the problem :func:`gradlm.lstsq` solves: the centred moments (about the origin
    without intercept) scaled to unit diagonal, on the columns lm() keeps. It sets how well the exact solution
    itself is known (about ``kappa * eps``), however badly the columns' scales differ.

    >>> X = torch.tensor([[1.0, 1e6], [2.0, 3e6], [4.0, 2e6]], dtype=torch.float64)
    >>> round(scaled_condition_number(SufficientStatistics(X, X[:, :1])), 2)
    1.97
    """
    lam = _scaled_eigh(statistics)[3]
    if not len(lam):
        return 1.0
    return float(lam[0] / lam[-1]) if float(lam[-1]) > 0 else math.inf


def lm_columns(Gs: torch.Tensor) -> torch.Tensor:
    """(d,) bool: the columns ``lm()`` keeps, from the scaled centred moments ``Gs`` (unit diagonal; 0 for a
    constant column): in order, a column is kept when its residual after the kept columns before it has more
    than ``LM_TOL`` of its length (the sweep operator gives the squared residual as the pivot).

    >>> lm_columns(torch.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=torch.float64)).tolist()
    [True, False]
    """
    G = Gs.clone()
    kept = torch.zeros(G.shape[0], dtype=torch.bool)
    for j in range(G.shape[0]):
        pivot = float(G[j, j])
        if pivot <= LM_TOL * LM_TOL:
            continue
        kept[j] = True
        column = G[:, j].clone()
        G -= torch.outer(column, G[j]) / pivot
    return kept


class ScaledDesign:
    """The column-scaled model matrix, factored (see the module's docstring).

    Attributes: ``weight`` (k, d) and ``bias`` (k,) the least-squares
    solution (float64 tensors; absent in a design rebuilt by
    :meth:`from_dict`), ``half`` (p, q) with ``(A'WA)^+ = half half'``
    (coefficients intercept first), ``aliased`` (p,) bool, ``rank`` (of
    ``A``, intercept included), ``intercept``, ``total_weight`` (n, or
    sum(w)), ``center`` (d,) the (weighted) column means used for leverages,
    and ``from_rows`` (whether the rows were factored).

    >>> X = torch.tensor([[1.0, 2.0], [2.0, 4.1], [3.0, 5.9]], dtype=torch.float64)
    >>> y = 1 + X @ torch.tensor([[1.0], [2.0]], dtype=torch.float64)
    >>> design = ScaledDesign(SufficientStatistics(X, y), lambda: (X, y, None))
    >>> design.rank, [round(v, 6) for v in design.weight[0].tolist()], round(float(design.bias[0]), 6)
    (3, [1.0, 2.0], 1.0)
    """

    def __init__(self, statistics: SufficientStatistics, rows: Optional[Callable[[], tuple]] = None) -> None:
        """``rows``: None (moments only) or a function giving ``(X, y, sample_weight or None)``, called only
        when the rows are needed."""
        stats = statistics.to("cpu")
        d = stats.G.shape[0]
        self.center = stats.mx.clone()
        self.total_weight = float(stats.n)
        self.intercept = bool(stats.centered)
        Gs, scale, kept, lam, vectors = _scaled_eigh(stats)
        top = float(lam[0]) if len(lam) else 0.0
        well_conditioned = len(lam) == 0 or (float(lam[-1]) > 0 and top / float(lam[-1]) < MAX_CONDITION)
        self.from_rows = rows is not None and not well_conditioned
        if self.from_rows:
            assert rows is not None
            X, y, w = rows()
            self._factor_rows(X, y, w, stats)
            return
        # (moments only and ill-conditioned: directions below the moments' resolution are left out)
        resolved = lam > top * RANK_RTOL_MOMENTS * max(d, 1)
        s, V = lam[resolved].sqrt(), vectors[:, resolved]

        def solve(B: torch.Tensor) -> torch.Tensor:  # (Xs'Xs)^+ B on the kept columns of the scaled centred problem
            return V @ ((V.T @ B) / (s * s)[:, None])

        Cs = (stats.C / scale[:, None])[kept]
        scaled = solve(Cs)
        if rows is not None and len(lam) and top > REFINE_CONDITION * float(lam[-1]):
            # Normal equations lose about log10(kappa^2) digits; one step of iterative refinement, the residual
            # computed from the rows, wins them back (as the corrected semi-normal equations do).
            scaled += solve(self._cross_residual(rows(), scale, kept, stats.my, scaled))
        weight = torch.zeros(d, stats.k, dtype=torch.float64)
        weight[kept] = scaled / scale[kept][:, None]
        self.weight = weight.T.contiguous()
        self.bias = stats.my - self.weight @ stats.mx
        self.rank = int(resolved.sum()) + self.intercept
        slopes = torch.zeros(d, len(s), dtype=torch.float64)
        slopes[kept] = V / s / scale[kept][:, None]  # (X_c'WX_c)^+ = slopes slopes' (0 for aliased columns)
        # each aliased column as a combination of the kept ones (scaled, centred): its null direction
        combination = Gs[kept][:, ~kept]
        combination = V @ ((V.T @ combination) / (s * s)[:, None])  # (kept, aliased)
        moves = null_directions(combination, kept, scale)
        if self.intercept:
            # [1, x] against the centred parameters: the intercept is b - m'w (block inverse), made exact by an
            # extra column 1/sqrt(sum w); moving the slopes along a null direction n moves it by -m'n
            self.half = torch.zeros(d + 1, slopes.shape[1] + 1, dtype=torch.float64)
            self.half[0, :-1] = -(self.center @ slopes)
            self.half[0, -1] = 1.0 / math.sqrt(self.total_weight)
            self.half[1:, :-1] = slopes
            moves = torch.cat([-(self.center @ moves)[None, :], moves])
            kept = torch.cat([torch.tensor([True]), kept])
        else:
            self.half = slopes
        self.aliased = (~kept).numpy()
        self.moves = moves

    def _factor_rows(self, X: torch.Tensor, y: torch.Tensor, w: Optional[torch.Tensor],
                     stats: SufficientStatistics) -> None:
        """The aliased columns by a QR of the scaled ``sqrt(w) A`` (lm()'s rule), then an SVD of the kept
        columns, one step of refinement."""
        A = X.to("cpu", torch.float64)
        if self.intercept:
            A = torch.cat([torch.ones(A.shape[0], 1, dtype=torch.float64), A], dim=1)
        Y = y.to("cpu", torch.float64)
        if w is not None:
            root = w.to("cpu", torch.float64).reshape(-1, 1).sqrt()
            A, Y = A * root, Y * root
        scale = A.norm(dim=0)
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        A = A / scale
        p = A.shape[1]
        R = torch.linalg.qr(A, mode="r").R
        # |R_jj| is column j's part outside the columns before it, relative to its length (1 after scaling)
        diagonal = torch.zeros(p, dtype=torch.float64)
        diagonal[: min(R.shape)] = R.diagonal().abs()
        kept = diagonal > LM_TOL
        U, s, Vh = torch.linalg.svd(A[:, kept], full_matrices=False)
        resolved = s > (float(s[0]) * RANK_RTOL_ROWS * max(A.shape) if len(s) else 0.0)
        U, s, V = U[:, resolved], s[resolved], Vh[resolved].T
        self.rank = int(resolved.sum())
        coef_kept = V @ ((U.T @ Y) / s[:, None])
        coef_kept += V @ ((U.T @ (Y - A[:, kept] @ coef_kept)) / s[:, None])  # one step of iterative refinement
        coef = torch.zeros(p, Y.shape[1], dtype=torch.float64)
        coef[kept] = coef_kept / scale[kept][:, None]
        coef = coef.T  # (k, p)
        self.bias = coef[:, 0].contiguous() if self.intercept else torch.zeros(coef.shape[0], dtype=torch.float64)
        self.weight = coef[:, int(self.intercept):].contiguous()
        self.half = torch.zeros(p, len(s), dtype=torch.float64)
        self.half[kept] = V / s / scale[kept][:, None]
        combination = V @ ((U.T @ A[:, ~kept]) / s[:, None])  # each aliased column from the kept ones (scaled)
        self.moves = null_directions(combination, kept, scale)
        self.aliased = (~kept).numpy()

    def basic(self, coef: Any) -> torch.Tensor:
        """Coefficients (k, p), intercept first, moved along the null space to ``lm()``'s solution: 0 for the
        aliased columns, the same predictions (themselves at full rank)."""
        coef = torch.as_tensor(np.asarray(coef, dtype=np.float64))
        if not self.aliased.any():
            return coef
        return coef - coef[:, torch.as_tensor(self.aliased)] @ self.moves.T

    def _cross_residual(self, rows: tuple, scale: torch.Tensor, kept: torch.Tensor, y_center: torch.Tensor,
                        scaled: torch.Tensor) -> torch.Tensor:
        """``Xs' W (yc - Xs scaled)`` over the kept columns, from the rows, a chunk at a time in float64."""
        X, y, w = rows
        out = torch.zeros_like(scaled)
        for start in range(0, X.shape[0], CHUNK_ROWS):
            xs = ((X[start : start + CHUNK_ROWS].to("cpu", torch.float64) - self.center) / scale)[:, kept]
            r = (y[start : start + CHUNK_ROWS].to("cpu", torch.float64) - y_center).sub_(xs @ scaled)
            if w is not None:
                r.mul_(w[start : start + CHUNK_ROWS].to("cpu", torch.float64)[:, None])
            out += xs.T @ r
        return out

    def unscaled_covariance(self) -> torch.Tensor:
        """``(A'WA)^+`` (p, p), intercept first when there is one: ``summary.lm``'s ``cov.unscaled``."""
        return self.half @ self.half.T

    def leverage(self, X: torch.Tensor) -> torch.Tensor:
        """``a'(A'WA)^+ a`` for each row ``a = [1, x]`` of ``X`` (m, d): the variance of the fitted value in
        units of sigma^2 (the hat value, over the row's weight)."""
        X = X.to("cpu", torch.float64)
        if not self.intercept:
            z = X @ self.half
        elif self.from_rows:
            z = self.half[0] + X @ self.half[1:]
        else:  # centred first (no cancellation), then the intercept's own column
            z = (X - self.center) @ self.half[1:]
            z[:, -1] = self.half[0, -1]
        return (z * z).sum(dim=1)

    def to_dict(self) -> dict:
        """Plain arrays (for R, or a file); :meth:`from_dict` rebuilds the design from them."""
        return {"half": self.half.numpy(), "aliased": self.aliased, "rank": self.rank, "center": self.center.numpy(),
                "total_weight": self.total_weight, "intercept": self.intercept, "from_rows": self.from_rows,
                "moves": self.moves.numpy()}

    @classmethod
    def from_dict(cls, values: dict) -> "ScaledDesign":
        """The design :meth:`to_dict` wrote (without its solution)."""
        out = object.__new__(cls)
        out.center = torch.as_tensor(np.asarray(values["center"], dtype=np.float64)).reshape(-1)
        d = out.center.numel()
        out.intercept = bool(values["intercept"])
        out.half = torch.as_tensor(np.asarray(values["half"], dtype=np.float64)).reshape(d + out.intercept, -1)
        out.aliased = np.asarray(values["aliased"], dtype=bool).reshape(-1)
        out.moves = torch.as_tensor(np.asarray(values["moves"], dtype=np.float64)).reshape(len(out.aliased), -1)
        out.rank = int(values["rank"])
        out.total_weight = float(values["total_weight"])
        out.from_rows = bool(values["from_rows"])
        return out


def null_directions(combination: torch.Tensor, kept: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """(p, aliased): for each aliased column, the coefficient change that leaves predictions alone: 1 on it, minus
    its combination of the kept columns (``combination`` (kept, aliased), on the scaled columns ``x / scale``).

    >>> null_directions(torch.tensor([[2.0]]), torch.tensor([True, False]), torch.tensor([1.0, 1.0])).tolist()
    [[-2.0], [1.0]]
    """
    moves = torch.zeros(len(kept), int((~kept).sum()), dtype=torch.float64)
    moves[~kept] = torch.eye(moves.shape[1], dtype=torch.float64)
    moves[kept] = -combination * scale[~kept][None, :] / scale[kept][:, None]
    return moves


def as_weight(sample_weight: Any, n_rows: int) -> Optional[torch.Tensor]:
    """``sample_weight`` as a float64 tensor (n,), checked: finite, >= 0, not all 0; None stays None.

    >>> as_weight([1, 2], 2).tolist()
    [1.0, 2.0]
    """
    if sample_weight is None:
        return None
    try:
        w = torch.tensor(np.asarray(sample_weight, dtype=np.float64)).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError("sample_weight must be numbers, one per row.") from None
    if w.numel() != n_rows:
        raise ValueError(f"sample_weight has {w.numel()} values, but X has {n_rows} rows; pass one weight per row.")
    if not bool(torch.isfinite(w).all()) or bool((w < 0).any()):
        raise ValueError("sample_weight must be finite and >= 0 (missing or negative weights are not allowed).")
    if not bool((w > 0).any()):
        raise ValueError("sample_weight is zero for every row; at least one row needs a positive weight.")
    return w
