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

**Rank.** From the rows, a singular value counts when it exceeds
``s_max * eps * max(n, p)`` (LAPACK's and NumPy's rule); from the moments,
an eigenvalue (a squared singular value) when it exceeds
``lambda_max * 10 eps * d`` (the moments know the squares to about ``d eps``
of the largest). The rank counts the intercept, as ``lm()``'s does. Below
full rank, least squares has many solutions: :func:`gradlm.lstsq`'s is the
one of least norm on the scaled problem. The inference takes ``lm()``'s
instead: a column that is a combination of the columns before it is
*aliased* (as ``lm()``'s pivoting leaves it out: its coefficient is NA), and
the others are those of the model without the aliased columns, which
predicts the same (:meth:`ScaledDesign.basic`).

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
# A null-space component below this (on the scaled problem) counts as 0 when the aliased columns are chosen.
ALIASED = 1e-7


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
        scale = stats.G.diagonal().sqrt()
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        self.center = stats.mx.clone()
        self.total_weight = float(stats.n)
        self.intercept = bool(stats.centered)
        lam, vectors = torch.linalg.eigh(stats.G / torch.outer(scale, scale))
        lam, vectors = lam.flip(0), vectors.flip(1)  # largest first, as an SVD's
        top = float(lam[0]) if d else 0.0
        well_conditioned = d == 0 or (float(lam[-1]) > 0 and top / float(lam[-1]) < MAX_CONDITION)
        self.from_rows = rows is not None and not well_conditioned
        if self.from_rows:
            assert rows is not None
            X, y, w = rows()
            self._factor_rows(X, y, w, stats)
            return
        keep = lam > top * RANK_RTOL_MOMENTS * max(d, 1)
        s, V, null = lam[keep].sqrt(), vectors[:, keep], vectors[:, ~keep]

        def solve(B: torch.Tensor) -> torch.Tensor:  # (Xs'Xs)^+ B on the scaled centred problem
            return V @ ((V.T @ B) / (s * s)[:, None])

        scaled = solve(stats.C / scale[:, None])
        if rows is not None and top > REFINE_CONDITION * float(lam[-1]):
            # Normal equations lose about log10(kappa^2) digits; one step of iterative refinement, the residual
            # computed from the rows, wins them back (as the corrected semi-normal equations do).
            scaled += solve(self._cross_residual(rows(), scale, stats.my, scaled))
        self.weight = (scaled / scale[:, None]).T.contiguous()
        self.bias = stats.my - self.weight @ stats.mx
        self.rank = int(keep.sum()) + self.intercept
        slopes = V / s / scale[:, None]  # (X_c'WX_c)^+ = slopes slopes'
        null_coef = null / scale[:, None]  # the null space on the coefficients' own scale
        if self.intercept:
            # [1, x] against the centred parameters: the intercept is b - m'w (block inverse), made exact by an
            # extra column 1/sqrt(sum w)
            self.half = torch.zeros(d + 1, slopes.shape[1] + 1, dtype=torch.float64)
            self.half[0, :-1] = -(self.center @ slopes)
            self.half[0, -1] = 1.0 / math.sqrt(self.total_weight)
            self.half[1:, :-1] = slopes
            # moving the slopes along a null direction n moves the intercept by -m'n (the predictions stay)
            null = torch.cat([-(self.center / scale)[None, :] @ null, null])
            null_coef = torch.cat([-self.center[None, :] @ null_coef, null_coef])
        else:
            self.half = slopes
        self._settle_aliasing(null, null_coef)

    def _factor_rows(self, X: torch.Tensor, y: torch.Tensor, w: Optional[torch.Tensor],
                     stats: SufficientStatistics) -> None:
        """An SVD of the scaled ``sqrt(w) A``, one step of refinement."""
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
        U, s, Vh = torch.linalg.svd(A, full_matrices=False)
        keep = s > (float(s[0]) * RANK_RTOL_ROWS * max(A.shape) if len(s) else 0.0)
        U, s, V = U[:, keep], s[keep], Vh[keep].T
        self.rank = int(keep.sum())
        null = Vh[~keep].T if Vh.shape[0] == A.shape[1] else torch.linalg.svd(A).Vh[self.rank :].T
        coef = V @ ((U.T @ Y) / s[:, None])
        coef += V @ ((U.T @ (Y - A @ coef)) / s[:, None])  # one step of iterative refinement
        coef = (coef / scale[:, None]).T  # (k, p)
        self.bias = coef[:, 0].contiguous() if self.intercept else torch.zeros(coef.shape[0], dtype=torch.float64)
        self.weight = coef[:, int(self.intercept):].contiguous()
        self.half = V / s / scale[:, None]
        self._settle_aliasing(null, null / scale[:, None])

    def _settle_aliasing(self, null: torch.Tensor, null_coef: torch.Tensor) -> None:
        """``lm()``'s aliased columns and the map to its solution, from the null space (p, m): on the scaled
        problem (to decide) and on the coefficients' scale (to move along).

        Elimination on the null space's rows from the last column back: a column is aliased when a null
        direction involves it and no later column left, that is when it is a combination of the columns before
        it, as ``lm()``'s pivoting (which moves such columns to the end) decides. Then ``half`` becomes that of
        the model without them, and :meth:`basic` moves coefficients there."""
        p, m = null.shape
        self.aliased = np.zeros(p, dtype=bool)
        self.moves = torch.zeros(p, 0, dtype=torch.float64)
        if m == 0:
            return
        rows = null.T.clone()  # (m, p)
        left = list(range(m))
        chosen = []
        for j in reversed(range(p)):
            if not left:
                break
            values = rows[left, j].abs()
            i = int(values.argmax())
            if float(values[i]) <= ALIASED:
                continue
            pivot = left.pop(i)
            chosen.append(j)
            for other in left:
                rows[other] -= rows[other, j] / rows[pivot, j] * rows[pivot]
        if len(chosen) < m:  # (not expected: rounding hid a direction) every column a null direction involves
            self.aliased = (null.norm(dim=1) > ALIASED).numpy()
            return
        aliased = sorted(chosen)
        self.aliased[aliased] = True
        self.moves = null_coef @ torch.linalg.inv(null_coef[aliased])  # (p, m): K = N (N_A)^-1
        self.half = self.half - self.moves @ self.half[aliased]

    def basic(self, coef: Any) -> torch.Tensor:
        """Coefficients (k, p), intercept first, moved along the null space to ``lm()``'s solution: 0 for the
        aliased columns, the same predictions (themselves at full rank)."""
        coef = torch.as_tensor(np.asarray(coef, dtype=np.float64))
        if not self.aliased.any():
            return coef
        return coef - coef[:, torch.as_tensor(self.aliased)] @ self.moves.T

    def _cross_residual(self, rows: tuple, scale: torch.Tensor, y_center: torch.Tensor,
                        scaled: torch.Tensor) -> torch.Tensor:
        """``Xs' W (yc - Xs scaled)`` from the rows, a chunk at a time in float64."""
        X, y, w = rows
        out = torch.zeros_like(scaled)
        for start in range(0, X.shape[0], CHUNK_ROWS):
            xs = (X[start : start + CHUNK_ROWS].to("cpu", torch.float64) - self.center) / scale
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
        raise ValueError("sample_weight is 0 for every row; at least one row needs a positive weight.")
    return w
