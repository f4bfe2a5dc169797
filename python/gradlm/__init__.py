"""gradlm: linear regression by gradient descent on PyTorch.

>>> import gradlm
>>> X, y = gradlm.datasets.crops()
>>> model = gradlm.LinearModel(3, 2)
>>> history = gradlm.fit(model, X, y, epochs=10, lr=1e-5)
>>> history.loss.shape
(10,)
"""

from typing import TYPE_CHECKING, Any

from . import datasets
from .exceptions import DivergenceError, DivergenceWarning
from .fit import fit
from .history import EpochInfo, History
from .interrupts import imported_whole as _imported_whole
from .loss import loss_at, mse
from .lstsq import LeastSquares, lstsq, optimality_gap
from .model import LinearModel, linear
from .numpy_gd import numpy_gd
from .serialization import load, save
from .stability import suggest_lr
from .streaming import Stream, stream

# The one source of the version: setuptools reads it from here (pyproject.toml), so the R package's copy of the core
# carries it too; R/DESCRIPTION's Version matches it.
__version__ = "0.1.0"

# Submodules reached as attributes without being imported by ``import gradlm`` (plot's matplotlib is imported only
# when a plot is drawn), and GDRegressor and ConvergenceWarning, made on first use (their scikit-learn bases take a
# second to import).
_LAZY = ("io", "plot")

if TYPE_CHECKING:
    from . import io, plot
    from .estimator import GDRegressor
    from .exceptions import ConvergenceWarning


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return _imported_whole(lambda: importlib.import_module(f".{name}", __name__))
    if name == "GDRegressor":
        from .estimator import GDRegressor  # (made whole before an interrupt: gradlm.interrupts)

        return GDRegressor
    if name == "ConvergenceWarning":
        from .exceptions import convergence_warning

        return convergence_warning()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY) | {"GDRegressor", "ConvergenceWarning"})


__all__ = [
    "ConvergenceWarning",
    "DivergenceError",
    "DivergenceWarning",
    "EpochInfo",
    "GDRegressor",
    "History",
    "LeastSquares",
    "LinearModel",
    "Stream",
    "datasets",
    "fit",
    "io",
    "linear",
    "load",
    "loss_at",
    "lstsq",
    "mse",
    "numpy_gd",
    "optimality_gap",
    "plot",
    "save",
    "stream",
    "suggest_lr",
]
