"""The largest stable learning rate of full-batch gradient descent on the MSE.

For ``L = sum((X W' + b - y)^2) / (n k)``, each output's parameters ``[w, b]``
see the Hessian ``2 / (n k) * A'A`` with ``A = [X, 1]``. Gradient descent on a
quadratic converges exactly when ``lr < 2 / lambda_max`` of its Hessian, that
is when

    lr < k / lambda_max(M),     M = A'A / n = [[X'X / n, mean(X)'], [mean(X), 1]],

the second-moment matrix of the rows ``[x, 1]``. At the bound the iterates
oscillate without settling; the fastest rate for plain GD is
``2 / (lambda_max + lambda_min)``, somewhat below it. Momentum raises the
bound (heavy ball: ``2 (1 + momentum) / lambda_max``); for Adam or mini-batch
SGD it is a reference point, not a guarantee.
"""

from __future__ import annotations

from typing import Any, Optional

import torch

from .analytic import SufficientStatistics
from .validation import as_float_view, check_int, check_X


def max_stable_lr(statistics: SufficientStatistics, n_outputs: int) -> float:
    """``k / lambda_max(M)`` from the data's moments (see the module's docstring)."""
    d = statistics.G.shape[0]
    M = torch.empty(d + 1, d + 1, dtype=torch.float64)
    mx = statistics.mx.cpu()
    M[:d, :d] = statistics.G.cpu() / statistics.n + torch.outer(mx, mx)
    M[:d, d] = mx
    M[d, :d] = mx
    M[d, d] = 1.0
    return float(n_outputs / torch.linalg.eigvalsh(M)[-1])


def suggest_lr(X: Any, n_outputs: int = 1, standardize: bool = False) -> float:
    """The largest learning rate for which full-batch gradient descent on the MSE converges.

    ``n_outputs`` matters because the loss is a mean over outputs too. With
    ``standardize=True``, the bound for the standardized inputs that
    ``GDRegressor(standardize=True)`` trains on. ``X`` may also be a
    :class:`~gradlm.analytic.SufficientStatistics`. Train somewhat below it:
    at the bound the loss oscillates.

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


class TrainingDiagnostics:
    """What the training loops' messages quote, from the training data's moments.

    The moments are taken on first use only (one pass over ``X``), so a run
    that neither diverges nor misses ``tol`` never pays for them.
    """

    def __init__(self, X: Any = None, y: Any = None, statistics: Optional[SufficientStatistics] = None,
                 source: Any = None) -> None:
        self._X, self._y, self._stats, self._source = X, y, statistics, source

    @property
    def statistics(self) -> SufficientStatistics:
        if self._stats is None and self._source is not None:
            self._stats = self._source.statistics()  # (a distributed process's own shard)
        if self._stats is None:
            self._stats = SufficientStatistics(torch.as_tensor(self._X), torch.as_tensor(self._y))
            self._X = self._y = None
        return self._stats

    def max_stable_lr(self) -> float:
        stats = self.statistics
        return max_stable_lr(stats, stats.k)

    def optimality_gap(self, weight: Any, bias: Any) -> float:
        """Loss of ``(weight, bias)`` minus the least-squares loss, from the moments (float64)."""
        stats = self.statistics
        loss, _, _ = stats.loss_and_grads(torch.as_tensor(weight), torch.as_tensor(bias))
        # The optimum's loss: (yy - C' G^+ C) / (n k), with a least-squares solve for a singular G.
        coef = torch.linalg.lstsq(stats.G.cpu(), stats.C.cpu(), driver="gelsd").solution
        best = (stats.yy.sum().cpu() - (stats.C.cpu() * coef).sum()) / (stats.n * stats.k)
        return float(loss) - float(best)
