"""Step sizes from the curvature of the MSE: the stable bound, and the step size chosen by ``lr="auto"``.

For ``L = sum((X W' + b - y)^2) / (n k)``, each output's parameters ``[w, b]``
see the Hessian ``H = 2 / k * M``, with ``M = A'A / n`` the second-moment
matrix of the rows ``A = [x, 1]``:

    M = [[X'X / n, mean(X)'], [mean(X), 1]].

The moments (:class:`~gradlm.analytic.SufficientStatistics`) give ``M``, so its
extreme eigenvalues ``lambda_max`` and ``lambda_min`` (the smallest one above
the rank tolerance) cost O(d^3) once, for any number of rows. From them:

- **stability**: full-batch gradient descent with heavy-ball momentum ``beta``
  (``torch.optim.SGD(momentum=beta)``; 0 for plain GD) converges exactly when
  ``lr < 2 (1 + beta) / lambda_max(H)``; :func:`suggest_lr` gives the bound
  for plain GD.
- **the automatic step** (``lr="auto"``, full batch): Polyak's heavy ball with
  ``kappa = lambda_max / lambda_min``,

      beta = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2,
      lr = (1 + sqrt(beta))^2 / lambda_max(H),

  whose error shrinks by ``(sqrt(kappa) - 1) / (sqrt(kappa) + 1)`` an epoch
  (plain GD: ``(kappa - 1) / (kappa + 1)``): about ``sqrt(kappa)`` epochs,
  not ``kappa``, per factor of e. ``lambda_max`` is taken 1% larger than it
  is, so the pair is strictly inside the stable bound (never on its edge,
  where the stiffest direction's transient grows); an underestimated
  ``lambda_min`` only slows it.
- **mini-batches** (``lr="auto"``, ``batch_size=B``): plain SGD at
  ``lr = 1 / (lambda_max(H) + tr(H) / B)``, a safe fraction of the bound
  (each batch's curvature exceeds the whole data's by about ``tr(H) / B``).
- **Adam** (``lr="auto"``): one hundredth of the parameters' natural scale
  (``sd(y) / sd(x)``), as Adam's steps are about ``lr`` per coordinate.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
import torch

from .analytic import SufficientStatistics
from .validation import as_float_view, check_int, check_X

# lambda_max is taken this much larger for the automatic heavy-ball pair (see Curvature.heavy_ball).
HEAVY_BALL_MARGIN = 1.01


def second_moments(statistics: SufficientStatistics) -> torch.Tensor:
    """``M = A'A / n`` for the rows ``A = [x, 1]`` (float64, on the CPU)."""
    d = statistics.G.shape[0]
    M = torch.empty(d + 1, d + 1, dtype=torch.float64)
    mx = statistics.mx.cpu()
    M[:d, :d] = statistics.G.cpu() / statistics.n + torch.outer(mx, mx)
    M[:d, d] = mx
    M[d, :d] = mx
    M[d, d] = 1.0
    return M


