"""The tensor model ``y = X @ W.T + b``: several inputs, several outputs."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .validation import as_dtype, as_tensor, check_choice, check_device, check_int, check_X

INITS = ("torch", "randn", "zeros")


def linear(X: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The model as a function: ``X @ weight.T + bias``.

    ``X`` is (n, in), ``weight`` (out, in), ``bias`` (out); the result is (n, out).

    >>> import torch
    >>> linear(torch.ones(2, 3), torch.ones(1, 3), torch.zeros(1))
    tensor([[3.],
            [3.]])
    """
    return X @ weight.T + bias


def _draw(in_features: int, out_features: int, init: str) -> tuple:
    """Initial (weight, bias), drawn in float32 on the CPU.

    Drawing always in float32 on the CPU makes a seed give the same start for
    every dtype and device (the draws are then cast and moved).
    """
    weight = torch.empty(out_features, in_features)
    bias = torch.empty(out_features)
    if init == "torch":
        # The calls torch.nn.Linear.reset_parameters makes, in the same order.
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
        bound = 1 / math.sqrt(in_features)
        nn.init.uniform_(bias, -bound, bound)
    elif init == "randn":
        # The from-scratch tutorial: w = torch.randn(out, in); b = torch.randn(out).
        weight = torch.randn(out_features, in_features)
        bias = torch.randn(out_features)
    else:
        weight.zero_()
        bias.zero_()
    return weight, bias


class LinearModel(nn.Module):
    """Linear regression model ``X @ weight.T + bias`` with ``weight`` (out, in), ``bias`` (out).

    Parameters
    ----------
    in_features, out_features : int
        Number of input features and of outputs (targets).
    init : {"torch", "randn", "zeros"}
        ``"torch"`` draws exactly what ``torch.nn.Linear(in, out)`` draws under the
        same torch seed; ``"randn"`` draws ``torch.randn(out, in)`` then
        ``torch.randn(out)``, as the from-scratch tutorial does; ``"zeros"``.
    dtype : torch dtype or name, default float32
    device : torch device or name, optional

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(59)
    >>> model = LinearModel(1, 1)
    >>> round(model.weight.item(), 8), round(model.bias.item(), 8)
    (0.10597813, 0.96379614)
    >>> model(torch.tensor([[2.0]])).shape
    torch.Size([1, 1])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int = 1,
        init: str = "torch",
        dtype: Any = torch.float32,
        device: Any = None,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features")
        self.out_features = check_int(out_features, "out_features")
        self.init = check_choice(init, "init", INITS)
        dtype = as_dtype(dtype)
        weight, bias = _draw(self.in_features, self.out_features, self.init)
        device = check_device(device)
        self.weight = nn.Parameter(weight.to(device=device, dtype=dtype))
        self.bias = nn.Parameter(bias.to(device=device, dtype=dtype))

    @classmethod
    def from_params(cls, weight: Any, bias: Any, *, dtype: Any = torch.float32, device: Any = None):
        """A model that starts from the given ``weight`` (out, in) and ``bias`` (out).

        >>> LinearModel.from_params([[2.0, 0.5]], [1.0]).weight
        Parameter containing:
        tensor([[2.0000, 0.5000]], requires_grad=True)
        """
        weight = as_tensor(weight, "weight", dtype=dtype, device=device)
        bias = as_tensor(bias, "bias", dtype=dtype, device=device).reshape(-1)
        if weight.ndim == 1:
            weight = weight.reshape(1, -1)
        if weight.ndim != 2 or bias.shape[0] != weight.shape[0]:
            raise ValueError(
                f"weight must be (out, in) and bias (out,); got shapes {tuple(weight.shape)} "
                f"and {tuple(bias.shape)}."
            )
        model = cls(weight.shape[1], weight.shape[0], init="zeros", dtype=dtype, device=device)
        with torch.no_grad():
            model.weight.copy_(weight)
            model.bias.copy_(bias)
        return model

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return linear(X, self.weight, self.bias)

    def predict(self, X: Any) -> torch.Tensor:
        """Predictions for array-like ``X`` (n, in), without gradient tracking.

        >>> LinearModel.from_params([[2.0]], [1.0]).predict([[1.0], [2.0]])
        tensor([[3.],
                [5.]])
        """
        X = check_X(X, n_features=self.in_features, dtype=self.weight.dtype, device=self.weight.device,
                    task="predicting")
        with torch.no_grad():
            return self(X)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, init={self.init!r}"
