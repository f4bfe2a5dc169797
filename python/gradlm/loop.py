"""The epoch loop shared by :func:`gradlm.fit` and :func:`gradlm.numpy_gd`: records, rules, progress, verdict.

Each epoch: ``start_epoch`` records the parameters, the engine steps,
``end_epoch`` records the losses and runs the rules of
:mod:`gradlm.callbacks` (divergence guard, certified stop, patience, the
user's callbacks). ``finish`` rolls back where needed (an interrupt: to the
last whole epoch; a divergence or patience stop: to the best parameters
seen), builds the :class:`~gradlm.history.History` with its
:class:`~gradlm.report.FitReport`, and warns or raises as the plan says.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from typing import Any, Callable, Iterable, Iterator, Optional

import numpy as np
import torch

from .callbacks import CertifiedStop, DivergenceGuard, Patience, UserCallbacks
from .exceptions import DivergenceError, DivergenceWarning, convergence_warning
from .history import History
from .report import FitReport


def _progress_wanted(progress: Optional[bool]) -> bool:
    if progress is not None:
        return bool(progress)
    if os.environ.get("CI") or "PYTEST_CURRENT_TEST" in os.environ:
        return False
    return sys.stderr is not None and sys.stderr.isatty()


def _to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


HISTORIES = ("full", "loss")


class ParameterPath:
    """The parameters at the start of each epoch, by epoch index: all of them (``keep=True``), or only those
    a rollback may still need (the first, the latest, and those after the best losses), so that a long
    run's memory does not grow with its epochs."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self._items: dict = {}
        self._count = 0

    def append(self, value: Any) -> None:
        self._items[self._count] = value
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> Any:
        return self._items[index]

    def keep_only(self, needed: set) -> None:
        if not self.keep:
            for index in [i for i in self._items if i not in needed and i not in (0, self._count - 1)]:
                del self._items[index]

    def first(self, n: int) -> list:
        """The first ``n`` entries (all kept), or none when the path is not kept."""
        return [self._items[i] for i in range(n)] if self.keep else []


