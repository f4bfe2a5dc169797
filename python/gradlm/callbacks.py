"""The training loop's rules, one small class each: run after every epoch, each may stop the run.

A rule is called as ``rule(loop, epoch, params)`` once the epoch's losses are
recorded (``loop.loss``, ``loop.val_loss``); ``params`` are the parameters
after the epoch. It returns a stop reason, or None to go on. The loop runs
them in the order below, so that divergence is decided before anything can
call the run finished.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Optional

from .report import CoefficientDistance

# Divergence where theory cannot decide (Adam, mini-batches, Nesterov, weight
# decay): the loss rose this many epochs in a row and is above the first
# epoch's. (A stable run can rise for a few epochs, as momentum overshoots.)
GROWING_EPOCHS = 10
# A full-batch run beyond its stable bound diverges for certain: once its loss
# has risen this many epochs in a row above its best, it is stopped.
UNSTABLE_RISES = 3


class DivergenceGuard:
    """Stops a run that diverges, and never one that converges.

    A NaN or infinite loss always stops. Full-batch SGD (heavy ball) on the
    MSE converges exactly when ``lr < 2 (1 + momentum) / lambda_max``: inside
    that bound a rising loss is a transient (momentum's overshoot) and never
    stops the run; beyond it, a loss rising ``UNSTABLE_RISES`` epochs in a row
    does. Elsewhere a loss rising ``GROWING_EPOCHS`` in a row above the first
    epoch's does. ``on_divergence="ignore"`` keeps only the NaN/Inf rule.
    """

    def __init__(self, stable: Optional[bool], enabled: bool = True) -> None:
        self.stable, self.enabled = stable, enabled
        self.rises = 0

    def __call__(self, loop: Any, epoch: int, params: tuple) -> Optional[str]:
        losses = loop.loss
        loss = losses[-1]
        self.rises = self.rises + 1 if len(losses) > 1 and loss > losses[-2] else 0
        if not math.isfinite(loss):
            return "diverged"
        if not self.enabled or self.stable:
            return None
        if self.stable is False:
            return "diverged" if self.rises >= UNSTABLE_RISES and loss > min(losses) else None
        return "diverged" if self.rises >= GROWING_EPOCHS and loss > losses[0] else None


class CertifiedStop:
    """Stops when every coefficient is within ``tol`` of the least-squares one (see :mod:`gradlm.report`)."""

    def __init__(self, distance: CoefficientDistance, tol: float) -> None:
        self.distance, self.tol = distance, tol
        self.last = math.inf

    def __call__(self, loop: Any, epoch: int, params: tuple) -> Optional[str]:
        self.last = self.distance(*params)
        return "converged" if self.last <= self.tol else None


class Patience:
    """Early stopping: the monitored loss (validation loss if given) has not improved for ``patience`` epochs."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best = math.inf
        self.wait = 0

    def __call__(self, loop: Any, epoch: int, params: tuple) -> Optional[str]:
        monitored = loop.val_loss[-1] if loop.val_loss else loop.loss[-1]
        if monitored < self.best:
            self.best, self.wait = monitored, 0
        else:
            self.wait += 1
        return "patience" if self.wait >= self.patience else None


class UserCallbacks:
    """The user's callables, each given an :class:`~gradlm.history.EpochInfo`; returning True stops."""

    def __init__(self, callbacks: Iterable[Callable]) -> None:
        if callable(callbacks):
            callbacks = (callbacks,)
        self.callbacks = tuple(callbacks)
        for cb in self.callbacks:
            if not callable(cb):
                raise TypeError(f"callbacks must be callables taking an EpochInfo; got {cb!r}.")

    def __call__(self, loop: Any, epoch: int, params: tuple) -> Optional[str]:
        from .history import EpochInfo

        info = EpochInfo(epoch=epoch, loss=loop.loss[-1], val_loss=loop.val_loss[-1] if loop.val_loss else None,
                         model=loop.model)
        stop = False
        for cb in self.callbacks:
            stop = (cb(info) is True) or stop
        return "callback" if stop else None
