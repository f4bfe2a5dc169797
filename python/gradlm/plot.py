"""Plots with matplotlib: the loss curve, a fitted line, predicted against actual.

Each function draws on ``ax`` (a new figure's axes when None) and returns the axes.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

MISSING = 'plots need matplotlib, which is not installed: pip install "gradlm[plot]" (or pip install matplotlib)'


def pyplot(backend: Optional[str] = None) -> Any:
    """``matplotlib.pyplot`` (with ``backend`` selected first, e.g. ``"Agg"`` for files only), or an ImportError that
    says how to install it: matplotlib is the ``plot`` extra, not a dependency."""
    try:
        import matplotlib
    except ModuleNotFoundError as err:
        if err.name != "matplotlib":
            raise
        raise ImportError(MISSING) from None
    if backend is not None:
        matplotlib.use(backend)
    import matplotlib.pyplot as plt

    return plt


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    return pyplot().figure().add_subplot()


def _numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    return np.asarray(value, dtype=np.float64)


def plot_loss(history: Any, ax: Any = None, log: bool = False) -> Any:
    """The training loss per epoch (and the validation loss, when recorded).

    >>> import matplotlib; matplotlib.use("Agg")
    >>> import gradlm
    >>> X, y = gradlm.datasets.line()
    >>> ax = plot_loss(gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=5, lr=1e-3))
    >>> ax.get_xlabel()
    'epoch'
    """
    ax = _axes(ax)
    epochs = np.arange(1, history.epochs_run + 1)
    ax.plot(epochs, history.loss, label="training loss")
    if history.val_loss is not None:
        ax.plot(epochs, history.val_loss, label="validation loss")
        ax.legend()
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE loss")
    ax.set_title("Loss")
    return ax


def plot_fit(X: Any, y: Any, weight: Any, bias: Any, ax: Any = None, title: str = "Fit") -> Any:
    """Data of one feature as points and the line ``weight * x + bias`` through them.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> import gradlm
    >>> X, y = gradlm.datasets.line()
    >>> ax = plot_fit(X, y, [[2.0]], [1.0])
    >>> len(ax.lines)
    1
    """
    x = _numpy(X).reshape(len(X), -1)
    if x.shape[1] != 1:
        raise ValueError(f"plot_fit shows one feature; X has {x.shape[1]}. Use plot_predicted instead.")
    yy = _numpy(y).reshape(len(x), -1)
    w = _numpy(weight).reshape(-1)
    b = _numpy(bias).reshape(-1)
    ax = _axes(ax)
    ax.scatter(x[:, 0], yy[:, 0], s=12, label="data")
    ends = np.array([x.min(), x.max()])
    ax.plot(ends, ends * w[0] + b[0], "r", label=f"y = {w[0]:.4g} x + {b[0]:.4g}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.legend()
    return ax


def plot_predicted(y_true: Any, y_pred: Any, target_names: Optional[Sequence[str]] = None, ax: Any = None) -> Any:
    """Predicted against actual values, one colour per output, with the diagonal.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_predicted([[1.0, 2.0], [3.0, 4.0]], [[1.1, 2.1], [2.9, 3.8]], ["a", "b"])
    >>> ax.get_xlabel()
    'actual'
    """
    actual = _numpy(y_true).reshape(len(y_true), -1)
    pred = _numpy(y_pred).reshape(actual.shape[0], -1)
    if pred.shape != actual.shape:
        raise ValueError(f"y_true has shape {actual.shape} but y_pred {pred.shape}; they must match.")
    names = list(target_names) if target_names is not None else [f"output {j + 1}" for j in range(actual.shape[1])]
    ax = _axes(ax)
    for j in range(actual.shape[1]):
        ax.scatter(actual[:, j], pred[:, j], s=14, label=names[j])
    lo, hi = float(min(actual.min(), pred.min())), float(max(actual.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], "k--", linewidth=1)
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title("Predicted vs actual")
    ax.legend()
    return ax
