"""The warnings and errors gradlm raises beyond ValueError and TypeError.

``ConvergenceWarning`` is made on first use: with scikit-learn installed it
is also scikit-learn's ``ConvergenceWarning``, so that scikit-learn's filters
(``warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)``,
``ignore_warnings``) silence it. Making it imports scikit-learn (about a
second), which ``import gradlm`` does not: :class:`ConvergenceWarningBase`,
its base, is there from the start for code that must not import scikit-learn
(R's bridge catches it).
"""

import threading
from typing import TYPE_CHECKING

from .interrupts import imported_whole


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit`` (as scikit-learn's, whose
    ``NotFittedError`` is also both; ``GDRegressor`` raises a subclass of scikit-learn's own)."""


class ConvergenceWarningBase(UserWarning):
    """The base of :class:`ConvergenceWarning` without scikit-learn's: every ConvergenceWarning gradlm issues is
    one, so code that catches or filters this class imports nothing."""


_lock = threading.Lock()

if TYPE_CHECKING:
    class ConvergenceWarning(ConvergenceWarningBase):
        """Training ended at ``epochs`` before the loss stopped improving by ``tol``."""


def _convergence_warning_bases() -> tuple:
    try:
        from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning

        return (ConvergenceWarningBase, SklearnConvergenceWarning)
    except ImportError:  # scikit-learn is optional
        return (ConvergenceWarningBase,)


def convergence_warning() -> type:
    """``ConvergenceWarning``, the one class gradlm warns with when training did not converge, made on the first
    call: a subclass of :class:`ConvergenceWarningBase` and, when scikit-learn is installed, of scikit-learn's
    ``ConvergenceWarning``.

    >>> convergence_warning() is convergence_warning() and issubclass(convergence_warning(), UserWarning)
    True
    """
    with _lock:
        cls = globals().get("ConvergenceWarning")
        if cls is None:
            bases = imported_whole(_convergence_warning_bases)
            cls = globals()["ConvergenceWarning"] = type("ConvergenceWarning", bases, {
                "__module__": __name__,  # (pickle finds it again by this name)
                "__doc__": "Training ended at ``epochs`` before the loss stopped improving by ``tol``."})
        return cls


def __getattr__(name: str) -> type:
    if name == "ConvergenceWarning":
        return convergence_warning()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class DivergenceWarning(UserWarning):
    """Training diverged and ``on_divergence="warn"`` asked for a warning instead of an error."""


class DivergenceError(RuntimeError):
    """Training diverged: the loss became NaN or infinite, or kept growing.

    The model keeps the parameters of the last epoch whose loss was finite;
    ``history`` holds the run up to the divergence and ``epoch`` the epoch at
    which it was detected (from 1).
    """

    def __init__(self, message: str, history=None, epoch=None) -> None:
        super().__init__(message)
        self.history = history
        self.epoch = epoch
