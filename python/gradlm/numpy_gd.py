"""Gradient descent in NumPy with hand-written gradients, as the NumPy tutorial writes it.

For the loss ``L = sum((X W' + b - y)^2) / (n * out)`` the gradients are

    dL/dW = 2 / (n * out) * r' X        dL/db = 2 / (n * out) * sum over rows of r

with ``r = X W' + b - y``; for one output this is the tutorial's
``mean(-2 * X * (Y - y_pred))`` and ``mean(-2 * (Y - y_pred))``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

import numpy as np
import torch

from .history import History
from .loop import Loop
from .plan import numpy_plan
from .validation import check_choice, check_float, check_int, check_X_y

NUMPY_INITS = ("randn", "zeros")


def gradients(X: np.ndarray, y: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> tuple:
    """Loss and hand-derived MSE gradients ``(loss, dW, db)`` of the linear model.

    >>> import numpy as np
    >>> loss, dW, db = gradients(np.array([[1.0], [2.0]]), np.array([[3.0], [5.0]]),
    ...                          np.array([[2.0]]), np.array([0.0]))
    >>> float(loss), dW.tolist(), db.tolist()
    (1.0, [[-3.0]], [-2.0])
    """
    r = X @ weight.T + bias - y
    scale = 2.0 / r.size
    return np.mean(r * r), scale * (r.T @ X), scale * r.sum(axis=0)


def numpy_gd(
    X: Any,
    y: Any,
    *,
    epochs: int,
    lr: float,
    weight: Any = None,
    bias: Any = None,
    init: str = "randn",
    seed: Optional[int] = None,
    batch_size: Optional[int] = None,
    shuffle: bool = True,
    dtype: Any = np.float64,
    tol: Optional[float] = None,
    patience: Optional[int] = None,
    callbacks: Iterable[Callable] = (),
    progress: Optional[bool] = None,
    on_divergence: str = "raise",
) -> History:
    """Batch (or mini-batch) gradient descent in NumPy with hand-written gradients.

    Same loss, same History and same loss convention as :func:`gradlm.fit`
    (full batch: the loss before each step; mini-batch: the mean of the
    epoch's batch losses).

    Parameters
    ----------
    X, y : array-like (n, in) and (n, out); 1-D inputs are single columns.
    epochs, lr : as in :func:`gradlm.fit`.
    weight, bias : array-like, optional
        Starting parameters (out, in) and (out,); otherwise drawn by ``init``.
    init : {"randn", "zeros"}
        ``"randn"`` draws ``randn(out, in)`` then ``randn(out)`` from
        ``np.random.RandomState(seed)``, or from the global ``np.random`` when
        ``seed`` is None (so ``np.random.seed(s)`` first reproduces the tutorial).
    seed : int, optional
        Seeds the start and the batch order.
    batch_size, shuffle : as in :func:`gradlm.fit` (the order is NumPy's).
    dtype : NumPy float dtype, default float64 (NumPy's own default).
    tol, patience : as in :func:`gradlm.fit` (no stopping rule by default).
    on_divergence : as in :func:`gradlm.fit`; interrupts too are handled as there.

    Examples
    --------
    >>> import gradlm
    >>> X, y = gradlm.datasets.numpy_points()
    >>> h = numpy_gd(X, y, epochs=100, lr=0.001, seed=0)
    >>> bool(h.loss[-1] < h.loss[0])
    True
    """
    lr = check_float(lr, "lr", positive=True)
    init = check_choice(init, "init", NUMPY_INITS)
    seed = check_int(seed, "seed", minimum=0, allow_none=True)
    batch_size = check_int(batch_size, "batch_size", allow_none=True)
    np_dtype = np.dtype(dtype)
    if np_dtype.kind != "f":
        raise TypeError(f"dtype must be a NumPy float dtype such as np.float64; got {dtype!r}.")
    torch_dtype = torch.from_numpy(np.zeros(0, np_dtype)).dtype
    Xt, yt = check_X_y(X, y, dtype=torch_dtype)
    X, y = Xt.numpy(), yt.numpy()
    n, n_in = X.shape
    n_out = y.shape[1]

    rng = np.random.RandomState(seed) if seed is not None else np.random
    if not isinstance(shuffle, (bool, np.bool_)):
        raise ValueError(f"numpy_gd's shuffle is True or False (NumPy's permutation, as the tutorial draws it); got "
                         f"{shuffle!r}. shuffle='batches' is gradlm.fit's.")
    if (weight is None) != (bias is None):
        raise ValueError("pass both weight and bias, or neither (then init draws them).")
    if weight is None:
        if init == "randn":
            weight, bias = rng.randn(n_out, n_in), rng.randn(n_out)
        else:
            weight, bias = np.zeros((n_out, n_in)), np.zeros(n_out)
    weight = np.array(weight, dtype=np_dtype).reshape(n_out, n_in)
    bias = np.array(bias, dtype=np_dtype).reshape(n_out)

    plan = numpy_plan(Xt, yt, epochs=epochs, lr=lr, batch_size=batch_size, tol=tol, on_divergence=on_divergence,
                      settings={"lr": lr, "shuffle": bool(shuffle), "optimizer": "numpy", "seed": seed, "n": n,
                                "patience": patience})
    loop = Loop(plan, dtype=torch_dtype, patience=patience, callbacks=callbacks, progress=progress)
    lr = np_dtype.type(lr)
    try:
        for epoch in loop:
            loop.start_epoch(weight, bias)
            if batch_size is None:
                loss, dW, db = gradients(X, y, weight, bias)
                weight -= lr * dW
                bias -= lr * db
                epoch_loss = float(loss)
            else:
                rows = rng.permutation(n) if shuffle else np.arange(n)
                losses = []
                for start in range(0, n, batch_size):
                    idx = rows[start : start + batch_size]
                    loss, dW, db = gradients(X[idx], y[idx], weight, bias)
                    weight -= lr * dW
                    bias -= lr * db
                    losses.append(float(loss))
                epoch_loss = float(np.mean(losses))
            loop.end_epoch(epoch, epoch_loss, None, (weight, bias))
    except KeyboardInterrupt:
        loop.interrupt()

    def restore(w, b):
        weight[...] = w
        bias[...] = b

    return loop.finish(weight, bias, restore=restore)
