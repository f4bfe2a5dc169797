"""``GDRegressor``: the scikit-learn-style front end to :func:`gradlm.fit`."""

from __future__ import annotations

import inspect
from typing import Any, Optional

import numpy as np
import torch

from .analytic import SufficientStatistics
from .fit import FAST_MIN_ROWS, fit
from .lstsq import optimality_gap
from . import distributed
from .model import LinearModel
from .streaming import Stream
from .validation import as_dtype, check_X, check_X_y_view, check_y, column_names

try:  # scikit-learn is optional; with it, GDRegressor works in pipelines, clone and cross-validation
    from sklearn.base import BaseEstimator, RegressorMixin

    _BASES: tuple = (RegressorMixin, BaseEstimator)
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    _BASES = (object,)


def _owns(tensor: torch.Tensor, source: Any) -> bool:
    """True when ``tensor`` is a conversion's own copy, not a view of the caller's ``source``."""
    if isinstance(source, torch.Tensor):
        return tensor.untyped_storage().data_ptr() != source.untyped_storage().data_ptr()
    if tensor.device.type != "cpu":
        return True  # moved to the device: a copy
    if hasattr(source, "to_numpy"):  # pandas may hand out a view of its own block
        source = source.to_numpy()
    if isinstance(source, np.ndarray):
        return not np.shares_memory(tensor.numpy(), source)
    return True  # nested lists were converted into a new array


