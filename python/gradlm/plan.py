"""Every decision of a training run, made once: data source, gradient engine, step size, budget, stopping.

``fit()``, ``GDRegressor``, the CLI and the R bridge all train through
:func:`make_plan`; none of them decides again. What it settles:

- **data**: arrays in memory, a :class:`~gradlm.streaming.Stream` from disk,
  or the data's moments (:class:`~gradlm.analytic.SufficientStatistics`),
  merged across processes when distributed;
- **engine**: ``"autograd"``, ``"analytic"`` (closed-form gradients per
  mini-batch) or ``"sufficient statistics"`` (full batch, O(d^2) an epoch);
- **step**: ``lr`` and ``momentum`` as given, or chosen from the Hessian's
  eigenvalues (``"auto"``; see :mod:`gradlm.stability`), and the name of
  its schedule (``lr_schedule``, checked here; ``fit`` builds the scheduler);
- **budget**: ``epochs`` as given, or (``"auto"``) about twice what the chosen
  step needs to reach the tolerance;
- **stopping**: the certified tolerance (see :mod:`gradlm.report`), whether
  running out of epochs warns, and how far the divergence guard may trust
  theory (a full-batch SGD run inside its stable bound converges, however its
  loss rises on the way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional, cast

import numpy as np
import torch

from .analytic import SufficientStatistics
from .design import as_weight, scaled_condition_number
from .distributed import all_reduce_sum, merge_statistics, setup
from .lstsq import lstsq
from .model import LinearModel
from .penalty import PatternCache, Penalty, exact_solution
from .report import CoefficientDistance, SolvedDistance, coefficient_units, default_tol
from .schedules import check_schedule
from .stability import Curvature
from .streaming import Stream
from .validation import check_choice, check_float, check_int, check_X_y

OPTIMIZERS = ("sgd", "adam")
UPDATES = ("optimizer", "manual")
DIVERGENCE_RULES = ("raise", "warn", "ignore")
# Below this many rows, fit() with a given lr runs autograd: it reproduces
# torch's own float32 loop (and the tutorials' printed digits) bit for bit.
FAST_MIN_ROWS = 10_000
AUTO = "auto"
# The automatic epoch budget: at least this many, at most MAX_AUTO_EPOCHS
# (an epoch on the moments costs O(d^2): a large budget stays cheap).
MIN_AUTO_EPOCHS = 100
MAX_AUTO_EPOCHS = 100_000
MINI_BATCH_AUTO_EPOCHS = 100


def is_linear_model(model: Any) -> bool:
    """The closed-form gradients hold for LinearModel's own forward, not for a subclass's."""
    return isinstance(model, LinearModel) and type(model).forward is LinearModel.forward


def uses_moments(*, batch_size: Optional[int], fast: Optional[bool], n: Optional[int], lr: Any,
                 statistics_given: bool = False, streamed: bool = False, distributed: bool = False) -> bool:
    """Whether full-batch training runs on the data's moments (the rule ``fit`` and ``GDRegressor`` share)."""
    if batch_size is not None or fast is False:
        return False
    return bool(fast or statistics_given or streamed or distributed or lr == AUTO or (n or 0) >= FAST_MIN_ROWS)


def _auto_or_float(value: Any, name: str, **kwargs: Any) -> Any:
    if isinstance(value, str):
        if value != AUTO:
            raise ValueError(f"{name} must be a number or 'auto'; got {value!r}.")
        return AUTO
    return check_float(value, name, **kwargs)


def _auto_or_int(value: Any, name: str) -> Any:
    if isinstance(value, str):
        if value != AUTO:
            raise ValueError(f"{name} must be a whole number or 'auto'; got {value!r}.")
        return AUTO
    return check_int(value, name)


