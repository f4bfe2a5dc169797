"""The exact least-squares solution: the reference every gradient-descent fit is measured against."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np

from .analytic import SufficientStatistics
from .design import ScaledDesign, as_weight
from .loss import loss_at
from .validation import check_X_y_view


class LeastSquares(NamedTuple):
    """``(weight, bias)`` of the least-squares fit, float64 NumPy arrays (out, in) and (out,)."""

    weight: np.ndarray
    bias: np.ndarray


def lstsq(X: Any, y: Any, statistics: Optional[SufficientStatistics] = None, *, sample_weight: Any = None,
          fit_intercept: bool = True) -> LeastSquares:
    """Least-squares ``weight`` (out, in) and ``bias`` (out) minimising the (weighted) MSE, in float64.

    One pass over the data gathers the centred float64 moments
    (:class:`~gradlm.analytic.SufficientStatistics`, without a float64 copy of
    float64 input); the problem is solved on column-scaled data
    (:class:`~gradlm.design.ScaledDesign`): from the moments when they are
    well conditioned, else from an SVD of the rows, as accurate as ``lm()``'s
    QR. Collinear columns are decided as ``lm()`` decides them (a column that
    is a combination of the ones before it is aliased: coefficient 0, where
    ``lm()`` has NA), and the others are those of the model without them.
    ``statistics`` reuses moments already taken (then weights and intercept
    are theirs); with ``X=None, y=None`` (data streamed from disk)
    the moments alone give the solution. ``sample_weight``: weighted least
    squares; ``fit_intercept=False``: a model through the origin (bias 0).

    >>> import gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> weight, bias = lstsq(X, y)
    >>> weight.shape, bias.shape
    ((2, 3), (2,))
    """
    return solve(X, y, statistics, sample_weight=sample_weight, fit_intercept=fit_intercept)[0]


def solve(X: Any, y: Any, statistics: Optional[SufficientStatistics] = None, *, sample_weight: Any = None,
          fit_intercept: bool = True) -> tuple:
    """``(LeastSquares, ScaledDesign, statistics)``: :func:`lstsq` with the factored design it rests on."""
    checked: Optional[tuple] = None

    def rows() -> tuple:  # (checked once, and only when needed: with moments given, rarely)
        nonlocal checked
        if checked is None:
            Xv, yv = check_X_y_view(X, y)
            checked = (Xv, yv, as_weight(sample_weight, Xv.shape[0]))
        return checked

    if statistics is None:
        Xv, yv, w = rows()
        statistics = SufficientStatistics(Xv, yv, sample_weight=w)
        if not fit_intercept:
            statistics = statistics.about_origin()
    design = ScaledDesign(statistics, rows if X is not None else None)
    return LeastSquares(design.weight.numpy(), design.bias.numpy()), design, statistics


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
