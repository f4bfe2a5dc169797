"""The exact least-squares solution: the reference every gradient-descent fit is measured against."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np
import torch

from .analytic import SufficientStatistics
from .loss import loss_at
from .validation import check_X_y_view

# Above this condition number of the (Jacobi-scaled) normal equations, the
# solution comes from an SVD of the data instead: normal equations lose about
# log10(condition) of float64's 16 digits.
MAX_CONDITION = 1e6


class LeastSquares(NamedTuple):
    """``(weight, bias)`` of the least-squares fit, float64 NumPy arrays (out, in) and (out,)."""

    weight: np.ndarray
    bias: np.ndarray


def lstsq(X: Any, y: Any, statistics: Optional[SufficientStatistics] = None) -> LeastSquares:
    """Least-squares ``weight`` (out, in) and ``bias`` (out) minimising the MSE, in float64.

    One pass over the data gathers the centred float64 moments
    (:class:`~gradlm.analytic.SufficientStatistics`, without a float64 copy of
    float64 input); the normal equations, scaled to unit diagonal, are solved
    when well conditioned, else an SVD of the centred data gives the solution
    (for a rank-deficient ``X``, the minimum-norm one, as
    ``numpy.linalg.lstsq`` gives). ``statistics`` reuses moments already taken;
    with ``X=None, y=None`` (data streamed from disk) an ill-conditioned problem
    is solved from the moments alone.

    >>> import gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> weight, bias = lstsq(X, y)
    >>> weight.shape, bias.shape
    ((2, 3), (2,))
    """
    if statistics is None:
        X, y = check_X_y_view(X, y)
    stats = statistics if statistics is not None else SufficientStatistics(X, y)
    scale = stats.G.diagonal().sqrt()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    G = stats.G / torch.outer(scale, scale)
    eig = torch.linalg.eigvalsh(G)
    if eig[0] > 0 and eig[-1] / eig[0] < MAX_CONDITION:
        coef = torch.linalg.solve(G, stats.C / scale[:, None]) / scale[:, None]  # (in, out)
    else:
        if statistics is not None and X is None:
            # moments only (data streamed from disk): the minimum-norm solution of the scaled normal equations
            rcond = torch.finfo(torch.float64).eps * G.shape[0] * 1e3
            coef = torch.linalg.lstsq(G.cpu(), (stats.C / scale[:, None]).cpu(), rcond=rcond, driver="gelsd")
            coef = coef.solution / scale[:, None].cpu()
        else:
            if statistics is not None:
                X, y = check_X_y_view(X, y)
            Xc = X.cpu().to(torch.float64) - stats.mx.cpu()
            yc = y.cpu().to(torch.float64) - stats.my.cpu()
            rcond = torch.finfo(torch.float64).eps * max(Xc.shape)
            coef = torch.linalg.lstsq(Xc, yc, rcond=rcond, driver="gelsd").solution
    weight = coef.T.contiguous().cpu()
    bias = stats.my.cpu() - weight @ stats.mx.cpu()
    return LeastSquares(weight.numpy(), bias.numpy())




def optimality_gap(weight: Any, bias: Any, X: Any, y: Any) -> float:
    """MSE of ``(weight, bias)`` on ``(X, y)`` minus the least-squares MSE, both in float64.

    Zero at the optimum; how far gradient descent still is from it.

    >>> import gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> weight, bias = lstsq(X, y)
    >>> abs(optimality_gap(weight, bias, X, y)) < 1e-9
    True
    """
    return loss_at(weight, bias, X, y) - loss_at(*lstsq(X, y), X, y)
