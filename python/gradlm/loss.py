"""The mean squared error, the loss every gradlm loop minimises."""

from __future__ import annotations

from typing import Any

import torch

from .validation import as_tensor


def mse(pred: Any, target: Any) -> torch.Tensor:
    """Sum of squared differences divided by the number of elements.

    Equal to ``torch.nn.MSELoss()(pred, target)``, and differentiable when
    ``pred`` tracks gradients. Array-likes are converted (to the other
    argument's dtype when it is a tensor, else float64). The shapes must match
    exactly: a ``(n,)`` target against ``(n, 1)`` predictions would broadcast to
    an ``(n, n)`` difference and a silently wrong loss, so it is refused.

    >>> import torch
    >>> mse(torch.tensor([[1.0], [3.0]]), torch.tensor([[0.0], [1.0]]))
    tensor(2.5000)
    """
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        like = pred if isinstance(pred, torch.Tensor) else target
        dtype = like.dtype if isinstance(like, torch.Tensor) else torch.float64
        device = like.device if isinstance(like, torch.Tensor) else None
        if not isinstance(pred, torch.Tensor):
            pred = as_tensor(pred, "pred", dtype=dtype, device=device, allow_nonfinite=True)
        if not isinstance(target, torch.Tensor):
            target = as_tensor(target, "target", dtype=dtype, device=device, allow_nonfinite=True)
    if pred.shape != target.shape:
        raise ValueError(
            f"pred has shape {tuple(pred.shape)} but target has shape {tuple(target.shape)}; "
            "they must match (reshape a 1-D target with target.reshape(-1, 1))."
        )
    diff = pred - target
    return torch.sum(diff * diff) / diff.numel()


def loss_at(weight: Any, bias: Any, X: Any, y: Any) -> float:
    """The MSE of the linear model with parameters ``(weight, bias)`` on ``(X, y)``, in float64.

    >>> loss_at([[2.0]], [1.0], [[1.0], [2.0]], [[3.0], [6.0]])
    0.5
    """
    from .validation import check_X_y

    weight = as_tensor(weight, "weight", dtype=torch.float64)
    weight = weight.reshape(1, -1) if weight.ndim == 1 else weight
    bias = as_tensor(bias, "bias", dtype=torch.float64).reshape(-1)
    X, y = check_X_y(X, y, n_features=weight.shape[1], n_outputs=weight.shape[0], dtype=torch.float64)
    return float(mse(X @ weight.T + bias, y))
