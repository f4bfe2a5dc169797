"""The exact least-squares solution: the reference every gradient-descent fit is measured against."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch

from .loss import loss_at
from .validation import check_X_y


class LeastSquares(NamedTuple):
    """``(weight, bias)`` of the least-squares fit, float64 NumPy arrays (out, in) and (out,)."""

    weight: np.ndarray
    bias: np.ndarray


def lstsq(X: Any, y: Any) -> LeastSquares:
    """Least-squares ``weight`` (out, in) and ``bias`` (out) minimising the MSE, in float64.

    The columns are centred first (the bias then separates from the weights,
    which improves conditioning); a rank-deficient ``X`` gets the minimum-norm
    weights, as ``numpy.linalg.lstsq`` gives.

    >>> import gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> weight, bias = lstsq(X, y)
    >>> weight.shape, bias.shape
    ((2, 3), (2,))
    """
    X, y = check_X_y(X, y, dtype=torch.float64)
    X, y = X.cpu(), y.cpu()
    x_mean = X.mean(dim=0)
    y_mean = y.mean(dim=0)
    Xc = X - x_mean
    yc = y - y_mean
    # gelsd (SVD) handles rank deficiency; its rcond cut mirrors NumPy's default.
    rcond = torch.finfo(torch.float64).eps * max(Xc.shape)
    coef = torch.linalg.lstsq(Xc, yc, rcond=rcond, driver="gelsd").solution  # (in, out)
    weight = coef.T.contiguous()
    bias = y_mean - weight @ x_mean
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
