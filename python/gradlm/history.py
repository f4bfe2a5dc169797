"""The record of a training run, and the bookkeeping that fills it epoch by epoch.

``History.loss[i]`` is epoch ``i + 1``'s training loss: for full-batch training
the loss computed before that epoch's step (as the nn.Linear tutorial prints
it), for mini-batch training the mean of the epoch's batch losses.
``weight_path[i]`` and ``bias_path[i]`` are the parameters at the start of
epoch ``i + 1`` (for full batch, the ones ``loss[i]`` was computed with);
``weight`` and ``bias`` are the final parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from .report import FitReport

STOP_REASONS = ("epochs", "converged", "patience", "callback", "interrupted", "diverged")


@dataclass
class History:
    """What ``fit`` and ``numpy_gd`` return.

    Attributes
    ----------
    loss : ndarray (epochs_run,)
    val_loss : ndarray (epochs_run,) or None
        Loss on the ``validation`` data with the parameters at the end of each epoch.
    weight_path : ndarray (epochs_run, out, in)
    bias_path : ndarray (epochs_run, out)
    weight : ndarray (out, in), final
    bias : ndarray (out,), final
    epochs_run : int
    stop_reason : {"epochs", "converged", "patience", "callback", "interrupted", "diverged"}
        ``"converged"``: certified (the coefficients reached the tolerance).
        ``"interrupted"`` (Ctrl-C) leaves the model with the parameters at the
        end of the last whole epoch; ``"diverged"`` and ``"patience"`` with the
        best ones seen.
    settings : dict
        The training settings (lr, momentum as chosen, batch_size, optimizer, ...).
    report : FitReport or None
        The loss beside the exact optimum's, R², and the certified verdict
        (None for mini-batches streamed from disk without a tolerance).

    Examples
    --------
    >>> import gradlm
    >>> X, y = gradlm.datasets.line()
    >>> h = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=3, lr=1e-3)
    >>> h.loss.shape, h.weight.shape, h.stop_reason
    ((3,), (1, 1), 'epochs')
    """

    loss: np.ndarray
    weight_path: np.ndarray
    bias_path: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    stop_reason: str = "epochs"
    val_loss: Optional[np.ndarray] = None
    settings: dict = field(default_factory=dict)
    report: Optional[FitReport] = None

    @property
    def epochs_run(self) -> int:
        return int(self.loss.shape[0])

    @property
    def converged(self) -> bool:
        """True when the final coefficients are certified within the tolerance of least squares."""
        return bool(self.report is not None and self.report.converged)

    @property
    def interrupted(self) -> bool:
        return self.stop_reason == "interrupted"

    @property
    def diverged(self) -> bool:
        return self.stop_reason == "diverged"

    def optimality_gap(self, X: Any, y: Any) -> float:
        """Loss of the final parameters minus the least-squares (optimal) loss, in float64.

        ``X`` and ``y`` are the data the parameters were trained on (for a
        standardized ``GDRegressor``, use its own ``optimality_gap``).

        >>> import torch, gradlm
        >>> X, y = gradlm.datasets.line()
        >>> _ = torch.manual_seed(59)
        >>> h = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=50, lr=1e-3)
        >>> 0 <= h.optimality_gap(X, y) < 1
        True
        """
        from .lstsq import optimality_gap

        return optimality_gap(self.weight, self.bias, X, y)

    def inference(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """``lm()``'s inference at the final parameters, on the data they were trained on (arrays, a Stream
        or SufficientStatistics; see :func:`gradlm.inference.infer`), flagged with this run's verdict.

        >>> import gradlm
        >>> X, y = gradlm.datasets.crops()
        >>> h = gradlm.fit(gradlm.LinearModel(3, 2), X, y)
        >>> h.inference(X, y).bse.shape
        (2, 4)
        """
        from .inference import infer

        if self.settings.get("weighted") and sample_weight is None and y is not None:
            raise ValueError("this fit was weighted: pass its sample_weight too.")
        return infer(self.weight, self.bias, X, y, sample_weight=sample_weight, converged=self.converged)

    def to_dict(self) -> dict:
        """Plain Python lists and numbers, ready for JSON.

        >>> import gradlm
        >>> X, y = gradlm.datasets.line()
        >>> d = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=2, lr=1e-3).to_dict()
        >>> d["loss"][0] > d["loss"][1], d["stop_reason"], len(d["weight_path"])
        (True, 'epochs', 2)
        """
        return {
            "loss": self.loss.tolist(),
            "val_loss": None if self.val_loss is None else self.val_loss.tolist(),
            "weight": self.weight.tolist(),
            "bias": self.bias.tolist(),
            "weight_path": self.weight_path.tolist(),
            "bias_path": self.bias_path.tolist(),
            "epochs_run": self.epochs_run,
            "stop_reason": self.stop_reason,
            "converged": self.converged,
            "settings": dict(self.settings),
            "report": None if self.report is None else self.report.to_dict(),
        }

    def __repr__(self) -> str:
        last = f"{self.loss[-1]:.6g}" if self.epochs_run else "none"
        return (
            f"History(epochs_run={self.epochs_run}, final loss={last}, "
            f"stop_reason={self.stop_reason!r}, converged={self.converged})"
        )


@dataclass
class EpochInfo:
    """What a callback receives after each epoch. Return True from the callback to stop."""

    epoch: int
    loss: float
    val_loss: Optional[float]
    model: Any