class Curvature:
    """The extreme eigenvalues of the MSE's Hessian, from the data's moments.

    >>> import gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> c = Curvature(SufficientStatistics(X, y))
    >>> c.condition_number > 1e3, c.rank
    (True, 4)
    >>> lr, beta = c.heavy_ball()
    >>> lr < c.max_stable_lr(beta)
    True
    """

    n_outputs: int
    rank: int
    largest: float
    smallest: float
    trace: float
    null_space: Optional[torch.Tensor]

    def __init__(self, statistics: SufficientStatistics, n_outputs: Optional[int] = None, penalty: Any = None,
                 bias_decoupled: bool = False) -> None:
        k = statistics.k if n_outputs is None else n_outputs
        M = second_moments(statistics)
        if bias_decoupled and penalty is not None:
            # Centred X (mean 0) and the bias at its optimum: the bias's gradient is 0 at every step, and only the
            # weights' block moves. Left in, its eigenvalue (1) would be the smallest under a ridge penalty
            # above 1, and slow every step to the bias's scale (alpha 1e6: 10,000 epochs, not 10).
            d = M.shape[0] - 1
            inner = Curvature(statistics, n_outputs, penalty)  # (the same, then restricted below)
            block = M[:d, :d]
            s2 = torch.ones(d, dtype=torch.float64) if penalty.scale is None else penalty.scale.cpu() ** 2
            low = block + float(penalty.l2.min()) * torch.diag(s2)
            high = block + float(penalty.l2.max()) * torch.diag(s2)
            eig, vectors = torch.linalg.eigh(low)
            self.n_outputs = inner.n_outputs
            self.rank = inner.rank
            weights_rank = self.rank - 1
            top = float(torch.linalg.eigvalsh(high)[-1]) if d else 1.0
            self.largest = 2.0 / self.n_outputs * top
            self.smallest = 2.0 / self.n_outputs * max(float(eig[d - weights_rank]) if d else 1.0,
                                                       top * torch.finfo(torch.float64).eps)
            self.trace = inner.trace
            self.null_space = inner.null_space
            return
        if penalty is not None and bool((penalty.l2 > 0).any()):
            # The ridge part adds l2 s^2 to the weights' block (never to the bias's): the largest eigenvalue
            # with the largest l2 over the outputs, the smallest with the smallest.
            d = M.shape[0] - 1
            s2 = torch.ones(d, dtype=torch.float64) if penalty.scale is None else penalty.scale.cpu() ** 2
            ridge = torch.zeros(d + 1, dtype=torch.float64)
            ridge[:d] = s2
            low = M + float(penalty.l2.min()) * torch.diag(ridge)
            self._init_from(low, M + float(penalty.l2.max()) * torch.diag(ridge), k)
            return
        self._init_from(M, M, k)

    def _init_from(self, low: torch.Tensor, M: torch.Tensor, k: int) -> None:
        """The curvature of ``(2 / k) M``, its smallest eigenvalue and rank taken from ``(2 / k) low`` (<= M)."""
        # Scaled to unit diagonal to decide the rank (columns may differ by 1e9 in
        # scale); the eigenvalues themselves are those of M.
        scale = low.diagonal().sqrt()
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        scaled = torch.linalg.eigvalsh(low / torch.outer(scale, scale))
        eig, vectors = torch.linalg.eigh(low)
        eps = torch.finfo(torch.float64).eps
        self.rank = max(int((scaled > scaled[-1] * M.shape[0] * eps * 10).sum()), 1)
        self.n_outputs = max(int(k), 1)
        top = float(eig[-1]) if M is low else float(torch.linalg.eigvalsh(M)[-1])
        self.largest = 2.0 / self.n_outputs * top
        # the smallest eigenvalue on the Hessian's range (its null space never moves)
        self.smallest = 2.0 / self.n_outputs * max(float(eig[len(eig) - self.rank]), top * eps)
        self.trace = 2.0 / self.n_outputs * float(M.diagonal().sum())
        # directions [w, b] the loss does not see (collinear predictors): no data decide them
        self.null_space = vectors[:, : len(eig) - self.rank] if self.rank < len(eig) else None

    @classmethod
    def of(cls, statistics: SufficientStatistics) -> "Curvature":
        """The curvature of ``statistics``, computed once per statistics object (the estimator and the plan
        both read it)."""
        curvature = getattr(statistics, "_curvature", None)
        if curvature is None:
            curvature = statistics._curvature = cls(statistics)
        return curvature

    def stable(self, lr: float, momentum: float = 0.0) -> Optional[bool]:
        """Whether full-batch SGD at ``(lr, momentum)`` converges: True inside the bound, False beyond it,
        None on it (to rounding)."""
        bound = self.max_stable_lr(momentum)
        return True if lr < bound * (1 - 1e-9) else (False if lr > bound * (1 + 1e-9) else None)

    @property
    def condition_number(self) -> float:
        """``lambda_max / lambda_min`` of the Hessian (over its range)."""
        return self.largest / self.smallest

    def max_stable_lr(self, momentum: float = 0.0) -> float:
        """The largest lr at which full-batch SGD with heavy-ball ``momentum`` converges."""
        return 2.0 * (1.0 + momentum) / self.largest

    def heavy_ball(self) -> tuple:
        """``(lr, momentum)``: Polyak's heavy-ball pair (see the module's docstring), for ``lambda_max`` taken
        ``HEAVY_BALL_MARGIN`` larger than it is.

        The exact pair puts the stiffest direction on a double root, whose
        transient grows about ``sqrt(kappa)``-fold before it decays (beyond a
        condition number of 1e9, past what float64 rounds the bound to); the
        margin keeps every direction strictly inside the stable region.
        """
        largest = self.largest * HEAVY_BALL_MARGIN
        root = math.sqrt(largest / self.smallest)
        beta = ((root - 1.0) / (root + 1.0)) ** 2
        return (1.0 + math.sqrt(beta)) ** 2 / largest, beta

    def mini_batch_lr(self, batch_size: int) -> float:
        """A safe plain-SGD step for batches of ``batch_size`` rows."""
        return 1.0 / (self.largest + self.trace / batch_size)

    def rate(self, lr: float, momentum: float = 0.0) -> float:
        """The factor by which full-batch SGD's error shrinks each epoch (>= 1: no convergence).

        The spectral radius of the heavy-ball iteration, the largest over the
        Hessian's extreme eigenvalues (where it peaks).
        """
        worst = 0.0
        for lam in (self.smallest, self.largest):
            roots = np.roots([1.0, -(1.0 + momentum - lr * lam), momentum])
            worst = max(worst, float(np.abs(roots).max()))
        return worst

    def epochs_needed(self, lr: float, momentum: float, tol: float) -> Optional[int]:
        """About how many full-batch epochs shrink the error by ``tol`` (None: never)."""
        rho = self.rate(lr, momentum)
        if rho >= 1.0:
            return None
        if rho <= 0.0:
            return 1
        return int(math.ceil(math.log(tol) / math.log(rho)))


def max_stable_lr(statistics: SufficientStatistics, n_outputs: int) -> float:
    """``2 / lambda_max`` of the Hessian from the data's moments (see the module's docstring)."""
    return Curvature(statistics, n_outputs).max_stable_lr()


def suggest_lr(X: Any, n_outputs: int = 1, standardize: bool = False) -> float:
    """The largest learning rate for which full-batch gradient descent on the MSE converges.

    ``n_outputs`` matters because the loss is a mean over outputs too. With
    ``standardize=True``, the bound for the standardized inputs that
    ``GDRegressor(standardize=True)`` trains on. ``X`` may also be a
    :class:`~gradlm.analytic.SufficientStatistics`. Train somewhat below it:
    at the bound the loss oscillates. (``lr="auto"``, the default, chooses the
    step itself; see :mod:`gradlm.stability`.)

    >>> import gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> round(suggest_lr(X, n_outputs=2), 8)
    0.00011155
    >>> round(suggest_lr(X, n_outputs=2, standardize=True), 4)
    1.0068
    """
    n_outputs = check_int(n_outputs, "n_outputs")
    if isinstance(X, SufficientStatistics):
        stats = X
    else:
        Xv = as_float_view(X, "X")  # read in place: one pass of float64 moments, no copy
        stats = SufficientStatistics(check_X(Xv, dtype=Xv.dtype, device=Xv.device), None)
    if standardize:
        std = stats.std
        stats = stats.standardized(stats.mx, torch.where(std > 0, std, torch.ones_like(std)))
    return max_stable_lr(stats, n_outputs)
