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
                 source: Any = None, merge: Any = None) -> None:
        self._X, self._y, self._stats, self._source, self._merge = X, y, statistics, source, merge

    @property
    def statistics(self) -> SufficientStatistics:
        """The moments; with ``merge`` (distributed training), this process's merged with the others'.

        (A collective call then: every process reaches it together, as they
        share the losses and the decisions that lead here.)
        """
        if self._stats is None:
            if self._source is not None:
                local = self._source.statistics() if self._source.units else None
            else:
                local = SufficientStatistics(torch.as_tensor(self._X), torch.as_tensor(self._y))
            self._stats = self._merge(local) if self._merge is not None else local
            self._X = self._y = None
        return self._stats

    @property
    def streamed(self) -> bool:
        """The moments would need another pass over data on disk."""
        return self._stats is None and self._source is not None

    def max_stable_lr(self) -> float:
        stats = self.statistics
        return max_stable_lr(stats, stats.k)

    def optimality_gap(self, weight: Any, bias: Any) -> float:
        """Loss of ``(weight, bias)`` minus the least-squares loss, from the moments (float64)."""
        stats = self.statistics
        device = stats.G.device
        loss, _, _ = stats.loss_and_grads(torch.as_tensor(weight).to(device), torch.as_tensor(bias).to(device))
        # The optimum's loss: (yy - C' G^+ C) / (n k), with a least-squares solve for a singular G.
        coef = torch.linalg.lstsq(stats.G.cpu(), stats.C.cpu(), driver="gelsd").solution
        best = (stats.yy.sum().cpu() - (stats.C.cpu() * coef).sum()) / (stats.n * stats.k)
        return float(loss) - float(best)
