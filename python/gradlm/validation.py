"""Input validation and conversion: the one place every entry point checks its data.

Every public function of gradlm (``fit``, ``numpy_gd``, ``lstsq``, ``mse``,
``GDRegressor``, the CLI and, through them, the R package) converts its inputs
here, so an error reads the same wherever it is raised: it names the argument,
says what is wrong and how to fix it.

Conversion makes at most one copy: NumPy arrays of the target dtype become
tensors without copying (read-only arrays, as reticulate hands them over, are
copied once so that torch never sees an unwritable buffer).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Optional, Sequence

import numpy as np
import torch

_TORCH_TO_NUMPY = {
    torch.float16: np.float16,
    torch.float32: np.float32,
    torch.float64: np.float64,
}

_DTYPE_NAMES = {
    "float32": torch.float32,
    "float": torch.float32,
    "float64": torch.float64,
    "double": torch.float64,
}


def as_dtype(dtype: Any, name: str = "dtype") -> torch.dtype:
    """Return a floating torch dtype from a torch dtype, a NumPy dtype or a name.

    >>> as_dtype("float64")
    torch.float64
    """
    if isinstance(dtype, torch.dtype):
        result = dtype
    elif isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        result = _DTYPE_NAMES[dtype]
    else:
        try:
            result = {np.dtype(v): k for k, v in _TORCH_TO_NUMPY.items()}[np.dtype(dtype)]
        except (TypeError, KeyError):
            raise TypeError(
                f"{name} must be a floating dtype such as 'float32' or 'float64'; got {dtype!r}."
            ) from None
    if not result.is_floating_point:
        raise TypeError(f"{name} must be a floating dtype such as torch.float32; got {result}.")
    return result


def column_names(data: Any) -> Optional[list]:
    """Column names of a pandas DataFrame (or the name of a Series), else None."""
    columns = getattr(data, "columns", None)
    if columns is not None:
        return [str(c) for c in columns]
    name = getattr(data, "name", None)
    if name is not None and hasattr(data, "to_numpy"):
        return [str(name)]
    return None


def _frame_to_numpy(data: Any, name: str) -> np.ndarray:
    """A pandas DataFrame or Series as a NumPy array, refusing non-numeric columns by name."""
    if hasattr(data, "columns"):
        items = list(data.dtypes.items())
    else:
        items = [(getattr(data, "name", None) or name, data.dtype)]
    bad = [str(col) for col, dt in items if not _is_numeric_dtype(dt)]
    if bad:
        raise TypeError(
            f"{name} has non-numeric column(s) {', '.join(map(repr, bad))}; "
            "encode them as numbers (for example one-hot columns) or drop them."
        )
    return data.to_numpy()


def _is_numeric_dtype(dt: Any) -> bool:
    try:
        kind = np.dtype(dt).kind
    except TypeError:  # pandas extension dtypes
        kind = getattr(dt, "kind", "O")
    return kind in "biuf"


def _numpy_float(arr: np.ndarray, name: str, np_dtype: type) -> np.ndarray:
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} is complex ({arr.dtype}); pass its real part.")
    if arr.dtype.kind not in "biuf":
        try:
            return arr.astype(np_dtype)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must be numeric; got an array of {arr.dtype} that cannot be read as "
                "numbers. Convert text columns to numbers or drop them."
            ) from None
    if arr.dtype == np_dtype and arr.flags.writeable and arr.flags.c_contiguous:
        return arr
    # One copy, straight to row-major in the target dtype (R's matrices arrive
    # column-major, float64 and read-only). R's NA is a signalling NaN, whose
    # cast numpy warns about; check_finite reports it properly afterwards.
    try:
        with np.errstate(invalid="ignore", over="raise"):
            return np.array(arr, dtype=np_dtype, order="C")
    except FloatingPointError:
        raise ValueError(
            f"{name} has values too large for {np.dtype(np_dtype).name} (beyond ±{np.finfo(np_dtype).max:.3g}); "
            "rescale the data, or use dtype float64."
        ) from None


def as_tensor(
    data: Any,
    name: str,
    *,
    dtype: Any = torch.float32,
    device: Any = None,
    allow_nonfinite: bool = False,
) -> torch.Tensor:
    """Convert array-like ``data`` to a floating tensor, checked, with at most one copy.

    Accepts torch tensors, NumPy arrays, pandas objects and nested lists.
    Integer and float64 input are cast to ``dtype``. NaN and Inf are refused
    unless ``allow_nonfinite``.

    >>> as_tensor([[1, 2], [3, 4]], "X")
    tensor([[1., 2.],
            [3., 4.]])
    """
    dtype = as_dtype(dtype)
    data = _unmasked(data, name)
    if isinstance(data, torch.Tensor):
        if data.is_complex():
            raise TypeError(f"{name} is complex ({data.dtype}); pass its real part.")
        data = data.detach()
        if data.dtype == dtype and (device is None or data.device == torch.device(device)):
            tensor = data  # used as it is, whatever its layout: no copy
        else:
            # A conversion copies anyway: one copy, row-major whatever the source's
            # layout, so that later reductions see the same order from every source.
            tensor = torch.empty(data.shape, dtype=dtype, device=device or data.device).copy_(data)
    else:
        if data is None:
            raise TypeError(f"{name} is None; pass an array of numbers.")
        if hasattr(data, "to_numpy") and hasattr(data, "dtypes"):  # pandas
            arr = _frame_to_numpy(data, name)
        else:
            try:
                arr = np.asarray(data)
            except ValueError as err:  # ragged nested lists
                raise ValueError(f"{name} is not a rectangular array: {err}") from None
        tensor = torch.from_numpy(_numpy_float(arr, name, _TORCH_TO_NUMPY[dtype]))
        if device is not None:
            tensor = tensor.to(device)
    if not allow_nonfinite:
        check_finite(tensor, name)
    return tensor


def _unmasked(data: Any, name: str) -> Any:
    """A NumPy masked array's data, refused when any value is masked (its mask would be ignored otherwise)."""
    if isinstance(data, np.ma.MaskedArray):
        masked = int(np.ma.count_masked(data))
        if masked:
            raise ValueError(f"{name} is a masked array with {masked} masked value(s); gradlm would ignore the mask: "
                             "drop those rows, or fill them (.filled(value)).")
        return np.ma.getdata(data)
    return data


