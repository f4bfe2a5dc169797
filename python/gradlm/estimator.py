"""``GDRegressor``: the scikit-learn-style front end to :func:`gradlm.fit`."""

from __future__ import annotations

import inspect
import math
import numbers
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import torch

from . import distributed
from .analytic import SufficientStatistics
from .design import as_weight, scaled_condition_number
from .exceptions import NotFittedError
from .fit import fit
from .inference import Inference
from .interrupts import imported_whole
from .lstsq import optimality_gap, solve
from .model import LinearModel
from .penalty import Penalty, exact_solution
from .plan import bias_at_optimum, uses_moments
from .report import FitReport, default_tol, r_squared
from .schedules import INVSCALING_POWER
from .stability import Curvature
from .streaming import Stream
from .validation import as_dtype, check_device, check_int, check_X, check_X_y_view, check_y, column_names

if TYPE_CHECKING:
    from .history import History



# partial_fit's batch size when batch_size is None (full batch would be one step per call)
PARTIAL_BATCH_SIZE = 32
# patience's default with validation_fraction (scikit-learn's n_iter_no_change, brulee's stop_iter: 10, 5)
VALIDATION_PATIENCE = 10


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
    alpha : float, default 0
        The elastic-net penalty's strength on the weights (never the
        intercept): each target minimises
        ``1/(2n) ||y - X w - b||^2 + alpha (l1_ratio ||s w||_1 + (1 - l1_ratio) / 2 ||s w||^2)``,
        as scikit-learn's ``ElasticNet``; ``s`` is the features' standard
        deviations when ``standardize`` (the penalty is on standardized
        predictors, as glmnet's ``standardize = TRUE``), else 1 (exactly
        ``ElasticNet``'s objective). ``Ridge(alpha=a)`` is ``alpha = a / n``
        here, and glmnet's ``lambda`` is ``alpha`` for the L1 part but
        ``alpha * sd(y)`` for the ridge part (see :mod:`gradlm.penalty`).
        0 (the default) is least squares. Trains full batch on the moments
        (proximal steps for the L1 part) and is certified against the exact
        penalized optimum. A number, or one per target.
    l1_ratio : float in [0, 1], default 0
        The L1 part's share: 0 ridge, 1 the lasso, between them the elastic net.
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
    history : {"loss", "full"}, default "loss"
        What ``history_`` keeps: the loss per epoch, or also the parameters
        of every epoch (``"full"``, as :func:`gradlm.fit` does by default:
        ``epochs x n_targets x n_features`` numbers, 400 MB for 500 features
        and 100,000 epochs).
    warm_start : bool, default False
        A new ``fit`` starts from the coefficients of the last one (when the
        features and targets match), as scikit-learn's ``warm_start``. The
        optimizer's momentum starts afresh: with ``epochs`` far below what the
        fit needs, a heavy-ball run can end a call further from the optimum
        than it began (a ConvergenceWarning says so); leave ``epochs="auto"``,
        or set ``momentum=0``, for fits that continue a few epochs at a time.
    lr_schedule : {"constant", "step", "cosine", "invscaling"} or callable, default "constant"
        The learning rate's schedule, stepped once an epoch (see
        :func:`gradlm.fit`; ``"invscaling"`` is scikit-learn's ``lr / t ** 0.25``
        with ``t`` in epochs, where ``SGDRegressor`` counts samples). It
        scales the ``lr`` given or chosen; a decaying one slows the
        certified convergence of full-batch training, whose automatic budget
        is the constant step's: it serves mini-batches, whose noise it damps.
        ``partial_fit`` has no last epoch: there ``"invscaling"`` decays across
        the calls (call ``t`` at ``lr / t ** 0.25``, as scikit-learn's
        ``SGDRegressor.partial_fit`` decays across its updates), ``"step"``
        and ``"cosine"`` are refused, and a callable restarts each call.
    validation_fraction : float in (0, 1), optional
        Hold out this share of the rows (at least 2 each side; a random split
        seeded by ``seed``), train on the rest, record the loss on the held-out
        rows each epoch (``history_.val_loss``, on the standardized scale when
        ``standardize``) and stop early on it: ``patience`` defaults to 10
        epochs here (as scikit-learn's ``n_iter_no_change``; brulee's
        ``validation`` and ``stop_iter``), and the model goes back to the
        epoch of least validation loss. The standardization, the moments, the
        certified verdict, ``lstsq_``, ``report_`` and ``inference_`` are then
        those of the training rows. In-memory data only, without
        ``sample_weight`` (its loss is unweighted) or ``validation=``; not in
        ``partial_fit``.

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
        alpha: Any = 0.0,
        l1_ratio: Any = 0.0,
        warm_start: bool = False,
        history: str = "loss",
        lr_schedule: Any = "constant",
        validation_fraction: Optional[float] = None,
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
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.warm_start = warm_start
        self.history = history
        self.lr_schedule = lr_schedule
        self.validation_fraction = validation_fraction

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

    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> "GDRegressor":
        """One pass of mini-batches over ``(X, y)`` (or a Stream), from the current coefficients.

        For data that come in chunks: each call trains one epoch on the chunk
        it is given (``batch_size``, or 32 when None; the step from ``lr``, or
        from the chunk's curvature), starting where the last call (or
        ``fit``) ended. The moments of every chunk seen are merged (O(d^2)
        memory): they give the standardization, and ``report_``,
        ``lstsq_`` and ``inference_`` are those of all the data seen so far,
        so that ``converged_`` says when the coefficients are certified
        within the dtype's tolerance of least squares on them. A chunk passed
        again (the same rows in the same order, as in several epochs over
        fixed chunks, or ``fit`` then ``partial_fit`` on the same data) is
        counted once; the same rows cut into other chunks would count again.
        Unweighted, with an intercept. ``history_`` is the last call's.

        >>> import gradlm
        >>> X, y = gradlm.datasets.make_regression(n=2000, d=3, seed=0)
        >>> est = gradlm.GDRegressor(seed=0)
        >>> for start in range(0, 2000, 500):
        ...     est = est.partial_fit(X[start : start + 500], y[start : start + 500])
        >>> est.lstsq_.weight.shape, est.n_features_in_
        ((1, 3), 3)
        """
        if sample_weight is not None:
            raise ValueError("partial_fit takes no sample_weight: its mini-batches are unweighted. Pass the "
                             "weights to fit(), which trains on the weighted moments.")
        return self._fit(X, y, partial=True)

    def fit(self, X: Any, y: Any, sample_weight: Any = None, validation: Optional[tuple] = None,
            statistics: Optional[SufficientStatistics] = None, rss: Any = None) -> "GDRegressor":
        """Fit the model; ``validation=(X_val, y_val)`` is passed on to :func:`gradlm.fit`.

        ``X`` is 2-D (rows, features) and ``y`` is required, as in scikit-learn
        (:func:`gradlm.fit` takes a 1-D ``X`` as one feature; this refuses it),
        unless ``X`` is a :class:`~gradlm.Stream`, which holds the targets.
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
        return self._fit(X, y, sample_weight, validation, statistics, rss)

    def _fit(self, X: Any, y: Any, sample_weight: Any = None, validation: Optional[tuple] = None,
             statistics: Optional[SufficientStatistics] = None, rss: Any = None, partial: bool = False
             ) -> "GDRegressor":
        """``fit``, or (``partial``) ``partial_fit``'s one epoch of mini-batches from the current coefficients."""
        # checked before anything uses it (torch's own messages would follow otherwise)
        # (as an int: R's numbers arrive as floats, which torch's generators refuse)
        seed = check_int(self.seed, "seed", minimum=0, maximum=2**63 - 1, allow_none=True)
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise TypeError(f"warm_start must be True or False; got {self.warm_start!r}.")
        check_device(self.device)
        source = X if isinstance(X, Stream) else None
        if source is not None:
            if y is not None:
                raise ValueError("with a Stream as X, pass y=None: the stream holds the targets.")
            if sample_weight is not None:
                raise ValueError("with a Stream as X, name its weight column instead: stream(..., weight='w').")
            if self.validation_fraction is not None:
                raise ValueError("validation_fraction holds out rows of in-memory data; with a Stream as X, pass "
                                 "validation=(X_val, y_val) instead.")
            names, target_names, y_1d = source.feature_names, source.target_names, False
            # this process's part, for the moments; fit() shards the stream it is given itself
            shard = source.shard(*distributed.setup(self.device)) if self.distributed else source
            n, data_dtype = source.n, torch.float64
        else:
            if y is None:  # (in scikit-learn's words, which its checks look for)
                raise ValueError("GDRegressor requires y to be passed, but the target y is None; pass the targets "
                                 "(one row per row of X), or X as a gradlm Stream that holds them.")
            from .validation import ndim  # (np.ndim(y) would call NumPy functions on y, which some array-likes refuse)

            names = column_names(X) if hasattr(X, "columns") else None
            target_names = column_names(y)
            y_1d = ndim(y) == 1
            # read in place; converted below only if training needs the rows
            X, y = check_X_y_view(X, y, estimator="GDRegressor")
            X, y, validation = self._split_validation(X, y, validation, sample_weight, statistics, rss, partial, seed)
            n, data_dtype = X.shape[0], X.dtype
        weights = None if source is not None else as_weight(sample_weight, n)
        # An estimator has no tutorial digits to reproduce: full batch runs on the moments unless fast=False.
        # (Moments passed in only spare a pass: they decide nothing, so R and Python train alike.)
        batch_size = self.batch_size if not partial or self.batch_size is not None else PARTIAL_BATCH_SIZE
        on_moments = uses_moments(batch_size=batch_size, fast=True if self.fast is None else self.fast, n=n,
                                  lr=self.lr, streamed=source is not None, distributed=self.distributed)
        weighted = weights is not None or (source is not None and source.weight_name is not None)
        if not on_moments and (weighted or not self.fit_intercept):
            raise ValueError(
                f"a fit with {'sample_weight' if weighted else 'fit_intercept=False'} trains full batch on the "
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
        seen = stats  # the moments of all the data seen: this fit's, or every partial_fit chunk's
        fingerprint = stats.fingerprint() if stats is not None else None  # (which chunks partial_fit has seen)
        if partial:
            expected = getattr(self, "n_features_in_", n_features)
            if n_features != expected:
                raise ValueError(f"X has {n_features} features, but GDRegressor is expecting {expected} features as "
                                 "input (as in the earlier calls); pass the same columns.")
            earlier = getattr(self, "_seen", None)
            if stats is not None and earlier is not None and earlier.C.shape == stats.C.shape:
                # A chunk seen before (several epochs over the same chunks) is the same rows again: counted once,
                # or the inference would take each pass for new observations (5 epochs: standard errors /sqrt(5)).
                chunks_seen: set = getattr(self, "_chunks_seen", set())
                seen = earlier if fingerprint in chunks_seen else earlier.merge(stats)
        center, scale, y_center, y_scale = self._standardization(seen, n_features, n_targets)
        # The penalty on the original scale (on standardized predictors when standardize), and as trained.
        penalty = Penalty.of(self.alpha, self.l1_ratio, n_targets)
        trained_penalty = None
        if penalty is not None:
            if self.standardize:
                # (about the columns' means, as glmnet, also without intercept, where training scales by the
                # root mean square)
                assert stats is not None
                sd = stats.centered_std.cpu()
                penalty = Penalty(penalty.l1, penalty.l2, scale=torch.where(sd > 0, sd, torch.ones_like(sd)))
            trained_penalty = penalty.rescaled(scale, y_scale, penalty.scale)
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
            if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                raise TypeError("validation must be a pair (X_val, y_val); to hold out a share of the rows, use "
                                f"validation_fraction={validation!r} instead." if isinstance(validation, numbers.Real)
                                else "validation must be a pair (X_val, y_val).")
            X_val, y_val = validation
            X_val = check_X(X_val, n_features=n_features, dtype=torch.float64, device=self.device)
            y_val = check_y(y_val, n_rows=X_val.shape[0], n_outputs=n_targets, dtype=torch.float64,
                            device=self.device)
            validation = (((X_val - center.to(X_val.device)) / scale.to(X_val.device)).to(dtype),
                          ((y_val - y_center.to(y_val.device)) / y_scale.to(y_val.device)).to(dtype))

        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            model = LinearModel(n_features, n_targets, init=self.init, dtype=dtype, device=self.device)
            if not self.fit_intercept:  # the bias starts at 0, and its gradient on the moments about 0 is 0
                with torch.no_grad():
                    model.bias.zero_()
        start = self._warm_start(n_features, n_targets, partial)
        if start is not None:  # the last fit's coefficients, on this fit's (standardized) scale
            coef0, intercept0 = start
            with torch.no_grad():
                model.weight.copy_(torch.from_numpy(coef0 * scale.numpy()[None, :] / y_scale.numpy()[:, None]))
                model.bias.copy_(torch.from_numpy((intercept0 + coef0 @ center.numpy() - y_center.numpy())
                                                  / y_scale.numpy()))
        tol = self.tol
        if trained_stats is not None:
            decoupled = False
            if trained_penalty is not None and on_moments and trained_stats.centered \
                    and bool((trained_stats.mx == 0).all()):
                # Standardized: the bias's optimum is the (standardized) mean of y whatever the weights. Started
                # there, it never moves, and the steps are sized to the weights alone (see Curvature).
                with torch.no_grad():
                    model.bias.copy_(trained_stats.my)
                decoupled = bias_at_optimum(model, trained_stats)
            curvature = (Curvature.of(trained_stats) if trained_penalty is None
                         else Curvature(trained_stats, penalty=trained_penalty, bias_decoupled=decoupled))
            if tol == "auto":  # the estimator always certifies (fit() does only where lr or epochs is automatic)
                tol = default_tol(dtype, curvature.condition_number, scaled_condition_number(trained_stats))
            if curvature.null_space is not None:
                # Collinear predictors: no data decide the start's part along the Hessian's null space, and
                # gradient steps never move it. Without it, training ends at the solution of least norm on the
                # standardized scale, whatever the seed.
                _project_out(model, curvature.null_space)
        history = fit(
            model,
            *data,
            epochs=1 if partial else self.epochs,
            lr=self.lr,
            batch_size=batch_size,
            shuffle=self.shuffle,
            optimizer=self.optimizer,
            momentum=self.momentum,
            nesterov=self.nesterov,
            weight_decay=self.weight_decay,
            # (partial_fit: another batch order each call, reproducibly)
            seed=seed if seed is None or not partial else seed + getattr(self, "_partial_calls", 0),
            validation=validation,
            tol=None if partial else tol,
            patience=(VALIDATION_PATIENCE if self.patience is None and self.validation_fraction is not None
                      else self.patience),
            progress=self.progress,
            fast=True if on_moments else self.fast,
            on_divergence=self.on_divergence,
            distributed=self.distributed,  # (moments given to fit count as merged already)
            statistics=trained_stats if (source is None and not on_moments) else None,
            alpha=0.0 if trained_penalty is None else trained_penalty,
            history=self.history,
            lr_schedule=self._partial_schedule() if partial else self.lr_schedule,
        )
        center, scale, y_center, y_scale = (t.cpu().numpy() for t in (center, scale, y_center, y_scale))

        def original(weight: Any, bias: Any) -> tuple:
            """Coefficients on the model's (standardized) scale, on the data's."""
            coef = np.asarray(weight, dtype=np.float64) * y_scale[:, None] / scale
            return coef, y_center + y_scale * np.asarray(bias, dtype=np.float64) - coef @ center

        coef, intercept = original(history.weight, history.bias)

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
        self._seen = seen
        if stats is not None:  # (fit() starts the record afresh; partial_fit adds to it)
            before: set = getattr(self, "_chunks_seen", set()) if partial else set()
            self._chunks_seen = before | {fingerprint}
        self._partial_calls = getattr(self, "_partial_calls", 0) + 1 if partial else 0
        if seen is not None:
            stats = seen
            in_memory = source is None and not self.distributed and not partial
            self.lstsq_, design, _ = solve(X if in_memory else None, y if in_memory else None, statistics=stats,
                                           sample_weight=weights)
            optimum: Any = self.lstsq_
            if penalty is not None:
                assert trained_penalty is not None
                solution = exact_solution(stats.standardized(*(torch.as_tensor(t) for t in (
                    center, scale, y_center, y_scale))) if self.standardize else stats, trained_penalty,
                    history.weight)
                optimum = None if solution is None else original(*(t.numpy() for t in solution))
            if partial:  # judged on all the data seen (training judged the chunk alone)
                curvature = Curvature.of(stats)
                self.report_ = FitReport.from_moments(
                    stats, coef, intercept, optimum, tol=None, certify_at=default_tol(dtype),
                    stop_reason=history.stop_reason, epochs_run=history.epochs_run,
                    condition_number=curvature.condition_number, lr=history.settings.get("lr"),
                    batch_size=batch_size, curvature=curvature, penalty=penalty)
            elif history.report is not None:
                self.report_ = history.report.on_scale_of(stats, coef, intercept, optimum, penalty)
            names = getattr(self, "feature_names_in_", None)
            # lm()'s inference is that of least squares: a penalized fit has none (as glmnet and ElasticNet)
            self.inference_ = None if penalty is not None else Inference(
                design, stats, coef, intercept, rss=rss(coef, intercept) if callable(rss) else rss,
                converged=self.report_ is not None and self.report_.converged,
                term_names=None if names is None else (["(Intercept)"] if self.fit_intercept else []) + list(names),
                rows=(lambda: (X, y, weights)) if in_memory else None)
        self.converged_ = bool(self.report_ is not None and self.report_.converged)
        return self

    def _partial_schedule(self) -> Any:
        """``lr_schedule`` for this ``partial_fit`` call, the ``t``-th: invscaling's rate at ``t``."""
        if self.lr_schedule == "invscaling":
            t = getattr(self, "_partial_calls", 0) + 1
            return lambda optimizer: torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: t ** -INVSCALING_POWER)
        if self.lr_schedule in ("step", "cosine"):
            raise ValueError(f"lr_schedule={self.lr_schedule!r} decays over a number of epochs, and partial_fit has no "
                             "last one: use lr_schedule='invscaling', which decays across the calls, or fit().")
        return self.lr_schedule

    def _warm_start(self, n_features: int, n_targets: int, partial: bool = False) -> Optional[tuple]:
        """``(coef (k, d), intercept (k,))`` of the last fit when ``warm_start`` (or for ``partial_fit``) and
        they fit these data, else None (a first fit; or other features or targets, which start afresh, as
        scikit-learn's)."""
        if not (self.warm_start or partial) or not hasattr(self, "coef_"):
            return None
        coef = np.atleast_2d(np.asarray(self.coef_, dtype=np.float64))
        if coef.shape != (n_targets, n_features):
            return None
        return coef, np.atleast_1d(np.asarray(self.intercept_, dtype=np.float64))

    def _split_validation(self, X: torch.Tensor, y: torch.Tensor, validation: Optional[tuple], sample_weight: Any,
                          statistics: Any, rss: Any, partial: bool, seed: Optional[int]) -> tuple:
        """``(X, y, validation)``: with ``validation_fraction``, the training rows and the held-out pair, split at
        random (seeded by ``seed``, each side in the data's order); else as given."""
        fraction = self.validation_fraction
        if fraction is None:
            return X, y, validation
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
            raise ValueError("validation_fraction must be a number between 0 and 1 (the share of rows held out for "
                             f"early stopping), or None; got {fraction!r}.")
        if partial:
            raise ValueError("validation_fraction applies to fit(); partial_fit trains one epoch on the rows it is "
                             "given: hold out rows yourself and score them, or set validation_fraction=None.")
        given = [name for name, value in (("validation", validation), ("sample_weight", sample_weight),
                                          ("statistics", statistics), ("rss", rss)) if value is not None]
        if given:  # (the validation loss is unweighted; moments and RSS given are of all the rows)
            raise ValueError(f"validation_fraction holds out rows itself; it does not go with {given[0]}=: pass "
                             f"{given[0]} without validation_fraction, or validation_fraction alone.")
        n = X.shape[0]
        held = math.ceil(fraction * n)  # (as scikit-learn's train_test_split rounds the test side)
        if held < 2 or n - held < 2:
            raise ValueError(f"validation_fraction={fraction} of {n} rows leaves {n - held} for training and {held} "
                             "for validation; each needs at least 2: pass more rows, or another fraction.")
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        order = torch.randperm(n, generator=generator)
        rows = [part.sort().values.to(X.device) for part in (order[held:], order[:held])]
        return (X.index_select(0, rows[0]), y.index_select(0, rows[0]),
                (X.index_select(0, rows[1]), y.index_select(0, rows[1])))

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
            if Penalty.of(self.alpha, self.l1_ratio, 1 if self._y_1d else len(np.atleast_1d(self.intercept_))):
                raise ValueError("a penalized fit (alpha > 0) has no lm() inference: its coefficients are biased "
                                 "on purpose, and lm()'s standard errors, t and p values do not hold for them. "
                                 "Fit with alpha=0 for them.")
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
        Xt = check_X(X, n_features=self.n_features_in_, dtype=torch.float64, task=task,
                     estimator="GDRegressor").cpu().numpy()
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
            cls = globals()["GDRegressor"] = imported_whole(_with_sklearn_bases)
            return cls
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