class GDRegressor(*_BASES):
    """Linear regression fitted by gradient descent, with scikit-learn conventions.

    Parameters
    ----------
    epochs, lr, batch_size, shuffle, optimizer, momentum, nesterov, weight_decay, tol, patience, fast, on_divergence
        As in :func:`gradlm.fit`.
    init : {"torch", "randn", "zeros"}
        How the model starts (see :class:`gradlm.LinearModel`).
    standardize : bool
        Optimise on features scaled to mean 0 and standard deviation 1 (much
        better conditioned: larger ``lr``, fewer epochs); ``coef_`` and
        ``intercept_`` are reported on the original scale all the same.
    seed : int, optional
        Seeds the initial parameters and the batch order; the global torch RNG
        is left as it was. None uses the global RNG.
    dtype, device : the model's dtype and device (default float32 on the CPU).
    progress : bool, optional
        A progress bar (see :func:`gradlm.fit`).

    Attributes
    ----------
    coef_ : ndarray (n_targets, n_features), or (n_features,) when ``y`` was 1-D
    intercept_ : ndarray (n_targets,), or a float when ``y`` was 1-D
    history_ : History (of the optimisation, on the standardized scale if ``standardize``)
    model_ : LinearModel (on the standardized scale if ``standardize``)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when ``X`` had column names
    target_names_ : list of str, when ``y`` had column names
    x_mean_, x_scale_ : ndarray (n_features,), the standardization (zeros and ones without it)

    Examples
    --------
    >>> import gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> est = GDRegressor(epochs=500, lr=0.5, standardize=True, seed=0).fit(X, y)
    >>> est.coef_.shape, est.intercept_.shape
    ((2, 3), (2,))
    >>> round(est.score(X, y), 3)
    0.999
    """

    def __init__(
        self,
        *,
        epochs: int = 1000,
        lr: float = 0.01,
        batch_size: Optional[int] = None,
        shuffle: bool = True,
        optimizer: Any = "sgd",
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        init: str = "torch",
        standardize: bool = False,
        seed: Optional[int] = None,
        tol: Optional[float] = None,
        patience: Optional[int] = None,
        dtype: Any = "float32",
        device: Any = None,
        progress: Optional[bool] = None,
        fast: Optional[bool] = None,
        on_divergence: str = "raise",
        distributed: bool = False,
    ) -> None:
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.optimizer = optimizer
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.init = init
        self.standardize = standardize
        self.seed = seed
        self.tol = tol
        self.patience = patience
        self.dtype = dtype
        self.device = device
        self.progress = progress
        self.fast = fast
        self.on_divergence = on_divergence
        self.distributed = distributed

    @classmethod
    def _param_names(cls) -> list:
        return [p.name for p in inspect.signature(cls.__init__).parameters.values() if p.kind == p.KEYWORD_ONLY]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments, as scikit-learn's ``get_params``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> "GDRegressor":
        """Set constructor arguments by name; unknown names are an error."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{name!r} is not a parameter of GDRegressor; valid ones: {', '.join(valid)}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if v is not defaults[k] and v != defaults[k]]
        return f"GDRegressor({', '.join(changed)})"

    def fit(self, X: Any, y: Any, validation: Optional[tuple] = None,
            statistics: Optional[SufficientStatistics] = None) -> "GDRegressor":
        """Fit the model; ``validation=(X_val, y_val)`` is passed on to :func:`gradlm.fit`.

        Full-batch training with the closed-form gradients (see ``fast`` in
        :func:`gradlm.fit`) runs on the data's float64 moments, taken in one
        pass without copying ``X`` (``statistics`` reuses moments already
        taken); standardization is then applied to the moments, not the data.
        Otherwise ``X`` is converted once to the model's dtype.
        """
        dtype = as_dtype(self.dtype)
        source = X if isinstance(X, Stream) else None
        if source is not None:
            if y is not None:
                raise ValueError("with a Stream as X, pass y=None: the stream holds the targets.")
            names, target_names, y_1d = source.feature_names, source.target_names, False
            # this process's part, for the moments; fit() shards the stream it is given itself
            shard = source.shard(*distributed.setup(self.device)) if self.distributed else source
        else:
            names = column_names(X) if hasattr(X, "columns") else None
            target_names = column_names(y)
            y_1d = (y.ndim if hasattr(y, "ndim") else np.ndim(y)) == 1
        on_moments = self.batch_size is None and (
            self.fast or source is not None or self.distributed or (self.fast is None and len(X) >= FAST_MIN_ROWS))
        if source is not None and not on_moments:
            # mini-batches from disk: the standardization needs one pass of moments first
            if self.standardize:
                stats = self._statistics(shard, statistics)
                mean = stats.mx
                scale = torch.where(stats.std > 0, stats.std, torch.ones_like(stats.std))
                source = source.standardized(mean, scale)
            else:
                mean = torch.zeros(source.n_features, dtype=torch.float64)
                scale = torch.ones_like(mean)
            data = (source, None)
            n_features, n_targets = source.n_features, source.n_outputs
        elif on_moments:
            stats = self._statistics(shard if source is not None else check_X_y_view(X, y), statistics)
            n_features, n_targets = stats.G.shape[0], stats.C.shape[1]
            if self.standardize:
                mean = stats.mx
                scale = torch.where(stats.std > 0, stats.std, torch.ones_like(stats.std))
                data = (stats.standardized(mean, scale), None)
            else:
                mean = torch.zeros(n_features, dtype=torch.float64)
                scale = torch.ones_like(mean)
                data = (stats, None)
        else:
            data, mean, scale = self._convert(X, y, dtype)
            n_features, n_targets = data[0].shape[1], data[1].shape[1]
        mean, scale = mean.cpu(), scale.cpu()
        if validation is not None:
            X_val, y_val = validation
            X_val = check_X(X_val, n_features=n_features, dtype=torch.float64, device=self.device)
            validation = (((X_val - mean.to(X_val.device)) / scale.to(X_val.device)).to(dtype), y_val)

        with torch.random.fork_rng(devices=[]):
            if self.seed is not None:
                torch.manual_seed(self.seed)
            model = LinearModel(n_features, n_targets, init=self.init, dtype=dtype, device=self.device)
        history = fit(
            model,
            *data,
            epochs=self.epochs,
            lr=self.lr,
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            optimizer=self.optimizer,
            momentum=self.momentum,
            nesterov=self.nesterov,
            weight_decay=self.weight_decay,
            seed=self.seed,
            validation=validation,
            tol=self.tol,
            patience=self.patience,
            progress=self.progress,
            fast=True if on_moments else self.fast,
            on_divergence=self.on_divergence,
            distributed=self.distributed,  # (moments given to fit count as merged already)
        )
        mean, scale = mean.numpy(), scale.numpy()
        coef = history.weight.astype(np.float64) / scale
        intercept = history.bias.astype(np.float64) - coef @ mean

        self.model_ = model
        self.history_ = history
        self.n_features_in_ = n_features
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.target_names_ = target_names
        self.x_mean_, self.x_scale_ = mean, scale
        self._y_1d = y_1d and n_targets == 1
        self.coef_ = coef[0] if self._y_1d else coef
        self.intercept_ = float(intercept[0]) if self._y_1d else intercept
        return self

    def _statistics(self, data: Any, given: Optional[SufficientStatistics]) -> SufficientStatistics:
        """The training data's moments: ``given``, or one pass over ``data`` (a Stream or an (X, y) pair),
        merged over the processes when distributed."""
        if given is not None:
            return given
        if isinstance(data, Stream):
            local = data.statistics() if data.units else None
        else:
            local = SufficientStatistics(*data)
        return distributed.merge_statistics(local) if self.distributed else local

    def _convert(self, X: Any, y: Any, dtype: torch.dtype) -> tuple:
        """``((X, y), center, scale)``: the data as tensors in the model's dtype, standardized if asked."""
        Xt = check_X(X, dtype=dtype, device=self.device)
        yt = check_y(y, n_rows=Xt.shape[0], dtype=dtype, device=self.device)
        if not self.standardize:
            zeros = torch.zeros(Xt.shape[1], dtype=torch.float64)
            return (Xt, yt), zeros, torch.ones_like(zeros)
        # Any centre and scale work (coefficients are mapped back with the same
        # values), so they are taken in the data's dtype, and X is scaled in
        # place when check_X made it a copy of its own: no float64 copy of X.
        if self.distributed:  # every process standardizes with the same, global moments
            stats = distributed.merge_statistics(SufficientStatistics(Xt, yt))
            var, mean32 = (stats.std ** 2).to(dtype), stats.mx.to(dtype)
        else:
            var, mean32 = torch.var_mean(Xt, dim=0, correction=0)
        scale32 = torch.where(var > 0, var.sqrt(), torch.ones_like(var))
        Xt = Xt.sub_(mean32) if _owns(Xt, X) else Xt - mean32
        Xt.div_(scale32)
        return (Xt, yt), mean32.to(torch.float64), scale32.to(torch.float64)

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("this GDRegressor is not fitted yet; call fit(X, y) first.")

    def predict(self, X: Any) -> np.ndarray:
        """Predictions (n, n_targets) in float64, or (n,) when ``y`` was 1-D at fit."""
        self._check_fitted()
        names = getattr(self, "feature_names_in_", None)
        given = column_names(X) if hasattr(X, "columns") else None
        if names is not None and given is not None and list(given) != list(names):
            raise ValueError(
                f"X has columns {given}, but the model was fitted with {list(names)}; "
                "pass the same columns in the same order."
            )
        Xt = check_X(X, n_features=self.n_features_in_, dtype=torch.float64).cpu().numpy()
        coef = np.atleast_2d(self.coef_)
        pred = Xt @ coef.T + np.atleast_1d(self.intercept_)
        return pred[:, 0] if self._y_1d else pred

    def optimality_gap(self, X: Any, y: Any) -> float:
        """Loss of ``coef_``, ``intercept_`` on ``(X, y)`` minus the least-squares loss (float64)."""
        self._check_fitted()
        return optimality_gap(np.atleast_2d(self.coef_), np.atleast_1d(self.intercept_), X, y)

    def score(self, X: Any, y: Any) -> float:
        """R² of the predictions, averaged over targets (as scikit-learn's ``score``)."""
        pred = np.atleast_2d(self.predict(X).reshape(len(X), -1))
        y = check_y(y, n_rows=pred.shape[0], n_outputs=pred.shape[1], dtype=torch.float64).cpu().numpy()
        ss_res = ((y - pred) ** 2).sum(axis=0)
        ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        safe = np.where(ss_tot > 0, ss_tot, 1.0)
        r2 = np.where(ss_tot > 0, 1 - ss_res / safe, np.where(ss_res == 0, 1.0, 0.0))
        return float(r2.mean())
