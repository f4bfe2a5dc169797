"""gradlm: linear regression by gradient descent on PyTorch.

>>> import gradlm
>>> X, y = gradlm.datasets.crops()
>>> model = gradlm.LinearModel(3, 2)
>>> history = gradlm.fit(model, X, y, epochs=10, lr=1e-5)
>>> history.loss.shape
(10,)
"""

from . import datasets
from .estimator import GDRegressor
from .exceptions import ConvergenceWarning, DivergenceError, DivergenceWarning
from .fit import fit
from .history import EpochInfo, History
from .loss import loss_at, mse
from .lstsq import LeastSquares, lstsq, optimality_gap
from .model import LinearModel, linear
from .numpy_gd import numpy_gd
from .serialization import load, save
from .stability import suggest_lr
from .streaming import Stream, stream

__version__ = "0.1.0"

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
    "linear",
    "load",
    "loss_at",
    "lstsq",
    "mse",
    "numpy_gd",
    "optimality_gap",
    "save",
    "stream",
    "suggest_lr",
]
