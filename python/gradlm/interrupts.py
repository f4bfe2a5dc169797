"""Ctrl-C during training, from Python and from R: the model stays whole and the session goes on.

An interrupt during the epochs stops training and returns the History so far
(``stop_reason="interrupted"``, see :class:`gradlm.loop.Loop`). Two places
need more than that:

- **The first fit in a process** imports ``torch._dynamo`` (torch.optim's
  optimizers do it on first use: about 800 modules, close to a second). An
  interrupt in the middle of that import leaves modules half made, and every
  later fit in the session fails. :func:`warm_torch_optim` runs the import
  with the interrupt held back until it is complete, then hands it on.
- **scikit-learn's bases**: ``gradlm.GDRegressor`` and ``ConvergenceWarning``
  are made on first use, importing scikit-learn (scipy, pandas: about a
  second). :func:`imported_whole` makes such an import whole before the
  interrupt is raised, so the session goes on.
- **From R**, reticulate's Python handler for SIGINT asks R, by calling R
  code, whether an interrupt is pending. Whether R acts on that interrupt
  during the call depends on R's evaluation state: when it does, Python sees
  ``RuntimeError: (Unknown exception occurred)`` instead of
  KeyboardInterrupt, and the fit is lost (or, when R says no interrupt is
  pending, training goes on and the interrupt is lost).
  :func:`python_handles_interrupts` puts a plain handler in its place while
  R's call runs Python, which is then in the foreground. R may act on the
  same signal once Python has returned: ``interruptible()`` in
  ``R/R/errors.R`` then takes the result back from the core.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")


class Deferred:
    """An interrupt held back while something must not be cut in two; :meth:`deliver` raises it."""

    def __init__(self) -> None:
        self.pending = False

    def deliver(self) -> None:
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


def _in_main_thread() -> bool:
    # Python runs signal handlers in the main thread only, and only there may they be changed.
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _sigint_handler(handler) -> Iterator[None]:
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _held(deferred: Deferred) -> Iterator[None]:
    """SIGINT recorded in ``deferred`` instead of raised, while the block runs (in the main thread)."""

    def hold(signum, frame):
        deferred.pending = True

    with _sigint_handler(hold):
        yield


def imported_whole(make: Callable[[], T]) -> T:
    """``make()`` (an import, or what needs one) with Ctrl-C held back until it returns, then raised.

    An interrupt in the middle of an import leaves modules half made, and
    later imports of them fail for the rest of the session; held back, it is
    a KeyboardInterrupt like any other once the import is whole.

    >>> imported_whole(lambda: __import__("json")).__name__
    'json'
    """
    deferred = Deferred()
    with _held(deferred):
        made = make()
    deferred.deliver()
    return made


_warm = False


def warm_torch_optim(deferred: Deferred) -> None:
    """Import what torch.optim imports on first use, an interrupt meanwhile recorded in ``deferred``.

    >>> d = Deferred()
    >>> warm_torch_optim(d)
    >>> d.pending
    False
    """
    global _warm
    if _warm or "torch._dynamo" in sys.modules:
        _warm = True
        return
    with _held(deferred):
        import torch._dynamo  # noqa: F401
    _warm = True


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def python_handles_interrupts():
    """While R's call runs Python: SIGINT raises KeyboardInterrupt here, without calling back into R.

    A context manager; outside the main thread it changes nothing.
    """
    return _sigint_handler(_raise_keyboard_interrupt)
