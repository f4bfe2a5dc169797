"""``GDRegressor``: the scikit-learn-style front end to :func:`gradlm.fit`."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import torch

from . import distributed
from .analytic import SufficientStatistics
from .design import as_weight
from .exceptions import NotFittedError
from .fit import fit
from .inference import Inference
from .lstsq import optimality_gap, solve
from .model import LinearModel
from .plan import uses_moments
from .report import default_tol, r_squared
from .stability import Curvature
from .streaming import Stream
from .validation import as_dtype, check_device, check_int, check_X, check_X_y_view, check_y, column_names

if TYPE_CHECKING:
    from .history import History



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


def _project_out(model: LinearModel, null_space: torch.Tensor) -> None:
    """Remove from each output's start ``[w, b]`` its component along ``null_space`` ((d + 1, m), orthonormal)."""
    with torch.no_grad():
        theta = torch.cat([model.weight, model.bias[:, None]], dim=1).to(null_space)
        theta -= (theta @ null_space) @ null_space.T
        model.weight.copy_(theta[:, :-1])
        model.bias.copy_(theta[:, -1])


class Regressor:
    """Linear regression fitted by gradient descent, with scikit-learn conventions.

    ``gradlm.GDRegressor`` is this class with scikit-learn's ``RegressorMixin``
    and ``BaseEstimator`` as bases (for pipelines, ``clone`` and
    cross-validation); R's ``gd_lm`` uses this one, which does not import
    scikit-learn (about a second of a first call).

    Parameters
    ----------
    epochs, lr, momentum, tol : as in :func:`gradlm.fit`, with the same "auto" defaults
        The step comes from the curvature of the (standardized) data, the
        budget from the step's rate, and training stops once every
        coefficient is certified within ``tol`` of least squares; a
        :class:`~gradlm.ConvergenceWarning` says when it is not. Unlike
        ``fit``, ``tol="auto"`` certifies (and warns) whatever ``lr`` and
        ``epochs``: an estimator promises the regression's answer.
    batch_size, shuffle, optimizer, nesterov, weight_decay, patience, fast, on_divergence
        As in :func:`gradlm.fit`.
    init : {"torch", "randn", "zeros"}
        How the model starts (see :class:`gradlm.LinearModel`).
    standardize : bool, default True
        Optimise on features and targets scaled to mean 0 and standard
        deviation 1 (in float64, from the moments): far better conditioned,
        and free of the data's scale; ``coef_`` and ``intercept_`` are
        reported on the original scale all the same. ``False`` trains on the
        data as they are. (Without intercept: scaled to root mean square 1,
        not centred.)
    fit_intercept : bool, default True
        False fits ``y = X W'`` through the origin (``intercept_`` 0), as R's
        ``y ~ x - 1``; R² is then measured from 0, as ``lm()`` does. Trains
        full batch (on the moments).
    seed : int, optional
        Seeds the initial parameters and the batch order; the global torch RNG
        is left as it was. None uses the global RNG.
    dtype : the model's dtype; None (the default): float64 for full-batch
        training on the moments (the rows are never converted, so float64
        costs nothing), else the data's: float32 for float32 data, float64
        otherwise (NumPy, pandas, R and lists).
    device : the model's device (default the CPU).
    progress : bool, optional
        A progress bar (see :func:`gradlm.fit`).

    Attributes
    ----------
    coef_ : ndarray (n_targets, n_features), or (n_features,) when ``y`` was 1-D
    intercept_ : ndarray (n_targets,), or a float when ``y`` was 1-D
    history_ : History (of the optimisation, on the standardized scale if ``standardize``)
    report_ : FitReport
        The loss beside the least-squares optimum's (on the original scale),
        R², and whether the fit converged (certified).
    converged_ : bool
    lstsq_ : LeastSquares, the exact solution the fit is measured against (original scale)
    n_iter_ : int, the epochs run
    model_ : LinearModel (on the standardized scale if ``standardize``)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when ``X`` had column names
    target_names_ : list of str, when ``y`` had column names
    x_mean_, x_scale_ : ndarray (n_features,), the standardization (zeros and ones without it)
    y_mean_, y_scale_ : ndarray (n_targets,), the same for the targets
    inference_ : Inference
        ``lm()``'s inference at ``coef_`` and ``intercept_`` (standard errors,
        t and p values, R², F, intervals, log-likelihood; see
        :class:`gradlm.inference.Inference`), for in-memory, streamed and
        distributed data alike; :meth:`summary` prints it.

    Examples
    --------
    >>> import gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> est = gradlm.GDRegressor(seed=0).fit(X, y)
    >>> est.coef_.shape, est.intercept_.shape, est.converged_
    ((2, 3), (2,), True)
    >>> round(est.score(X, y), 3)
    0.999
    """

    def __init__(
        self,
        *,
        epochs: Any = "auto",
        lr: Any = "auto",
        batch_size: Optional[int] = None,
        shuffle: bool = True,
        optimizer: Any = "sgd",
        momentum: Any = "auto",
        nesterov: bool = False,
        weight_decay: float = 0.0,
        init: str = "torch",
        standardize: bool = True,
        seed: Optional[int] = None,
        tol: Any = "auto",
        patience: Optional[int] = None,
        dtype: Any = None,
        device: Any = None,
        progress: Optional[bool] = None,
        fast: Optional[bool] = None,
        on_divergence: str = "raise",
        distributed: bool = False,
        fit_intercept: bool = True,
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
        self.fit_intercept = fit_intercept

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

    def fit(self, X: Any, y: Any, sample_weight: Any = None, validation: Optional[tuple] = None,
            statistics: Optional[SufficientStatistics] = None, rss: Any = None) -> "GDRegressor":
        """Fit the model; ``validation=(X_val, y_val)`` is passed on to :func:`gradlm.fit`.

        ``sample_weight`` (n,), >= 0: weighted least squares (the loss is
        ``sum(w r^2) / sum(w)``; the inference takes them as ``lm()``'s
        precision weights); trains full batch, on the moments. ``rss``: the
        residual sums of squares of the fitted coefficients when the caller
        computes them from the rows (more exact than from the moments), or a
        function of ``(coef (k, d), intercept (k,))`` that computes them.

        One pass over the data gathers their float64 moments (without copying
        ``X``; ``statistics`` reuses moments already taken). They give the
        standardization, the step size, the exact solution the fit is
        certified against and, for full batch, the training itself: then ``X``
        is never converted. Otherwise ``X`` is converted once to the model's
        dtype (and standardized in place when the copy is its own).
        """
        # checked before anything uses it (torch's own messages would follow otherwise)
        check_int(self.seed, "seed", minimum=0, maximum=2**63 - 1, allow_none=True)
        check_device(self.device)
        source = X if isinstance(X, Stream) else None
        if source is not None:
            if y is not None:
                raise ValueError("with a Stream as X, pass y=None: the stream holds the targets.")
            if sample_weight is not None:
                raise ValueError("with a Stream as X, name its weight column instead: stream(..., weight='w').")
            names, target_names, y_1d = source.feature_names, source.target_names, False
            # this process's part, for the moments; fit() shards the stream it is given itself
            shard = source.shard(*distributed.setup(self.device)) if self.distributed else source
            n, data_dtype = source.n, torch.float64
        else:
            names = column_names(X) if hasattr(X, "columns") else None
            target_names = column_names(y)
            y_1d = (y.ndim if hasattr(y, "ndim") else np.ndim(y)) == 1
            X, y = check_X_y_view(X, y)  # read in place; converted below only if training needs the rows
            n, data_dtype = X.shape[0], X.dtype
        weights = None if source is not None else as_weight(sample_weight, n)
        # An estimator has no tutorial digits to reproduce: full batch runs on the moments unless fast=False.
        # (Moments passed in only spare a pass: they decide nothing, so R and Python train alike.)
        on_moments = uses_moments(batch_size=self.batch_size, fast=True if self.fast is None else self.fast, n=n,
                                  lr=self.lr, streamed=source is not None, distributed=self.distributed)
        weighted = weights is not None or (source is not None and source.weight_name is not None)
        if not on_moments and (weighted or not self.fit_intercept):
            raise ValueError(
                f"{'sample_weight' if weighted else 'fit_intercept=False'} trains full batch on the "
                "data's moments: leave batch_size=None and fast unset (mini-batches do not support it yet).")
        # On the moments the rows are never converted: float64 parameters cost nothing.
        dtype = as_dtype(self.dtype) if self.dtype is not None else (torch.float64 if on_moments else data_dtype)
        stats = statistics
        if stats is None and (on_moments or self.standardize or source is None):
            stats = self._statistics(shard if source is not None else (X, y), weights)
        if stats is not None:
            n_features, n_targets = stats.G.shape[0], stats.C.shape[1]
        else:
            assert source is not None  # (without the moments, the data are a stream)
            n_features, n_targets = source.n_features, source.n_outputs
        center, scale, y_center, y_scale = self._standardization(stats, n_features, n_targets)
        trained_stats = None
        data: tuple
        if stats is not None:
            trained_stats = stats.standardized(center, scale, y_center, y_scale) if self.standardize else stats
        if on_moments:
            data = (trained_stats, None)
        elif source is not None:
            data = (source.standardized(center, scale, y_center, y_scale) if self.standardize else source, None)
        else:
            data = self._convert(X, y, dtype, center, scale, y_center, y_scale)
        if validation is not None:
            X_val, y_val = validation
            X_val = check_X(X_val, n_features=n_features, dtype=torch.float64, device=self.device)
            y_val = check_y(y_val, n_rows=X_val.shape[0], n_outputs=n_targets, dtype=torch.float64,
                            device=self.device)
            validation = (((X_val - center.to(X_val.device)) / scale.to(X_val.device)).to(dtype),
                          ((y_val - y_center.to(y_val.device)) / y_scale.to(y_val.device)).to(dtype))

        with torch.random.fork_rng(devices=[]):
            if self.seed is not None:
                torch.manual_seed(self.seed)
            model = LinearModel(n_features, n_targets, init=self.init, dtype=dtype, device=self.device)
            if not self.fit_intercept:  # the bias starts at 0, and its gradient on the moments about 0 is 0
                with torch.no_grad():
                    model.bias.zero_()
        tol = self.tol
        if trained_stats is not None:
            curvature = Curvature.of(trained_stats)
            if tol == "auto":  # the estimator always certifies (fit() does only where lr or epochs is automatic)
                tol = default_tol(dtype, curvature.condition_number)
            if curvature.null_space is not None:
                # Collinear predictors: no data decide the start's part along the Hessian's null space, and
                # gradient steps never move it. Without it, training ends at the solution of least norm on the
                # standardized scale, whatever the seed.
                _project_out(model, curvature.null_space)
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
            tol=tol,
            patience=self.patience,
            progress=self.progress,
            fast=True if on_moments else self.fast,
            on_divergence=self.on_divergence,
            distributed=self.distributed,  # (moments given to fit count as merged already)
            statistics=trained_stats if (source is None and not on_moments) else None,
        )
        center, scale, y_center, y_scale = (t.cpu().numpy() for t in (center, scale, y_center, y_scale))
        coef = history.weight.astype(np.float64) * y_scale[:, None] / scale
        intercept = y_center + y_scale * history.bias.astype(np.float64) - coef @ center

        self.model_ = model
        self.history_: Optional[History] = history  # (None in a model read from a file without its loss)
        self.n_features_in_ = n_features
        self.n_iter_ = history.epochs_run
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.target_names_ = target_names
        self.x_mean_, self.x_scale_ = center, scale
        self.y_mean_, self.y_scale_ = y_center, y_scale
        self._y_1d = y_1d and n_targets == 1
        self.coef_ = coef[0] if self._y_1d else coef
        self.intercept_ = float(intercept[0]) if self._y_1d else intercept
        # The report on the original scale; the verdict is the one certified in training.
        self.report_ = self.lstsq_ = self.inference_ = None
        if stats is not None:
            in_memory = source is None and not self.distributed
            self.lstsq_, design, _ = solve(X if in_memory else None, y if in_memory else None, statistics=stats,
                                           sample_weight=weights)
            if history.report is not None:
                self.report_ = history.report.on_scale_of(stats, coef, intercept, self.lstsq_)
            names = getattr(self, "feature_names_in_", None)
            self.inference_ = Inference(
                design, stats, coef, intercept, rss=rss(coef, intercept) if callable(rss) else rss,
                converged=self.report_ is not None and self.report_.converged,
                term_names=None if names is None else (["(Intercept)"] if self.fit_intercept else []) + list(names),
                rows=(lambda: (X, y, weights)) if in_memory else None)
        self.converged_ = bool(self.report_ is not None and self.report_.converged)
        return self

    def _statistics(self, data: Any, weights: Optional[torch.Tensor] = None) -> Optional[SufficientStatistics]:
        """The training data's moments: one pass over ``data`` (a Stream or an (X, y) pair), merged over the
        processes when distributed; about the origin without intercept."""
        if isinstance(data, Stream):
            local = data.statistics(allow_empty=self.distributed) if data.units else None
            if local is None and not self.distributed:  # (distributed: another process may hold rows)
                raise ValueError(f"{data.description} has 0 rows; pass data with at least one row.")
        else:
            local = SufficientStatistics(data[0], data[1], sample_weight=weights)
        stats = distributed.merge_statistics(local) if self.distributed else local
        return stats if self.fit_intercept or stats is None else stats.about_origin()

    def summary(self) -> str:
        """``lm()``'s coefficient table, residual standard error, R² and F statistic, per target
        (from :attr:`inference_`); print it.

        >>> import gradlm
        >>> X, y = gradlm.datasets.crops()
        >>> est = gradlm.GDRegressor(seed=0).fit(X, y[:, 0])
        >>> "Residual standard error" in est.summary()
        True
        """
        self._check_fitted()
        inference = getattr(self, "inference_", None)
        if inference is None:
            raise ValueError("this GDRegressor has no inference: a model read from a file keeps its coefficients "
                             "only; fit it again on the data for standard errors.")
        exact = self.lstsq_
        return inference.summary(response_names=self.target_names_, exact=None if exact is None else (
            np.hstack([exact.bias[:, None], exact.weight]) if self.fit_intercept else exact.weight))

    def _standardization(self, stats: Optional[SufficientStatistics], d: int, k: int) -> tuple:
        """``(center, scale, y_center, y_scale)`` (float64): the data's means and standard deviations when
        ``standardize``, else zeros and ones. A constant column keeps scale 1."""
        if not self.standardize:
            zeros_x, zeros_y = torch.zeros(d, dtype=torch.float64), torch.zeros(k, dtype=torch.float64)
            return zeros_x, torch.ones_like(zeros_x), zeros_y, torch.ones_like(zeros_y)
        assert stats is not None  # (standardize: the moments are always taken)
        sx = stats.std.cpu()
        sy = (stats.yy.cpu() / stats.n).sqrt()
        return (stats.mx.cpu(), torch.where(sx > 0, sx, torch.ones_like(sx)), stats.my.cpu(),
                torch.where(sy > 0, sy, torch.ones_like(sy)))

    def _convert(self, X: torch.Tensor, y: torch.Tensor, dtype: torch.dtype, center: torch.Tensor,
                 scale: torch.Tensor, y_center: torch.Tensor, y_scale: torch.Tensor) -> tuple:
        """``(X, y)`` as tensors in the model's dtype, standardized if asked (in place when the copy is ours)."""
        if self.standardize and dtype != torch.float64:
            tiny, huge = torch.finfo(dtype).tiny, torch.finfo(dtype).max
            for name, s in (("X", scale), ("y", y_scale)):
                bad = ((s < tiny * 1e6) | (s > huge / 1e6)).nonzero()
                if len(bad):
                    j = int(bad[0, 0])
                    raise ValueError(
                        f"column {j} of {name} has standard deviation {float(s[j]):.3g}, beyond what {dtype} holds; "
                        "pass dtype='float64' (or rescale the data).")
        Xt = check_X(X, dtype=dtype, device=self.device)
        yt = check_y(y, n_rows=Xt.shape[0], dtype=dtype, device=self.device)
        if not self.standardize:
            return Xt, yt
        Xt = Xt.sub_(center.to(Xt)) if _owns(Xt, X) else Xt - center.to(Xt)
        yt = yt.sub_(y_center.to(yt)) if _owns(yt, y) else yt - y_center.to(yt)
        return Xt.div_(scale.to(Xt)), yt.div_(y_scale.to(yt))

    _not_fitted: type = NotFittedError  # (GDRegressor's is also scikit-learn's)

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise self._not_fitted("this GDRegressor is not fitted yet; call fit(X, y) first.")

    def predict(self, X: Any) -> np.ndarray:
        """Predictions (n, n_targets) in float64, or (n,) when ``y`` was 1-D at fit."""
        return self._predict(X, "predicting")

    def _predict(self, X: Any, task: str) -> np.ndarray:
        self._check_fitted()
        names = getattr(self, "feature_names_in_", None)
        given = column_names(X) if hasattr(X, "columns") else None
        if names is not None and given is not None and list(given) != list(names):
            raise ValueError(
                f"X has columns {given}, but the model was fitted with {list(names)}; "
                "pass the same columns in the same order."
            )
        Xt = check_X(X, n_features=self.n_features_in_, dtype=torch.float64, task=task).cpu().numpy()
        coef = np.atleast_2d(self.coef_)
        pred = Xt @ coef.T + np.atleast_1d(self.intercept_)
        return pred[:, 0] if self._y_1d else pred

    def optimality_gap(self, X: Any, y: Any) -> float:
        """Loss of ``coef_``, ``intercept_`` on ``(X, y)`` minus the least-squares loss (float64)."""
        self._check_fitted()
        return optimality_gap(np.atleast_2d(self.coef_), np.atleast_1d(self.intercept_), X, y)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of the predictions, averaged over targets (as scikit-learn's ``score``; weighted with
        ``sample_weight``)."""
        pred = self._predict(X, "scoring")
        pred = pred.reshape(pred.shape[0], -1)
        y = check_y(y, n_rows=pred.shape[0], n_outputs=pred.shape[1], dtype=torch.float64,
                    task="scoring").cpu().numpy()
        weights = as_weight(sample_weight, y.shape[0])
        w = np.ones(y.shape[0]) if weights is None else weights.numpy()
        mean = (w @ y) / w.sum()
        ss_res = w @ ((y - pred) ** 2)
        ss_tot = w @ ((y - mean) ** 2)
        return float(r_squared(ss_res, ss_tot).mean())


def _with_sklearn_bases() -> type:
    """GDRegressor: :class:`Regressor` with scikit-learn's bases when scikit-learn is installed."""
    members: dict = {"__module__": __name__, "__qualname__": "GDRegressor", "__doc__": Regressor.__doc__}
    try:  # scikit-learn is optional; with it, GDRegressor works in pipelines, clone and cross-validation
        from sklearn.base import BaseEstimator, RegressorMixin
        from sklearn.exceptions import NotFittedError as SklearnNotFittedError

        bases: tuple = (Regressor, RegressorMixin, BaseEstimator)  # Regressor first: its get_params, score, repr

        def __sklearn_tags__(self):
            tags = RegressorMixin.__sklearn_tags__(self)  # (its own, then BaseEstimator's, by the bases' order)
            tags.target_tags.multi_output = True  # (a 2-D y fits one model per column, as lm()'s cbind())
            tags.target_tags.single_output = True
            return tags

        members["__sklearn_tags__"] = __sklearn_tags__
        members["_not_fitted"] = type("NotFittedError", (NotFittedError, SklearnNotFittedError),
                                      {"__module__": __name__})
    except ImportError:  # pragma: no cover - exercised only without scikit-learn
        bases = (Regressor,)
    return type("GDRegressor", bases, members)


if TYPE_CHECKING:
    GDRegressor = Regressor
else:
    def __getattr__(name: str) -> Any:
        # GDRegressor is made on first use, so that importing gradlm does not import scikit-learn.
        if name == "GDRegressor":
            cls = globals()["GDRegressor"] = _with_sklearn_bases()
            return cls
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