@dataclass
class Plan:
    """The settled run (see the module's docstring)."""

    engine: str
    lr: Optional[float]
    momentum: float
    epochs: int
    tol: Optional[float]
    warn_unconverged: bool
    on_divergence: str
    stable: Optional[bool]  # full-batch SGD inside (True) or beyond (False) its stable bound; None: unknown
    n: int
    X: Any = None
    y: Any = None
    source: Optional[Stream] = None
    rank: int = 0
    world: int = 1
    settings: dict = field(default_factory=dict)
    _stats: Optional[SufficientStatistics] = None
    _curvature: Optional[Curvature] = None
    _optimum: Any = None
    _merge: bool = False
    sample_weight: Optional[torch.Tensor] = None
    penalty: Optional[Penalty] = None
    _solutions: Optional[PatternCache] = None
    bias_decoupled: bool = False  # (see Curvature: centred X, full batch, the bias at its optimum)

    @property
    def statistics(self) -> Optional[SufficientStatistics]:
        """The training data's moments (taken on first use; merged over processes when distributed).

        None for data on disk trained by mini-batches, whose moments would cost another pass.
        """
        if self._stats is None:
            if self.source is not None:
                return None
            local = SufficientStatistics(torch.as_tensor(self.X), torch.as_tensor(self.y))
            self._stats = merge_statistics(local) if self._merge else local
        return self._stats

    @property
    def cheap_statistics(self) -> Optional[SufficientStatistics]:
        """The moments if already taken, or if taking them costs little (in-memory data below FAST_MIN_ROWS rows)."""
        if self._stats is not None or (self.source is None and self.n < FAST_MIN_ROWS):
            return self.statistics
        return None

    def ensure_statistics(self) -> Optional[SufficientStatistics]:
        """The moments, taking them from disk (one pass) when the data are streamed."""
        if self._stats is None and self.source is not None:
            local = (self.source.statistics(allow_empty="processes" in self.settings) if self.source.units
                     else None)
            self._stats = merge_statistics(local) if "processes" in self.settings else local
        return self.statistics

    @property
    def curvature(self) -> Optional[Curvature]:
        if self._curvature is None and self.statistics is not None:
            self._curvature = (Curvature.of(self.statistics) if self.penalty is None
                               else Curvature(self.statistics, penalty=self.penalty,
                                              bias_decoupled=self.bias_decoupled))
        return self._curvature

    @property
    def optimum(self) -> Any:
        """The least-squares ``(weight, bias)`` of the training data (float64 NumPy; from :func:`gradlm.lstsq`),
        or with a ridge penalty its exact solution (:func:`gradlm.penalty.exact_solution`). With an L1 part
        it is known only from an iterate: see :meth:`optimum_for`."""
        if self.penalty is not None:
            if self.penalty.has_l1 or self.statistics is None:
                return None
            if self._optimum is None:
                solution = exact_solution(self.statistics, self.penalty)
                assert solution is not None  # (ridge: always solved)
                self._optimum = tuple(t.numpy() for t in solution)
            return self._optimum
        if self._optimum is None and self.statistics is not None:
            in_memory = (self.X is not None and self.source is None and not isinstance(self.X, SufficientStatistics)
                         and not self._merge)
            self._optimum = tuple(lstsq(self.X if in_memory else None, self.y if in_memory else None,
                                        statistics=self.statistics, sample_weight=self.sample_weight))
        return self._optimum

    def optimum_for(self, weight: Any) -> Any:
        """The optimum that certifies ``weight``: :attr:`optimum`, or with an L1 penalty the one the signs of
        ``weight`` imply, when the KKT conditions certify it (else None)."""
        if self.penalty is None or not self.penalty.has_l1:
            return self.optimum
        if self._solutions is None:
            if self.statistics is None:
                return None
            self._solutions = PatternCache(self.statistics, self.penalty)
        return self._solutions(weight)

    def distance(self, device: Any = None) -> Any:
        """The certified distance to the optimum (see :class:`gradlm.report.CoefficientDistance`)."""
        if self.statistics is None:
            return None
        if self.penalty is not None and self.penalty.has_l1:
            return SolvedDistance(self.statistics, self.optimum_for, self.curvature, device)
        return CoefficientDistance(self.statistics, self.optimum, self.curvature, device)

    @property
    def units(self) -> Optional[tuple]:
        return None if self.statistics is None else coefficient_units(self.statistics)

    @property
    def condition_number(self) -> float:
        return math.nan if self.curvature is None else self.curvature.condition_number

    def default_tol(self, dtype: torch.dtype) -> float:
        """``tol="auto"``'s tolerance for these data (see :func:`gradlm.report.default_tol`)."""
        # (the moments the curvature came from: taken already)
        exact = None if self.curvature is None or self._stats is None else scaled_condition_number(self._stats)
        return default_tol(dtype, self.condition_number, exact)

    def certify_at(self, dtype: torch.dtype) -> Optional[float]:
        """The tolerance ``converged`` is judged by: ``tol``, or the dtype's default."""
        if self.tol is not None:
            return self.tol
        return None if self.curvature is None else self.default_tol(dtype)


