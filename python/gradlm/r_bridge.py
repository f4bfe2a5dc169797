"""What the R package calls: one Python call per R-level operation, plain results back.

R crosses into Python once per fit (each crossing costs 100-200 µs): the data
arrive as whatever reticulate made of the R matrices, are converted once by
:mod:`gradlm.validation`, and everything R shows afterwards (coefficients, the
exact least-squares ones, fitted values, the history) comes back in one dict
of NumPy arrays and numbers, which reticulate turns into R vectors and arrays.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from .estimator import GDRegressor
from .history import History
from .loss import loss_at
from .lstsq import lstsq
from .validation import check_X, check_y


def history_dict(history: History) -> dict:
    """A History as a dict of NumPy arrays and plain values."""
    return {
        "loss": history.loss,
        "val_loss": history.val_loss,
        "weight_path": history.weight_path.astype(np.float64),
        "bias_path": history.bias_path.astype(np.float64),
        "weight": history.weight.astype(np.float64),
        "bias": history.bias.astype(np.float64),
        "epochs_run": history.epochs_run,
        "stop_reason": history.stop_reason,
        "converged": history.converged,
        "settings": dict(history.settings),
    }


def fit_lm(X: Any, y: Any, validation: Optional[tuple] = None, **params: Any) -> dict:
    """Fit a GDRegressor and return all an R ``gd_lm`` object holds.

    ``X`` (n, p) is the model matrix without its intercept column, ``y`` (n, k).

    >>> import numpy as np, gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> out = fit_lm(X.numpy(), y.numpy(), epochs=5, lr=0.5, standardize=True, seed=0)
    >>> out["coef"].shape, out["lstsq_weight"].shape, out["fitted"].shape
    ((2, 3), (2, 3), (15, 2))
    """
    est = GDRegressor(**params).fit(X, y, validation=validation)
    exact = lstsq(X, y)
    coef = np.atleast_2d(est.coef_)
    intercept = np.atleast_1d(est.intercept_)
    y = check_y(y, n_rows=np.shape(X)[0], dtype=torch.float64).numpy()
    fitted = predict_linear(coef, intercept, X)
    residuals = y - fitted
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    return {
        "coef": coef,
        "intercept": intercept,
        "lstsq_weight": exact.weight,
        "lstsq_bias": exact.bias,
        "loss": loss_at(coef, intercept, X, y),
        "lstsq_loss": loss_at(exact.weight, exact.bias, X, y),
        "fitted": fitted,
        "residuals": residuals,
        "r_squared": 1 - (residuals**2).sum(axis=0) / np.where(ss_tot > 0, ss_tot, np.nan),
        "rank": rank(X),
        "x_mean": est.x_mean_,
        "x_scale": est.x_scale_,
        "history": history_dict(est.history_),
        "estimator": est,
    }


def fit_history(model: Any, X: Any, y: Any, **params: Any) -> dict:
    """``fit`` and its History as a dict, in one call."""
    from .fit import fit

    return history_dict(fit(model, X, y, **params))


def numpy_gd_history(X: Any, y: Any, **params: Any) -> dict:
    """``numpy_gd`` and its History as a dict, in one call."""
    from .numpy_gd import numpy_gd

    return history_dict(numpy_gd(X, y, **params))


def predict_linear(weight: Any, bias: Any, X: Any) -> np.ndarray:
    """``X @ weight.T + bias`` in float64, (n, out).

    >>> predict_linear([[2.0]], [1.0], [[1.0], [3.0]]).tolist()
    [[3.0], [7.0]]
    """
    weight = np.atleast_2d(np.asarray(weight, dtype=np.float64))
    bias = np.atleast_1d(np.asarray(bias, dtype=np.float64))
    X = check_X(X, n_features=weight.shape[1], dtype=torch.float64).numpy()
    return X @ weight.T + bias


def rank(X: Any) -> int:
    """Rank of the centred ``X``: below its column count, least squares is not unique.

    >>> rank([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    1
    """
    X = check_X(X, dtype=torch.float64)
    return int(torch.linalg.matrix_rank(X - X.mean(dim=0)))
