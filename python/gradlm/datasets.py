"""The tutorials' data, and synthetic data for larger runs.

Each function returns a :class:`Dataset`: a pair ``(X, y)`` that unpacks as
one and also carries the column names.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import torch

from .validation import as_dtype, check_float, check_int

CROP_REGIONS = tuple("ABCDEFGHIJKLMNO")
CROP_FEATURES = ("temperature", "rainfall", "humidity")
CROP_TARGETS = ("mangoes", "oranges")
# Region, temperature (F), rainfall (mm), humidity (%), mangoes (ton), oranges (ton),
# in the from-scratch tutorial's row order.
_CROPS = (
    (73, 67, 43, 56, 70),
    (91, 88, 64, 81, 101),
    (87, 134, 58, 119, 133),
    (102, 43, 37, 22, 37),
    (69, 96, 70, 103, 119),
    (74, 66, 43, 57, 69),
    (91, 87, 65, 80, 102),
    (88, 134, 59, 118, 132),
    (101, 44, 37, 21, 38),
    (68, 96, 71, 104, 118),
    (73, 66, 44, 57, 69),
    (92, 87, 64, 82, 100),
    (87, 135, 57, 118, 134),
    (103, 43, 36, 20, 38),
    (68, 97, 70, 102, 120),
)

# The NumPy tutorial's 15 points.
_POINTS_X = (1, 2, 4, 6, 8, 10, 12, 13, 14, 16, 16, 18, 20, 22, 24)
_POINTS_Y = (39, 42, 43, 46, 47, 56, 60, 59, 64, 66, 68, 72, 71, 75, 80)


class Dataset(tuple):
    """``(X, y)`` with names: unpacks as a pair, and has ``feature_names``, ``target_names``.

    >>> X, y = crops()
    >>> crops().feature_names
    ['temperature', 'rainfall', 'humidity']
    """

    feature_names: list[str]
    target_names: list[str]

    def __new__(cls, X: Any, y: Any, feature_names: Sequence[str], target_names: Sequence[str], **extra: Any):
        self = super().__new__(cls, (X, y))
        self.feature_names = list(feature_names)
        self.target_names = list(target_names)
        for key, value in extra.items():
            setattr(self, key, value)
        return self

    @property
    def X(self) -> Any:
        return self[0]

    @property
    def y(self) -> Any:
        return self[1]

    def to_frame(self):
        """The data as one pandas DataFrame, features then targets (needs pandas)."""
        import pandas as pd

        X = np.asarray(self.X).reshape(len(self.X), -1)
        y = np.asarray(self.y).reshape(len(self.y), -1)
        columns = self.feature_names + self.target_names
        frame = pd.DataFrame(np.hstack([X, y]), columns=columns)
        if getattr(self, "row_names", None) is not None:
            frame.insert(0, "region", list(self.row_names))
        return frame


def crops() -> Dataset:
    """The crop-yield data: temperature, rainfall, humidity → mangoes, oranges (15 rows).

    Float32 tensors ``inputs`` (15, 3) and ``targets`` (15, 2), in the
    tutorial's row order; ``row_names`` are the regions A to O.

    >>> inputs, targets = crops()
    >>> inputs.shape, targets.dtype
    (torch.Size([15, 3]), torch.float32)
    """
    table = torch.tensor(_CROPS, dtype=torch.float32)
    return Dataset(
        table[:, :3].contiguous(),
        table[:, 3:].contiguous(),
        CROP_FEATURES,
        CROP_TARGETS,
        row_names=list(CROP_REGIONS),
    )


def line(n: int = 50) -> Dataset:
    """The nn.Linear tutorial's data: ``X = linspace(1, 50, n)``, ``y = 2 X + 1 + e``.

    ``e`` is drawn as the tutorial draws it, ``torch.manual_seed(71)`` then
    ``randint(-8, 9, (n, 1))``, from a private generator: the caller's global
    torch RNG is left as it was.

    >>> X, y = line()
    >>> X.shape, float(y[0, 0])
    (torch.Size([50, 1]), 5.0)
    """
    n = check_int(n, "n")
    X = torch.linspace(1, 50, n).reshape(-1, 1)
    generator = torch.Generator().manual_seed(71)
    e = torch.randint(-8, 9, (n, 1), dtype=torch.float, generator=generator)
    y = 2 * X + 1 + e
    return Dataset(X, y, ["x"], ["y"], noise=e)


def numpy_points() -> Dataset:
    """The NumPy tutorial's 15 points, as the tutorial's 1-D int64 NumPy arrays.

    >>> X, Y = numpy_points()
    >>> X[:3].tolist(), Y[-1]
    ([1, 2, 4], 80)
    """
    return Dataset(np.array(_POINTS_X), np.array(_POINTS_Y), ["X"], ["Y"])


def make_regression(
    n: int = 1000,
    d: int = 10,
    outputs: int = 1,
    noise: float = 0.1,
    seed: Optional[int] = None,
    dtype: Any = torch.float32,
) -> Dataset:
    """Synthetic linear data: ``X`` ~ N(0, 1) (n, d), ``y = X W' + b + noise * N(0, 1)``.

    The true ``coef`` (outputs, d) and ``intercept`` (outputs,) are attributes.
    Drawn from a private torch generator (the global RNG is left alone).

    >>> data = make_regression(100, 3, outputs=2, seed=0)
    >>> data.X.shape, data.y.shape, data.coef.shape
    (torch.Size([100, 3]), torch.Size([100, 2]), torch.Size([2, 3]))
    """
    n = check_int(n, "n")
    d = check_int(d, "d")
    outputs = check_int(outputs, "outputs")
    noise = check_float(noise, "noise", nonnegative=True)
    seed = check_int(seed, "seed", minimum=0, allow_none=True)
    dtype = as_dtype(dtype)
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    coef = torch.randn(outputs, d, generator=generator, dtype=dtype)
    intercept = torch.randn(outputs, generator=generator, dtype=dtype)
    X = torch.randn(n, d, generator=generator, dtype=dtype)
    y = torch.addmm(intercept, X, coef.T)
    if noise:
        y += noise * torch.randn(n, outputs, generator=generator, dtype=dtype)
    return Dataset(
        X, y, [f"x{i + 1}" for i in range(d)], [f"y{j + 1}" for j in range(outputs)], coef=coef, intercept=intercept
    )
