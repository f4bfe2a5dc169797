"""Ridge, lasso and elastic net: the penalty, its exact solution from the moments, and its proximal step.

The objective, for each output ``j`` (as scikit-learn's ``ElasticNet`` and
glmnet's documented gaussian objective), with ``n`` the total weight:

    1 / (2 n) sum_i w_i (y_ij - b_j - x_i' w_j)^2
        + alpha * (l1_ratio * ||s * w_j||_1 + (1 - l1_ratio) / 2 * ||s * w_j||_2^2)

The intercept ``b_j`` is never penalised. ``s`` is a per-feature factor: 1 for
the data as given (scikit-learn's objective), or the features' standard
deviations for the penalty on standardized predictors (glmnet's
``standardize = TRUE``, the default of ``GDRegressor`` and ``gd_lm``).
``Penalty`` holds it per output as ``l1 = alpha * l1_ratio`` and
``l2 = alpha * (1 - l1_ratio)``.

Training minimises ``mse + (2 / k) * sum_j penalty_j``: the same minimiser
(the MSE averages over the ``k`` outputs, and is twice the first term).

Scaling against the peers:

- scikit-learn's ``ElasticNet(alpha, l1_ratio)`` and ``Lasso(alpha)``: the same
  objective with ``s = 1`` (``standardize=False``).
- scikit-learn's ``Ridge(alpha=a)`` does not divide the squared error by
  ``2 n``: it is ``alpha = a / n``, ``l1_ratio = 0`` here.
- glmnet's ``glmnet(x, y, alpha = l1_ratio, lambda = alpha)`` has this
  documented objective, but fits the gaussian family on ``y`` scaled to unit
  standard deviation ``sd(y)`` (divisor ``n``): its L1 part matches, its ridge
  part is in effect ``lambda / sd(y)``. Its output equals this objective's
  solution for ``y / sd(y)`` (then multiplied back), or for ``alpha`` with
  the ridge part divided by ``sd(y)``.

The exact solution is known from the moments: for ridge,
``(G / n + l2 S^2) w = C / n``; with an L1 part, the signs of the nonzero
coefficients decide it, ``(G_AA / n + l2 S^2) w_A = C_A / n - l1 s_A sign_A``,
and the Karush-Kuhn-Tucker conditions (the signs agree, and no inactive
feature's correlation with the residual exceeds ``l1 s_i``) certify it.
Training is then certified against it, as for least squares.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import torch

from .analytic import SufficientStatistics
from .validation import check_float

# The slack of the KKT check on an inactive feature: its correlation with the residual may exceed l1 * s by
# this fraction (rounding of the moments, and a feature exactly on the boundary).
KKT_RTOL = 1e-9


def _vector(value: Any, name: str, k: int, *, upper: Optional[float] = None) -> torch.Tensor:
    """``value`` (a number, or one per output) as a float64 tensor (k,), checked >= 0 (and <= ``upper``)."""
    if value is None or isinstance(value, str):
        raise TypeError(f"{name} must be a number (or one per output); got {value!r}.")
    if isinstance(value, (numbers.Real, bool)):
        out = torch.full((k,), check_float(value, name, nonnegative=True), dtype=torch.float64)
    else:
        try:
            out = torch.as_tensor(np.asarray(value, dtype=np.float64)).reshape(-1)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a number (or one per output); got {type(value).__name__}.") from None
        if out.numel() == 1:
            out = out.expand(k).clone()
        if out.numel() != k:
            raise ValueError(f"{name} has {out.numel()} values; pass one number, or one per output ({k}).")
    bad = ~torch.isfinite(out) | (out < 0)
    if upper is not None:
        bad |= out > upper
    if bool(bad.any()):
        limit = f"between 0 and {upper:g}" if upper is not None else ">= 0 and finite"
        raise ValueError(f"{name} must be {limit}; got {out.tolist() if k > 1 else float(out[0])}.")
    return out


@dataclass(frozen=True)
class Penalty:
    """``l1 ||s w_j||_1 + l2 / 2 ||s w_j||^2`` on each output's weights (see the module's docstring).

    >>> p = Penalty.of(alpha=0.5, l1_ratio=0.2, k=1)
    >>> p.l1.tolist(), p.l2.tolist(), p.has_l1
    ([0.1], [0.4], True)
    >>> p.value(torch.tensor([[1.0, -2.0]], dtype=torch.float64)).tolist()
    [1.3]
    """

    l1: torch.Tensor  # (k,) float64
    l2: torch.Tensor  # (k,) float64
    scale: Optional[torch.Tensor] = None  # (d,) float64: the per-feature factor s (None: 1)
    # (the factors in each dtype and device asked for: a step of mini-batch training asks for them every batch)
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._cache["has_l1"] = bool((self.l1 > 0).any())
        self._cache["has_l2"] = bool((self.l2 > 0).any())

    @classmethod
    def of(cls, alpha: Any, l1_ratio: Any, k: int) -> Optional["Penalty"]:
        """The penalty of scikit-learn's ``alpha`` and ``l1_ratio`` (numbers, or one per output); None when
        ``alpha`` is 0 (least squares)."""
        a = _vector(alpha, "alpha", k)
        r = _vector(l1_ratio, "l1_ratio", k, upper=1.0)
        if not bool((a > 0).any()):
            return None
        return cls(l1=a * r, l2=a * (1.0 - r))

    @property
    def has_l1(self) -> bool:
        return self._cache["has_l1"]

    @property
    def k(self) -> int:
        return self.l1.numel()

    def rescaled(self, x_scale: torch.Tensor, y_scale: torch.Tensor, s: Optional[torch.Tensor] = None
                 ) -> "Penalty":
        """The same penalty on ``(X / x_scale, y / y_scale)`` (divided by ``y_scale^2``, as each output's loss),
        with per-feature factor ``s`` on the original scale (None: 1)."""
        x_scale, y_scale = x_scale.to(torch.float64).cpu(), y_scale.to(torch.float64).cpu()
        s = torch.ones_like(x_scale) if s is None else s.to(torch.float64).cpu()
        s = s / x_scale
        return Penalty(l1=self.l1 / y_scale, l2=self.l2.clone(), scale=None if bool((s == 1).all()) else s)

    def _factors(self, like: torch.Tensor) -> tuple:
        """``(l1 (k, 1), l2 (k, 1), s (1, d))`` as ``like``'s dtype and device (made once for each)."""
        dtype, device = like.dtype, like.device
        key = (dtype, device, like.shape[1])
        if key not in self._cache:
            s = (torch.ones(1, like.shape[1], dtype=dtype, device=device) if self.scale is None
                 else self.scale.to(device=device, dtype=dtype)[None, :])
            self._cache[key] = (self.l1.to(device=device, dtype=dtype)[:, None],
                                self.l2.to(device=device, dtype=dtype)[:, None], s)
        return self._cache[key]

    def value(self, weight: torch.Tensor) -> torch.Tensor:
        """Each output's penalty at ``weight`` (k, d): float64 (k,)."""
        W = weight.detach().to(torch.float64)
        l1, l2, s = self._factors(W)
        sw = s * W
        return (l1 * sw.abs()).sum(dim=1) + 0.5 * (l2 * sw * sw).sum(dim=1)

    def loss_term(self, weight: torch.Tensor) -> torch.Tensor:
        """The penalty in the units of the MSE over ``k`` outputs (``(2 / k) sum_j penalty_j``): a float64
        tensor on ``weight``'s device (no synchronisation with a GPU every step)."""
        return (2.0 / self.k) * self.value(weight).sum()

    def gradient(self, weight: torch.Tensor) -> Optional[torch.Tensor]:
        """The ridge part's gradient at ``weight``, in the MSE's units (None without a ridge part)."""
        if not self._cache["has_l2"]:
            return None
        _, l2, s = self._factors(weight)
        return (2.0 / self.k) * l2 * s * s * weight.detach()

    def add_gradient_(self, weight: torch.Tensor) -> None:
        """Add the ridge part's gradient to ``weight.grad``."""
        gradient = self.gradient(weight)
        if gradient is not None:
            assert weight.grad is not None  # (called after the loss's gradient)
            weight.grad.add_(gradient)

    def prox_(self, weight: torch.Tensor, lr: float) -> None:
        """The L1 part's proximal step after a gradient step of size ``lr``: soft-thresholding, in place."""
        if not self.has_l1:
            return
        l1, _, s = self._factors(weight)
        threshold = (2.0 * lr / self.k) * l1 * s
        with torch.no_grad():
            shrunk = weight.abs().sub_(threshold).clamp_(min=0.0)
            weight.copy_(weight.sign().mul_(shrunk))


def exact_solution(statistics: SufficientStatistics, penalty: Penalty, weight: Any = None) -> Optional[tuple]:
    """The penalized optimum ``(weight (k, d), bias (k,))`` (float64, on the statistics' scale), or None.

    Ridge (no L1 part): the linear system, always. With an L1 part, the
    candidate that the signs of ``weight`` (an iterate) imply, returned only
    when the KKT conditions certify it (see the module's docstring).

    >>> X = torch.tensor([[0.0], [1.0], [2.0], [3.0]], dtype=torch.float64); y = 2 * X
    >>> s = SufficientStatistics(X, y)
    >>> exact_solution(s, Penalty.of(1.25, 0.0, 1))[0].tolist()  # 2 * 1.25 / (1.25 + 1.25)
    [[1.0]]
    >>> exact_solution(s, Penalty.of(0.5, 1.0, 1), torch.tensor([[1.0]]))[0].tolist()  # 2 - 0.5 / 1.25
    [[1.6]]
    >>> exact_solution(s, Penalty.of(0.5, 1.0, 1), torch.tensor([[-1.0]])) is None  # the wrong sign
    True
    """
    G, C, n = statistics.G.cpu(), statistics.C.cpu(), float(statistics.n)
    k, d = C.shape[1], G.shape[0]
    s = torch.ones(d, dtype=torch.float64) if penalty.scale is None else penalty.scale.cpu()
    if penalty.has_l1:
        if weight is None:
            return None
        signs = torch.as_tensor(weight).detach().to(torch.float64).cpu().reshape(k, d).sign()
    else:
        signs = torch.zeros(k, d, dtype=torch.float64)
    W = torch.zeros(k, d, dtype=torch.float64)
    for j in range(k):
        l1, l2 = float(penalty.l1[j]), float(penalty.l2[j])
        active = (signs[j] != 0) if l1 > 0 else torch.ones(d, dtype=torch.bool)
        if bool(active.any()):
            H = G[active][:, active] / n + torch.diag(l2 * s[active] ** 2)
            rhs = C[active, j] / n - l1 * s[active] * signs[j, active]
            # (collinear active features without a ridge part: H is singular and the optimum not unique; any
            # solution that meets the conditions below is one, and certifies the iterate up to the directions
            # the data do not decide)
            w = torch.linalg.lstsq(H, rhs[:, None], driver="gelsd").solution[:, 0]
            if not bool(torch.allclose(H @ w, rhs, rtol=1e-9, atol=1e-12 * float(rhs.abs().max()))):
                return None
            if l1 > 0 and not bool((w * signs[j, active] > 0).all()):
                return None
            W[j, active] = w
        if l1 > 0:
            inactive = ~active
            if bool(inactive.any()):
                correlation = (C[inactive, j] - G[inactive] @ W[j]) / n
                slack = KKT_RTOL * (l1 * s[inactive] + (C[inactive, j].abs() + G[inactive].abs() @ W[j].abs()) / n)
                if not bool((correlation.abs() <= l1 * s[inactive] + slack).all()):
                    return None
    bias = statistics.my.cpu() - W @ statistics.mx.cpu()
    return W, bias


class PatternCache:
    """:func:`exact_solution` for iterates, computed once per sign pattern (the candidate depends on nothing
    else), as float64 NumPy arrays: the same object for the same pattern."""

    def __init__(self, statistics: SufficientStatistics, penalty: Penalty) -> None:
        self.statistics, self.penalty = statistics, penalty
        self._seen: dict = {}

    def __call__(self, weight: Any) -> Optional[tuple]:
        key = torch.as_tensor(weight).detach().sign().to(torch.int8).cpu().numpy().tobytes()
        if key not in self._seen:
            solution = exact_solution(self.statistics, self.penalty, weight)
            self._seen[key] = None if solution is None else tuple(t.numpy() for t in solution)
        return self._seen[key]


def objective(statistics: SufficientStatistics, penalty: Optional[Penalty], weight: Any, bias: Any) -> torch.Tensor:
    """Each output's objective (float64 (k,), see the module's docstring) at ``(weight, bias)``."""
    W = torch.as_tensor(weight).detach().to(torch.float64).to(statistics.G.device)
    b = torch.as_tensor(bias).detach().to(W).reshape(-1)
    value = statistics.sse(W.reshape(b.numel(), -1), b) / (2.0 * statistics.n)
    return value if penalty is None else value + penalty.value(W).to(value)