class Loop:
    """One training run's epochs (see the module's docstring).

    ``history="loss"`` keeps the parameters only where a rollback may need
    them: the History then has empty ``weight_path`` and ``bias_path``.
    """

    def __init__(self, plan: Any, *, dtype: torch.dtype, like: Any = None, patience: Optional[int] = None,
                 callbacks: Iterable[Callable] = (), progress: Optional[bool] = None, model: Any = None,
                 history: str = "full") -> None:
        self.plan = plan
        self.dtype = dtype
        self.model = model
        self.epochs = plan.epochs
        self.full_batch = plan.settings.get("batch_size") is None
        self.loss: list = []
        self.val_loss: list = []
        self.weights = ParameterPath(keep=history == "full")
        self.biases = ParameterPath(keep=history == "full")
        self._best = (math.inf, -1)  # the lowest finite training loss and its epoch (0-based)
        self._best_val = (math.inf, -1)
        self.stop_reason = "epochs"
        self.guard = DivergenceGuard(plan.stable, enabled=plan.on_divergence != "ignore")
        self.rules: list = [self.guard]
        if plan.tol is not None:
            device = like.device if isinstance(like, torch.Tensor) else None
            self.rules.append(CertifiedStop(plan.distance(device), plan.tol))
        if patience is not None:
            self.rules.append(Patience(patience))
        user = UserCallbacks(callbacks)
        if user.callbacks:
            self.rules.append(user)
        self.progress = _progress_wanted(progress)
        self.progress_asked = bool(progress)
        self._bar = None

    def __iter__(self) -> Iterator[int]:
        epochs: Iterable[int] = range(1, self.epochs + 1)
        if self.progress:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm is the progress extra, not a dependency
                tqdm = None
                if self.progress_asked:  # (the default, a bar on a terminal, goes without one quietly)
                    warnings.warn('progress=True needs tqdm, which is not installed: pip install "gradlm[progress]" '
                                  "(or pip install tqdm); training without a progress bar.", stacklevel=2)
            if tqdm is not None:
                bar = tqdm(epochs, desc="fit", unit="epoch", leave=False)
                self._bar = epochs = bar
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

    def end_epoch(self, epoch: int, loss: float, val_loss: Optional[float], params: tuple) -> None:
        """Record an epoch's losses, then run the rules on the parameters after it."""
        self.loss.append(loss)
        if val_loss is not None:
            self.val_loss.append(val_loss)
        index = len(self.loss) - 1
        if math.isfinite(loss) and loss < self._best[0]:
            self._best = (loss, index)
        if val_loss is not None and val_loss < self._best_val[0]:
            self._best_val = (val_loss, index)
        best, best_val = self._best[1], self._best_val[1]
        needed = {best, best + 1, best_val + 1}
        self.weights.keep_only(needed)
        self.biases.keep_only(needed)
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{loss:.6g}", refresh=False)
        for rule in self.rules:
            reason = rule(self, epoch, params)
            if reason is not None:
                self.stop_reason = reason
                return

    def interrupt(self) -> None:
        self.stop_reason = "interrupted"

    def _params_of(self, index: int, current: tuple) -> tuple:
        """The parameters after epoch ``index`` (0-based): the next epoch's start, or the current ones."""
        if index + 1 < len(self.weights) and index + 1 < len(self.loss) + 1:
            return self.weights[index + 1], self.biases[index + 1]
        return current

    def _rollback(self, current: tuple) -> Optional[tuple]:
        """The parameters to go back to, or None to keep the current ones."""
        n = len(self.loss)
        if self.stop_reason == "interrupted" and len(self.weights) > n:
            return self.weights[n], self.biases[n]  # mid-epoch: the start of the interrupted epoch
        if self.stop_reason == "diverged":
            best = self._best[1]
            if best < 0:  # no finite loss
                return self.weights[0], self.biases[0]
            # full batch: loss[i] was computed with the parameters at the start of epoch i
            return (self.weights[best], self.biases[best]) if self.full_batch else self._params_of(best, current)
        if self.stop_reason == "patience":
            if self.val_loss:  # taken after each epoch
                return self._params_of(self._best_val[1], current)
            best = self._best[1]
            if best < 0:
                return None
            return (self.weights[best], self.biases[best]) if self.full_batch else self._params_of(best, current)
        return None

    def finish(self, weight: Any, bias: Any, restore: Optional[Callable] = None) -> History:
        """Build the History (with its report); warn, or raise on divergence, as the plan says."""
        back = self._rollback((weight, bias))
        if back is not None:
            weight, bias = back
            if restore is not None:
                restore(weight, bias)
        n = len(self.loss)
        weights, biases = self.weights.first(n), self.biases.first(n)
        tensors = bool(weights) and isinstance(weights[0], torch.Tensor)
        stack = (lambda xs: _to_numpy(torch.stack(xs))) if tensors else np.stack
        weight = _to_numpy(weight).copy()
        bias = _to_numpy(bias).copy()
        history = History(
            loss=np.asarray(self.loss, dtype=np.float64),
            val_loss=np.asarray(self.val_loss, dtype=np.float64) if self.val_loss else None,
            weight_path=stack(weights) if weights else np.empty((0,) + weight.shape, weight.dtype),
            bias_path=stack(biases) if biases else np.empty((0,) + bias.shape, bias.dtype),
            weight=weight,
            bias=bias,
            stop_reason=self.stop_reason,
            settings=dict(self.plan.settings),
            report=self._report(weight, bias, n),
        )
        if self.stop_reason == "diverged":
            self._report_divergence(history)
        elif (self.plan.warn_unconverged and history.report is not None and not history.report.converged
              and (self.stop_reason == "epochs" or (self.stop_reason == "patience" and not self.val_loss))):
            # (early stopping on a validation loss is the stop asked for, short of least squares on purpose)
            warnings.warn(f"{history.report.verdict()}. {history.report.advice()}", convergence_warning(),
                          stacklevel=3)
        return history

    def _report(self, weight: np.ndarray, bias: np.ndarray, epochs_run: int) -> Optional[FitReport]:
        plan = self.plan
        stats = plan.cheap_statistics
        if stats is None or not (np.isfinite(weight).all() and np.isfinite(bias).all()):
            return None
        report = FitReport.from_moments(
            stats, weight, bias, plan.optimum_for(weight), tol=plan.tol, certify_at=plan.certify_at(self.dtype),
            stop_reason=self.stop_reason, epochs_run=epochs_run, condition_number=plan.condition_number,
            lr=plan.lr, momentum=plan.momentum, batch_size=plan.settings.get("batch_size"),
            curvature=plan.curvature, penalty=plan.penalty)
        report.dtype = str(self.dtype).replace("torch.", "")
        curvature, settings = plan.curvature, plan.settings
        if (curvature is not None and settings.get("batch_size") is None and plan.lr is not None
                and settings.get("optimizer") in ("sgd", "manual", "numpy") and not settings.get("nesterov")
                and not settings.get("weight_decay")):
            target = (plan.certify_at(self.dtype) or 1e-10) * 1e-2
            report.epochs_needed = curvature.epochs_needed(plan.lr, plan.momentum or 0.0, target)
            report.epochs_needed_auto = curvature.epochs_needed(*curvature.heavy_ball(), target)
        if self.stop_reason == "diverged":
            report.converged = False
        return report

    def _report_divergence(self, history: History) -> None:
        epoch, loss = len(self.loss), self.loss[-1]
        how = (f"the loss became {loss}" if not math.isfinite(loss)
               else f"the loss rose {self.guard.rises} epochs in a row, to {loss:.4g}")
        finite = [v for v in self.loss if math.isfinite(v)]
        message = (f"training diverged at epoch {epoch}: {how}. The model keeps the best parameters seen"
                   + (f" (loss {min(finite):.6g})" if finite else "") + ". " + self._divergence_cause())
        if self.plan.on_divergence == "raise":  # ("ignore": only a non-finite loss gets here; it warns)
            raise DivergenceError(message, history=history, epoch=epoch)
        warnings.warn(message, DivergenceWarning, stacklevel=4)

    def _divergence_cause(self) -> str:
        """The cause, named: the step size beyond its bound, or a scale the dtype cannot hold."""
        plan = self.plan
        plan.ensure_statistics()
        curvature = plan.curvature
        lr, momentum = plan.lr, plan.momentum or 0.0
        bound = curvature.max_stable_lr(momentum) if curvature is not None else None
        stats = plan.statistics
        if stats is not None:
            y_scale = float(((stats.yy / stats.n) + stats.my ** 2).max().sqrt())
            x_scale = float(((stats.G.diagonal() / stats.n) + stats.mx ** 2).max().sqrt()) if stats.mx.numel() else 0.0
            # values whose squares approach the dtype's largest number, or an overflow inside the stable bound
            too_large = max(y_scale, x_scale) > math.sqrt(torch.finfo(self.dtype).max) / 1e3
            if too_large or (not math.isfinite(self.loss[-1]) and plan.stable):
                return (f"The loss overflowed {str(self.dtype).replace('torch.', '')}: the data's scale (y up to "
                        f"about {y_scale:.3g} in root mean square, X up to {x_scale:.3g}) is too large for it, "
                        "whatever lr. Standardize (standardize=True, the default of GDRegressor and gd_lm) or "
                        "rescale the data, or use dtype float64.")
        if bound is None or lr is None:
            return "Lower lr, or leave lr='auto' (the default)."
        if plan.settings.get("lr_auto"):
            return (f"The automatic step (lr={lr:.4g}, momentum={momentum:.4g}) is inside the stable bound "
                    f"{bound:.4g}; on data this ill-conditioned (condition number {plan.condition_number:.2g}) "
                    "float64's rounding moves it. Standardize the data, or take the exact solution from lstsq().")
        what = "2 / the largest eigenvalue of the loss's Hessian" if not momentum else \
            f"2 (1 + momentum) / the largest eigenvalue of the loss's Hessian, momentum {momentum:g}"
        if plan.stable is False:
            advice = (f"Full-batch gradient descent is stable for lr < {bound:.4g} ({what}; lr was {lr:g}): "
                      f"try lr={bound / 2:.3g}, or leave lr='auto' (the default), which chooses the step from the "
                      "data.")
        else:
            advice = (f"Lower lr (was {lr:g}; full-batch gradient descent is stable below {bound:.4g}), or leave "
                      "lr='auto' (the default).")
        if bound < 1e-3:
            advice += (" The bound is small because X is on a large scale: standardize=True (the default of "
                       "GDRegressor and gd_lm) makes steps near 1 stable.")
        return advice