def as_float_view(data: Any, name: str) -> torch.Tensor:
    """``data`` as a float32 or float64 tensor that shares its memory when it can.

    For data only read, never written (moments, least squares, predictions):
    float32 and float64 tensors and NumPy arrays are used in place, whatever
    their layout; R's matrices, which reach Python as read-only column-major
    float64 arrays, are not copied. Anything else becomes float64.

    >>> import numpy as np
    >>> a = np.asfortranarray(np.ones((3, 2)))
    >>> a.flags.writeable = False
    >>> as_float_view(a, "X").dtype
    torch.float64
    """
    data = _unmasked(data, name)
    if isinstance(data, np.ndarray) and data.dtype in (np.float32, np.float64) and data.ndim in (1, 2):
        if any(stride < 0 for stride in data.strides):  # a reversed view (X[::-1]): torch takes no such strides
            data = np.ascontiguousarray(data)
        with warnings.catch_warnings():
            # torch warns that the array is not writable; the tensor is only read.
            warnings.simplefilter("ignore", UserWarning)
            tensor = torch.from_numpy(data)
        check_finite(tensor, name)
        return tensor
    if isinstance(data, torch.Tensor) and data.dtype in (torch.float32, torch.float64):
        return as_tensor(data, name, dtype=data.dtype, device=data.device)
    return as_tensor(data, name, dtype=torch.float64)


def check_X_y_view(X: Any, y: Any, **kwargs: Any) -> tuple:
    """:func:`check_X_y` on :func:`as_float_view` views: checked, and not copied.

    >>> X, y = check_X_y_view(np.ones((3, 2), dtype=np.float32), np.arange(3.0))
    >>> X.dtype, y.shape
    (torch.float32, torch.Size([3, 1]))
    """
    Xv, yv = as_float_view(X, "X"), as_float_view(y, "y")
    X = check_X(Xv, dtype=Xv.dtype, device=Xv.device, **kwargs)
    return X, check_y(yv, n_rows=X.shape[0], dtype=yv.dtype, device=yv.device,
                      n_outputs=kwargs.get("n_outputs"))


def check_finite(tensor: torch.Tensor, name: str) -> None:
    """Raise ValueError naming the count and first row of NaN/Inf entries."""
    if tensor.numel() == 0 or bool(torch.isfinite(tensor.sum())):
        return  # NaN and Inf always reach a sum (Inf - Inf is NaN): one fast reduction suffices
    # (the sum can also overflow with finite values: the exact scan below decides)
    finite = torch.isfinite(tensor)
    if bool(finite.all()):
        return
    bad = ~finite
    count = int(bad.sum())
    rows = bad.reshape(bad.shape[0], -1).any(dim=1) if bad.ndim > 1 else bad.reshape(-1)
    first = int(torch.nonzero(rows)[0, 0])
    raise ValueError(
        f"{name} contains {count} NaN or infinite value(s), the first in row {first}; "
        "remove or impute those rows before fitting."
    )