def bias_at_optimum(model: Any, stats: Optional[SufficientStatistics]) -> bool:
    """Whether the bias is decoupled from the weights and at its optimum: centred X of mean 0 (standardized
    data) and the bias at the responses' mean. Its gradient is then 0 at every full-batch step."""
    if stats is None or not stats.centered or not bool((stats.mx == 0).all()):
        return False
    return bool(torch.equal(model.bias.detach().to(stats.my), stats.my))


def make_plan(model: Any, X: Any, y: Any, *, epochs: Any, lr: Any, batch_size: Any, shuffle: bool,
              optimizer: Any, momentum: Any, nesterov: bool, weight_decay: Any, update: str, seed: Any,
              tol: Any, patience: Any, fast: Optional[bool], on_divergence: str, distributed: bool,
              statistics: Optional[SufficientStatistics] = None, sample_weight: Any = None, alpha: Any = 0.0,
              l1_ratio: Any = 0.0, lr_schedule: Any = "constant") -> Plan:
    """Check ``fit``'s arguments together and settle the run (see the module's docstring)."""
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "weight") or not hasattr(model, "bias"):
        raise TypeError(f"model must be a gradlm.LinearModel; got {type(model).__name__}.")
    update = check_choice(update, "update", UPDATES)
    if not (isinstance(shuffle, (bool, np.bool_)) or shuffle == "batches"):
        raise ValueError(f"shuffle must be True (DataLoader's order), False, or 'batches' (contiguous batches in a "
                         f"random order: cheaper); got {shuffle!r}.")
    on_divergence = check_choice(on_divergence, "on_divergence", DIVERGENCE_RULES)
    lr = _auto_or_float(lr, "lr", positive=True, allow_none=True)
    momentum = _auto_or_float(momentum, "momentum", nonnegative=True)
    epochs = _auto_or_int(epochs, "epochs")
    tol = _auto_or_float(tol, "tol", nonnegative=True, allow_none=True)
    weight_decay = check_float(weight_decay, "weight_decay", nonnegative=True)
    batch_size = check_int(batch_size, "batch_size", allow_none=True)
    seed = check_int(seed, "seed", minimum=0, maximum=2**63 - 1, allow_none=True)
    check_int(patience, "patience", allow_none=True)
    if momentum != AUTO and momentum >= 1:
        raise ValueError(f"momentum must be below 1 (it is the fraction of the last step kept); got {momentum}.")
    instance = isinstance(optimizer, torch.optim.Optimizer)
    if instance:
        if lr not in (None, AUTO):
            raise ValueError("lr was given together with an optimizer instance, which has its own lr; "
                             "leave lr unset (or pass optimizer='sgd').")
        lr = None
    else:
        optimizer = check_choice(optimizer, "optimizer", OPTIMIZERS)
        if lr is None:
            raise ValueError("lr must be a number or 'auto' (the default: chosen from the data's curvature).")
    if update == "manual" and (instance or optimizer != "sgd" or momentum not in (0, AUTO) or nesterov
                               or weight_decay):
        raise ValueError("update='manual' is plain SGD; leave optimizer='sgd' and momentum, nesterov, "
                         "weight_decay unset.")
    if not instance and optimizer == "adam" and (momentum not in (0, AUTO) or nesterov):
        raise ValueError("momentum and nesterov apply to optimizer='sgd' only; unset them for 'adam'.")
    if nesterov and momentum in (0, AUTO):
        raise ValueError("nesterov=True needs momentum > 0; set momentum=0.9, say.")
    schedule = check_schedule(lr_schedule)
    if schedule != "constant" and update == "manual":
        raise ValueError("lr_schedule changes the torch optimizer's learning rate; update='manual' has no optimizer "
                         "(its lr is fixed): leave lr_schedule='constant', or leave update unset.")

    weight = cast(torch.Tensor, model.weight)  # (torch types a Module's attributes as Tensor | Module)
    like = {"dtype": weight.dtype, "device": weight.device}
    n_out, n_in = weight.shape
    penalty = alpha if isinstance(alpha, Penalty) else Penalty.of(alpha, l1_ratio, n_out)
    if penalty is not None:
        if penalty.k != n_out:
            raise ValueError(f"the penalty is of {penalty.k} output(s); the model has {n_out}.")
        if update == "manual":
            raise ValueError("update='manual' is the tutorials' plain step, without a penalty; leave update unset "
                             "for alpha > 0.")
        if weight_decay:
            raise ValueError("weight_decay (torch's, on every parameter, the bias too) and alpha (the elastic net, "
                             "the bias unpenalised) are two penalties; give the ridge part as alpha with "
                             "l1_ratio=0, and leave weight_decay 0.")
        if penalty.has_l1 and (instance or optimizer != "sgd"):
            raise ValueError("an L1 penalty (l1_ratio > 0) takes proximal gradient steps: leave optimizer='sgd' "
                             "(the default).")
    linear = is_linear_model(model) and update == "optimizer"
    stats = X if isinstance(X, SufficientStatistics) else None
    source = X if isinstance(X, Stream) else None
    rank, world = setup(weight.device) if distributed else (0, 1)
    if distributed and (not linear or fast is False):
        raise ValueError("distributed=True uses the closed-form gradients: pass a gradlm.LinearModel, "
                         "update='optimizer', and leave fast unset.")
    merge = False
    if source is not None:
        if y is not None:
            raise ValueError("with a Stream as X, pass y=None: the stream holds the targets.")
        if source.n_features != n_in or source.n_outputs != n_out:
            raise ValueError(f"the stream has {source.n_features} feature(s) and {source.n_outputs} output(s); "
                             f"the model is gradlm.LinearModel({n_in}, {n_out}).")
        if source.weight_name is not None and batch_size is not None:
            raise ValueError(f"the stream's weight column {source.weight_name!r} trains full batch on the weighted "
                             "moments: leave batch_size unset (mini-batches do not support weights yet).")
        if distributed:
            source = source.shard(rank, world)
        if batch_size is None:
            if not linear or fast is False:
                raise ValueError("a Stream trains full batch on its sufficient statistics: pass a "
                                 "gradlm.LinearModel, update='optimizer', and leave fast unset (or give batch_size "
                                 "for mini-batches).")
            local = source.statistics(allow_empty=distributed) if source.units else None
            stats = merge_statistics(local) if distributed else local
            if stats is None:
                raise ValueError(f"{source.description} has 0 rows; pass data with at least one row.")
            n = stats.rows
        else:
            n = source.n
    elif stats is not None:
        if y is not None or batch_size is not None or update != "optimizer" or fast is False:
            raise ValueError("SufficientStatistics in place of X train full batch with the closed-form gradients: "
                             "pass y=None and leave batch_size, update and fast unset.")
        if not is_linear_model(model) or stats.G.shape[0] != n_in or stats.C.shape[1] != n_out:
            raise ValueError(f"the statistics are of {stats.G.shape[0]} feature(s) and {stats.C.shape[1]} "
                             f"output(s); the model needs a gradlm.LinearModel({n_in}, {n_out}) with its own "
                             "forward.")
        n = stats.rows
    else:
        X, y = check_X_y(X, y, n_features=n_in, n_outputs=n_out, **like)
        n = X.shape[0]
        merge = distributed
        if statistics is not None:  # the moments of these arrays, taken already (merged, when distributed)
            if (not distributed and statistics.rows != n) or statistics.G.shape[0] != n_in:
                raise ValueError(f"statistics are of {statistics.rows} rows and {statistics.G.shape[0]} feature(s); "
                                 f"X has {n} and {n_in}: pass the moments of these X and y.")
            stats, merge = statistics, False
        elif distributed and batch_size is None:
            stats = merge_statistics(SufficientStatistics(X, y))
            n = stats.rows

    weights = None
    if sample_weight is not None:
        if X is None or stats is not None or source is not None or statistics is not None:
            raise ValueError("sample_weight goes with in-memory X and y (moments and streams carry no weights); "
                             "take weighted moments with SufficientStatistics(X, y, sample_weight=w) instead.")
        if not linear or batch_size is not None or fast is False or distributed:
            raise ValueError("sample_weight trains full batch on the data's moments: pass a gradlm.LinearModel, "
                             "leave batch_size, update and fast unset, without distributed=True.")
        weights = as_weight(sample_weight, n)
        stats = SufficientStatistics(X, y, sample_weight=weights)
    on_moments = linear and uses_moments(batch_size=batch_size, fast=fast, n=n, lr=lr,
                                         statistics_given=stats is not None and statistics is None
                                         or weights is not None,
                                         streamed=source is not None,
                                         distributed=distributed)
    if on_moments:
        engine = "sufficient statistics"
    elif linear and batch_size is not None and (
            fast or distributed or (fast is None and (lr == AUTO or n >= FAST_MIN_ROWS))):
        engine = "analytic"
    else:
        engine = "autograd"
    if engine == "sufficient statistics" and stats is None:
        stats = SufficientStatistics(X, y)
    if stats is not None:
        stats = stats.to(weight.device)  # (moments merged or streamed are taken on the CPU)

    plan = Plan(engine=engine, lr=None, momentum=0.0, epochs=0, tol=None, warn_unconverged=False,
                on_divergence=on_divergence, stable=None, n=n, X=X, y=y, source=source, rank=rank, world=world,
                _stats=stats, _merge=merge, sample_weight=weights, penalty=penalty,
                bias_decoupled=bias_at_optimum(model, stats) if batch_size is None else False)
    name = "manual" if update == "manual" else (type(optimizer).__name__ if instance else optimizer)
    full_batch = batch_size is None
    # An L1 penalty, full batch on the moments: accelerated proximal gradient (FISTA with adaptive restart),
    # whose momentum is its own.
    fista = (penalty is not None and penalty.has_l1 and engine == "sufficient statistics" and momentum == AUTO
             and not nesterov)
    if fista:
        name, momentum = "fista", 0.0
    plain_sgd = name in ("sgd", "manual") and not nesterov and not weight_decay
    lr_auto = lr == AUTO
    if distributed:
        plan.settings["processes"] = world
    if weights is not None:
        plan.settings["weighted"] = True  # (so that History.inference asks for the weights again)
    if lr_auto or tol not in (None, AUTO):
        plan.ensure_statistics()  # mini-batches from disk: the moments take one pass first
    if lr_auto:
        curvature = plan.curvature
        assert curvature is not None  # (ensure_statistics took the moments)
        if fista:
            lr = 1.0 / curvature.largest
        elif name == "adam":
            units = plan.units
            assert units is not None
            lr, momentum = 0.01 * float(units[0].max() if units[0].numel() else 1.0), 0.0
        elif not full_batch:
            lr, momentum = curvature.mini_batch_lr(batch_size), (0.0 if momentum == AUTO else momentum)
        elif momentum == AUTO and name == "sgd" and patience is None:
            # (with patience, plain steps: early stopping needs a loss that falls epoch after epoch, and heavy
            # ball's rises for a while before it falls)
            lr, momentum = curvature.heavy_ball()
        elif momentum in (AUTO, 0.0):
            lr, momentum = 2.0 / (curvature.largest + curvature.smallest), 0.0
        elif nesterov:  # (Nesterov's step: heavy ball's larger one is beyond Nesterov's stable region)
            lr = 1.0 / curvature.largest
        else:
            lr = (1.0 + math.sqrt(momentum)) ** 2 / curvature.largest
    elif momentum == AUTO:
        momentum = 0.0
    plan.lr, plan.momentum = lr, momentum

    # The guard may trust theory only where it holds: full-batch SGD (heavy ball) on the MSE.
    if full_batch and plain_sgd and lr is not None and plan.curvature is not None:
        plan.stable = plan.curvature.stable(lr, momentum)
    elif fista and lr is not None and plan.curvature is not None and lr <= (1 + 1e-9) / plan.curvature.largest:
        plan.stable = True  # (proximal gradient at lr <= 1 / L converges; FISTA's objective is not monotone)

    epochs_auto = epochs == AUTO
    dtype = weight.dtype
    if tol == AUTO:
        tol = plan.default_tol(dtype) if (lr_auto or epochs_auto) else None
        if tol is not None and plan.curvature is None:
            tol = None  # (mini-batches from disk with a given lr: no moments to certify against)
    plan.tol = tol
    plan.warn_unconverged = tol is not None
    if epochs_auto:
        if full_batch and (plain_sgd or fista) and plan.stable and plan.curvature is not None:
            step_lr, step_momentum = plan.curvature.heavy_ball() if fista else (lr, momentum)
            needed = plan.curvature.epochs_needed(step_lr, step_momentum, (tol or default_tol(dtype)) * 1e-2)
            assert needed is not None  # (stable: the error shrinks every epoch)
            # (FISTA with restart reaches about half heavy ball's rate, once it has found the signs)
            epochs = min(max(MIN_AUTO_EPOCHS, (8 if fista else 2) * needed + MIN_AUTO_EPOCHS), MAX_AUTO_EPOCHS)
        else:
            epochs = MINI_BATCH_AUTO_EPOCHS if not full_batch else 10 * MIN_AUTO_EPOCHS
    plan.epochs = epochs
    plan.settings = plan.settings | {
        "lr": lr, "lr_auto": lr_auto, "batch_size": batch_size,
        "shuffle": shuffle if shuffle == "batches" else bool(shuffle), "optimizer": name,
        "momentum": momentum, "nesterov": bool(nesterov), "weight_decay": weight_decay, "seed": seed, "n": n,
        "epochs": epochs, "tol": tol, "patience": patience, "gradients": engine, "lr_schedule": schedule,
    }
    if schedule == "callable":
        plan.stable = None  # (a schedule of the user's may raise the step: the guard watches the loss instead)
    if penalty is not None:  # (as the user gave them, when given as numbers)
        plan.settings["penalty"] = {"l1": penalty.l1.tolist(), "l2": penalty.l2.tolist()}
    if distributed:
        if batch_size is not None:  # n is this process's shard; the record says the whole
            total = torch.tensor([float(n)], dtype=torch.float64, device=weight.device)
            plan.settings["n"] = int(all_reduce_sum(total).item())
    return plan


def numpy_plan(X: torch.Tensor, y: torch.Tensor, *, epochs: Any, lr: Any, batch_size: Optional[int], tol: Any,
               on_divergence: str, settings: dict) -> Plan:
    """The plan of :func:`gradlm.numpy_gd`'s plain gradient descent (its lr and epochs are always given)."""
    on_divergence = check_choice(on_divergence, "on_divergence", DIVERGENCE_RULES)
    epochs = check_int(epochs, "epochs")
    tol = _auto_or_float(tol, "tol", nonnegative=True, allow_none=True)
    plan = Plan(engine="numpy", lr=lr, momentum=0.0, epochs=epochs, tol=None, warn_unconverged=False,
                on_divergence=on_divergence, stable=None, n=X.shape[0], X=X, y=y)
    if batch_size is None:
        curvature = plan.curvature
        assert curvature is not None  # (in-memory data: the moments are always taken)
        plan.stable = curvature.stable(lr)
    plan.tol = plan.default_tol(X.dtype) if tol == AUTO else tol
    plan.warn_unconverged = tol not in (None, AUTO)
    plan.settings = dict(settings, epochs=epochs, tol=plan.tol, batch_size=batch_size, momentum=0.0)
    return plan
