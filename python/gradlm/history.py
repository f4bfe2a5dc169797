"""The record of a training run, and the bookkeeping that fills it epoch by epoch.

``History.loss[i]`` is epoch ``i + 1``'s training loss: for full-batch training
the loss computed before that epoch's step (as the nn.Linear tutorial prints
it), for mini-batch training the mean of the epoch's batch losses.
``weight_path[i]`` and ``bias_path[i]`` are the parameters at the start of
epoch ``i + 1`` (for full batch, the ones ``loss[i]`` was computed with);
``weight`` and ``bias`` are the final parameters.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Optional

import numpy as np
import torch

from .exceptions import ConvergenceWarning, DivergenceError, DivergenceWarning
from .validation import check_choice, check_float, check_int

STOP_REASONS = ("epochs", "tol", "callback", "interrupted", "diverged")
DIVERGENCE_RULES = ("raise", "warn")
# Divergence without overflow: the loss rose this many epochs in a row and is
# above the first epoch's. (A stable run can rise for a few epochs, as momentum
# overshoots; ten in a row above the start it does not.)
GROWING_EPOCHS = 10


@dataclass
class History:
    """What ``fit`` and ``numpy_gd`` return.

    Attributes
    ----------
    loss : ndarray (epochs_run,)
    val_loss : ndarray (epochs_run,) or None
        Loss on the ``validation`` data with the parameters at the end of each epoch.
    weight_path : ndarray (epochs_run, out, in)
    bias_path : ndarray (epochs_run, out)
    weight : ndarray (out, in), final
    bias : ndarray (out,), final
    epochs_run : int
    stop_reason : {"epochs", "tol", "callback", "interrupted", "diverged"}
        ``"interrupted"`` (Ctrl-C) and ``"diverged"`` leave the model with whole
        epochs' parameters: those at the end of the last completed epoch, and
        those of the last epoch whose loss was finite.
    settings : dict
        The training settings (lr, batch_size, optimizer, ...).

    Examples
    --------
    >>> import gradlm
    >>> X, y = gradlm.datasets.line()
    >>> h = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=3, lr=1e-3)
    >>> h.loss.shape, h.weight.shape, h.stop_reason
    ((3,), (1, 1), 'epochs')
    """

    loss: np.ndarray
    weight_path: np.ndarray
    bias_path: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    stop_reason: str = "epochs"
    val_loss: Optional[np.ndarray] = None
    settings: dict = field(default_factory=dict)

    @property
    def epochs_run(self) -> int:
        return int(self.loss.shape[0])

    @property
    def converged(self) -> bool:
        """True when training stopped because the loss stopped improving by ``tol``."""
        return self.stop_reason == "tol"

    @property
    def interrupted(self) -> bool:
        return self.stop_reason == "interrupted"

    @property
    def diverged(self) -> bool:
        return self.stop_reason == "diverged"

    def optimality_gap(self, X: Any, y: Any) -> float:
        """Loss of the final parameters minus the least-squares (optimal) loss, in float64.

        ``X`` and ``y`` are the data the parameters were trained on (for a
        standardized ``GDRegressor``, use its own ``optimality_gap``).

        >>> import torch, gradlm
        >>> X, y = gradlm.datasets.line()
        >>> _ = torch.manual_seed(59)
        >>> h = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=50, lr=1e-3)
        >>> 0 <= h.optimality_gap(X, y) < 1
        True
        """
        from .lstsq import optimality_gap

        return optimality_gap(self.weight, self.bias, X, y)

    def to_dict(self) -> dict:
        """Plain Python lists and numbers, ready for JSON.

        >>> import gradlm
        >>> X, y = gradlm.datasets.line()
        >>> d = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=2, lr=1e-3).to_dict()
        >>> d["loss"][0] > d["loss"][1], d["stop_reason"], len(d["weight_path"])
        (True, 'epochs', 2)
        """
        return {
            "loss": self.loss.tolist(),
            "val_loss": None if self.val_loss is None else self.val_loss.tolist(),
            "weight": self.weight.tolist(),
            "bias": self.bias.tolist(),
            "weight_path": self.weight_path.tolist(),
            "bias_path": self.bias_path.tolist(),
            "epochs_run": self.epochs_run,
            "stop_reason": self.stop_reason,
            "converged": self.converged,
            "settings": dict(self.settings),
        }

    def __repr__(self) -> str:
        last = f"{self.loss[-1]:.6g}" if self.epochs_run else "none"
        return (
            f"History(epochs_run={self.epochs_run}, final loss={last}, "
            f"stop_reason={self.stop_reason!r})"
        )


@dataclass
class EpochInfo:
    """What a callback receives after each epoch. Return True from the callback to stop."""

    epoch: int
    loss: float
    val_loss: Optional[float]
    model: Any


def _to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _progress_wanted(progress: Optional[bool]) -> bool:
    if progress is not None:
        return bool(progress)
    if os.environ.get("CI") or "PYTEST_CURRENT_TEST" in os.environ:
        return False
    return sys.stderr is not None and sys.stderr.isatty()


class Recorder:
    """Runs the epoch loop's bookkeeping: records, stopping rules, callbacks, progress.

    Shared by the torch loop (``fit``) and the NumPy loop (``numpy_gd``), so both
    stop, warn and report the same way.
    """

    def __init__(
        self,
        *,
        epochs: Any,
        tol: Any = None,
        patience: Any = None,
        callbacks: Iterable[Callable] = (),
        progress: Optional[bool] = None,
        settings: Optional[dict] = None,
        on_divergence: str = "raise",
        diagnostics: Any = None,
    ) -> None:
        self.epochs = check_int(epochs, "epochs")
        self.tol = check_float(tol, "tol", nonnegative=True, allow_none=True)
        self.patience = check_int(patience, "patience", allow_none=True)
        if self.patience is not None and self.tol is None:
            self.tol = 0.0
        if self.tol is not None and self.patience is None:
            self.patience = 5
        if callable(callbacks):
            callbacks = (callbacks,)
        self.callbacks = tuple(callbacks)
        for cb in self.callbacks:
            if not callable(cb):
                raise TypeError(f"callbacks must be callables taking an EpochInfo; got {cb!r}.")
        self.progress = _progress_wanted(progress)
        self.on_divergence = check_choice(on_divergence, "on_divergence", DIVERGENCE_RULES)
        self.diagnostics = diagnostics
        self.settings = dict(settings or {}, epochs=self.epochs, tol=self.tol, patience=self.patience)
        self.loss: list = []
        self.val_loss: list = []
        self.weights: list = []
        self.biases: list = []
        self.stop_reason = "epochs"
        self._best = math.inf
        self._wait = 0
        self._rises = 0
        self._bar = None

    def __iter__(self) -> Iterator[int]:
        epochs: Iterable[int] = range(1, self.epochs + 1)
        if self.progress:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm is an optional extra
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(epochs, desc="fit", unit="epoch", leave=False)
                epochs = self._bar
        try:
            for epoch in epochs:
                yield epoch
                if self.stop_reason != "epochs":
                    break
        finally:
            if self._bar is not None:
                self._bar.close()

    def start_epoch(self, weight: Any, bias: Any) -> None:
        """Record the parameters at the start of an epoch (copies)."""
        clone = (lambda t: t.detach().clone()) if isinstance(weight, torch.Tensor) else np.copy
        self.weights.append(clone(weight))
        self.biases.append(clone(bias))

    def end_epoch(self, epoch: int, loss: float, val_loss: Optional[float], model: Any) -> None:
        """Record an epoch's losses, then apply the stopping rules and callbacks."""
        self.loss.append(loss)
        if val_loss is not None:
            self.val_loss.append(val_loss)
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{loss:.6g}", refresh=False)
        self._rises = self._rises + 1 if len(self.loss) > 1 and loss > self.loss[-2] else 0
        if not math.isfinite(loss) or (self._rises >= GROWING_EPOCHS and loss > self.loss[0]):
            self.stop_reason = "diverged"
            return
        if self.tol is not None:
            monitored = val_loss if val_loss is not None else loss
            if monitored < self._best - self.tol:
                self._best = monitored
                self._wait = 0
            else:
                self._wait += 1
            if self._wait >= self.patience:
                self.stop_reason = "tol"
        info = EpochInfo(epoch=epoch, loss=loss, val_loss=val_loss, model=model)
        for cb in self.callbacks:
            if cb(info) is True:
                self.stop_reason = "callback"

    def interrupt(self) -> None:
        self.stop_reason = "interrupted"

    def _rollback_epoch(self) -> Optional[int]:
        """Index into ``weights`` of the parameters to go back to, or None to keep the current ones."""
        n = len(self.loss)
        if self.stop_reason == "interrupted" and len(self.weights) > n:
            return n  # mid-epoch: the start of the interrupted epoch is the end of the last whole one
        if self.stop_reason == "diverged":
            finite = [i for i, value in enumerate(self.loss) if math.isfinite(value)]
            return finite[-1] if finite else 0
        return None

    def history(self, weight: Any, bias: Any, restore: Optional[Callable] = None) -> History:
        """Build the History with the final parameters; warn if ``tol`` was never met.

        After an interrupt or a divergence, ``restore(weight, bias)`` puts
        whole-epoch parameters back into the model (see History's
        ``stop_reason``); on divergence this then raises DivergenceError (or
        warns, with ``on_divergence="warn"``).
        """
        back = self._rollback_epoch()
        if back is not None:
            weight, bias = self.weights[back], self.biases[back]
            if restore is not None:
                restore(weight, bias)
        n = len(self.loss)
        # An interrupt can land after start_epoch and before end_epoch: keep whole epochs.
        weights, biases = self.weights[:n], self.biases[:n]
        stack = (lambda xs: _to_numpy(torch.stack(xs))) if weights and isinstance(weights[0], torch.Tensor) else np.stack
        weight = _to_numpy(weight).copy()
        bias = _to_numpy(bias).copy()
        if self.tol is not None and self.stop_reason == "epochs":
            # (not for data on disk: a warning is not worth another pass over them)
            known = self.diagnostics is not None and not self.diagnostics.streamed
            gap = self.diagnostics.optimality_gap(weight, bias) if known else None
            warnings.warn(
                f"training reached epochs={self.epochs} before the loss stopped improving by "
                f"tol={self.tol:g}"
                + (f" (its loss is {gap:.3g} above the least-squares optimum)" if gap is not None else "")
                + "; increase epochs or lr, or loosen tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        history = History(
            loss=np.asarray(self.loss, dtype=np.float64),
            val_loss=np.asarray(self.val_loss, dtype=np.float64) if self.val_loss else None,
            weight_path=stack(weights) if n else np.empty((0,) + weight.shape, weight.dtype),
            bias_path=stack(biases) if n else np.empty((0,) + bias.shape, bias.dtype),
            weight=weight,
            bias=bias,
            stop_reason=self.stop_reason,
            settings=self.settings,
        )
        if self.stop_reason == "diverged":
            self._report_divergence(history, back)
        return history

    def _report_divergence(self, history: History, kept: int) -> None:
        epoch, loss = len(self.loss), self.loss[-1]
        how = (f"the loss became {loss}" if not math.isfinite(loss)
               else f"the loss rose {self._rises} epochs in a row, to {loss:.4g}")
        kept_loss = self.loss[kept] if math.isfinite(self.loss[kept]) else None
        message = (f"training diverged at epoch {epoch}: {how}. The model keeps the parameters of epoch "
                   f"{kept + 1}" + (f" (loss {kept_loss:.6g})" if kept_loss is not None else "") + ". ")
        lr = self.settings.get("lr")
        bound = self.diagnostics.max_stable_lr() if self.diagnostics is not None else None
        if bound is not None and self.settings.get("batch_size") is None and lr is not None:
            message += (f"Full-batch gradient descent is stable for lr < {bound:.4g} (2 / the largest "
                        f"eigenvalue of the loss's Hessian; lr was {lr:g}): try lr={bound / 2:.3g}.")
        elif bound is not None:
            message += f"Lower lr (was {lr:g}; full-batch gradient descent is stable below {bound:.4g})."
        else:
            message += "Lower lr."
        if self.on_divergence == "warn":
            warnings.warn(message, DivergenceWarning, stacklevel=4)
            return
        raise DivergenceError(message, history=history, epoch=epoch)