def check_X(
    X: Any,
    *,
    name: str = "X",
    n_features: Optional[int] = None,
    n_outputs: Optional[int] = None,
    dtype: Any = torch.float32,
    device: Any = None,
) -> torch.Tensor:
    """Return ``X`` as a 2-D (n, features) tensor; a 1-D ``X`` is one feature column.

    (``n_outputs`` is accepted and ignored, for :func:`check_X_y_view`.)

    >>> check_X([1.0, 2.0, 3.0]).shape
    torch.Size([3, 1])
    """
    X = as_tensor(X, name, dtype=dtype, device=device)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, features); got shape {tuple(X.shape)}.")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has 0 rows; pass at least one row of data.")
    if X.shape[1] == 0:
        raise ValueError(f"{name} has 0 features (shape {tuple(X.shape)}); pass at least one column.")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} feature(s), but the model expects {n_features}; "
            f"pass the same columns the model was built or fitted with."
        )
    return X


def check_y(
    y: Any,
    *,
    n_rows: int,
    n_outputs: Optional[int] = None,
    name: str = "y",
    dtype: Any = torch.float32,
    device: Any = None,
) -> torch.Tensor:
    """Return ``y`` as a 2-D (n, outputs) tensor with ``n_rows`` rows.

    A 1-D ``y`` is one output column; it is an error for a model with several
    outputs (it would otherwise broadcast into a wrong loss).

    >>> check_y([1.0, 2.0], n_rows=2, n_outputs=1).shape
    torch.Size([2, 1])
    """
    y = as_tensor(y, name, dtype=dtype, device=device)
    if y.ndim == 1:
        if n_outputs not in (None, 1):
            raise ValueError(
                f"{name} is 1-D (shape {tuple(y.shape)}) but the model has {n_outputs} outputs; "
                f"pass {name} with shape ({y.shape[0]}, {n_outputs})."
            )
        y = y.reshape(-1, 1)
    if y.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, outputs); got shape {tuple(y.shape)}.")
    if y.shape[0] != n_rows:
        raise ValueError(
            f"X and {name} have different numbers of rows ({n_rows} and {y.shape[0]}); "
            "pass one target row per input row."
        )
    if y.shape[1] == 0:
        raise ValueError(f"{name} has 0 columns (shape {tuple(y.shape)}); pass at least one target column.")
    if n_outputs is not None and y.shape[1] != n_outputs:
        raise ValueError(
            f"{name} has {y.shape[1]} column(s), but the model has {n_outputs} output(s); "
            f"build the model with out_features={y.shape[1]} or pass matching targets."
        )
    return y


def check_X_y(
    X: Any,
    y: Any,
    *,
    n_features: Optional[int] = None,
    n_outputs: Optional[int] = None,
    dtype: Any = torch.float32,
    device: Any = None,
) -> tuple:
    """Check and convert ``X`` (n, features) and ``y`` (n, outputs) together.

    >>> X, y = check_X_y([[1.0], [2.0]], [3.0, 4.0])
    >>> X.shape, y.shape
    (torch.Size([2, 1]), torch.Size([2, 1]))
    """
    X = check_X(X, n_features=n_features, dtype=dtype, device=device)
    y = check_y(y, n_rows=X.shape[0], n_outputs=n_outputs, dtype=dtype, device=device)
    return X, y


def check_int(value: Any, name: str, *, minimum: int = 1, maximum: Optional[int] = None,
              allow_none: bool = False) -> Optional[int]:
    """Return ``value`` as an int >= ``minimum`` (and <= ``maximum``); whole-number floats (R's 50) are accepted.

    >>> check_int(50.0, "epochs")
    50
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a whole number >= {minimum}; got {value!r}.")
    if isinstance(value, numbers.Integral):
        result = int(value)
    elif math.isfinite(value) and float(value).is_integer():
        result = int(value)
    else:
        raise TypeError(f"{name} must be a whole number >= {minimum}; got {value!r}.")
    if result < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {result}.")
    if maximum is not None and result > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {result}.")
    return result


def check_float(
    value: Any,
    name: str,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    allow_none: bool = False,
) -> Optional[float]:
    """Return ``value`` as a finite float, optionally > 0 or >= 0.

    >>> check_float(1e-3, "lr", positive=True)
    0.001
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r}.")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite; got {result}.")
    if positive and result <= 0:
        raise ValueError(f"{name} must be > 0; got {result}.")
    if nonnegative and result < 0:
        raise ValueError(f"{name} must be >= 0; got {result}.")
    return result


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming the valid ones.

    >>> check_choice("sgd", "optimizer", ("sgd", "adam"))
    'sgd'
    """
    if not isinstance(value, str) or value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {valid}; got {value!r}.")
    return value
