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
import sys
import warnings
from typing import Any, Literal, Optional, Sequence, overload

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


def check_device(device: Any, name: str = "device") -> Optional[torch.device]:
    """Return ``device`` as a torch.device (None stays None), refusing names torch cannot parse and CUDA or MPS
    devices this machine does not have.

    >>> check_device("cpu")
    device(type='cpu')
    >>> check_device("gpu9")
    Traceback (most recent call last):
    ValueError: device must be a torch device or its name, such as 'cpu' or 'cuda'; got 'gpu9'.
    """
    if device is None:
        return None
    try:
        result = device if isinstance(device, torch.device) else torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"{name} must be a torch device or its name, such as 'cpu' or 'cuda'; "
                         f"got {device!r}.") from None
    if result.type == "cuda":
        available, count = torch.cuda.is_available(), torch.cuda.device_count()
        if not available or (result.index is not None and result.index >= count):
            why = ("torch.cuda.is_available() is False" if not available
                   else f"this machine has {count} CUDA device(s), numbered from 0")
            raise ValueError(f"{name} {str(result)!r} is not available here ({why}); use {name}='cpu'"
                             + (" or an index below the device count." if available else ", or install a CUDA "
                                "build of torch on a machine with an NVIDIA GPU."))
    if result.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name} 'mps' is not available here (torch.backends.mps.is_available() is False); "
                         f"use {name}='cpu'.")
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


def repeated(names: Sequence[str]) -> list:
    """The names that occur more than once, in order of first appearance."""
    seen: set = set()
    twice: list = []
    for n in names:
        if n in seen and n not in twice:
            twice.append(n)
        seen.add(n)
    return twice


def check_unique_columns(names: Sequence[str], where: str) -> None:
    """Refuse a table (``where``: the argument or the file) with two columns of one name: its coefficients
    could not be told apart (and a table read by name would keep one column under both uses).

    >>> check_unique_columns(["a", "b", "a"], "X")
    Traceback (most recent call last):
    ValueError: X has more than one column named 'a'; give every column its own name.
    """
    twice = repeated(names)
    if twice:
        raise ValueError(f"{where} has more than one column named {', '.join(map(repr, twice))}; "
                         "give every column its own name.")


def check_roles(features: Optional[Sequence[str]], targets: Sequence[str]) -> None:
    """Refuse column lists that name a column twice, or name one column both a feature and a target.

    >>> check_roles(["x", "t"], ["t"])
    Traceback (most recent call last):
    ValueError: column 't' is both a feature and a target; pick one role for it (leave it out of features).
    """
    if not targets:
        raise ValueError("target names no columns; pass one or more column names.")
    for arg, names in (("target", targets), ("features", features or [])):
        twice = repeated(names)
        if twice:
            raise ValueError(f"{arg} names column {twice[0]!r} more than once; name each column once.")
    both = [f for f in features or [] if f in targets]
    if both:
        raise ValueError(f"column {both[0]!r} is both a feature and a target; pick one role for it "
                         "(leave it out of features).")


_NUMBER_KINDS = ("integer", "floating", "mixed-integer-float", "boolean")


def _frame_to_numpy(data: Any, name: str, task: str = "fitting") -> np.ndarray:
    """A pandas DataFrame or Series as a NumPy array, refusing non-numeric columns by name.

    pandas' nullable columns (``Int64``, ``Float64``, ``boolean``) and object columns that hold only
    numbers are read as float64; a missing value (``pd.NA``, ``None``) in them is refused by column
    and row, as a NaN is by :func:`check_finite`.
    """
    if hasattr(data, "columns"):
        check_unique_columns([str(c) for c in data.columns], name)
        items = list(data.dtypes.items())
        column = lambda j: data.iloc[:, j]  # noqa: E731 (a column is taken only where it is inspected)
    else:
        items = [(getattr(data, "name", None), data.dtype)]
        column = lambda j: data  # noqa: E731
    bad, as_float = [], False
    for j, (label, dt) in enumerate(items):
        plain_object = isinstance(dt, np.dtype) and dt.kind == "O"
        numeric = _is_numeric_dtype(dt)
        if not numeric and plain_object:
            from pandas.api.types import infer_dtype

            numeric = infer_dtype(column(j), skipna=True) in _NUMBER_KINDS
        if not numeric:
            bad.append(str(label if label is not None else name))
        elif not isinstance(dt, np.dtype) or plain_object:  # pandas' own dtypes: NA is possible, not NaN
            _check_no_missing(column(j), label, name, task)
            as_float = True
    if bad:
        raise TypeError(
            f"{name} has non-numeric column(s) {', '.join(map(repr, bad))}; "
            "encode them as numbers (for example one-hot columns) or drop them."
        )
    return data.to_numpy(dtype=np.float64) if as_float else data.to_numpy()


def _check_no_missing(column: Any, label: Any, name: str, task: str = "fitting") -> None:
    missing = np.asarray(column.isna(), dtype=bool)
    if missing.any():
        what = f"{name} column {str(label)!r}" if label is not None else name
        raise ValueError(f"{what} has {int(missing.sum())} missing value(s) (NA), the first in row "
                         f"{int(np.argmax(missing))}; drop or impute those rows before {task}.")


def _is_numeric_dtype(dt: Any) -> bool:
    try:
        kind = np.dtype(dt).kind
    except TypeError:  # pandas extension dtypes
        kind = getattr(dt, "kind", "O")
    return kind in "biuf"


def _numpy_float(arr: np.ndarray, name: str, np_dtype: type) -> np.ndarray:
    if arr.dtype.kind == "c":
        raise _complex(name, arr.dtype)
    if arr.dtype.kind not in "biuf":
        try:
            return arr.astype(np_dtype)
        except (TypeError, ValueError) as err:
            # (NumPy's reason, "float() argument must be a string or a real number", is also what scikit-learn's
            # checks look for)
            raise TypeError(
                f"{name} must be numeric; got an array of {arr.dtype} that cannot be read as "
                f"numbers ({err}). Convert text columns to numbers or drop them."
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
    task: str = "fitting",
) -> torch.Tensor:
    """Convert array-like ``data`` to a floating tensor, checked, with at most one copy.

    Accepts torch tensors, NumPy arrays, pandas objects and nested lists.
    Integer and float64 input are cast to ``dtype``. NaN and Inf are refused
    unless ``allow_nonfinite``; ``task`` ("fitting", "predicting", ...) ends
    the message that refuses them.

    >>> as_tensor([[1, 2], [3, 4]], "X")
    tensor([[1., 2.],
            [3., 4.]])
    """
    dtype = as_dtype(dtype)
    data = _dense(data, name)
    if isinstance(data, torch.Tensor):
        if data.is_complex():
            raise _complex(name, data.dtype)
        data = data.detach()
        if data.dtype == dtype and (device is None or data.device == torch.device(device)):
            tensor = data  # used as it is, whatever its layout: no copy
        else:
            # A conversion copies anyway: one copy, row-major whatever the source's
            # layout, so that later reductions see the same order from every source.
            tensor = torch.empty(data.shape, dtype=dtype, device=device or data.device).copy_(data)
    else:
        if hasattr(data, "to_numpy") and hasattr(data, "dtypes"):  # pandas
            arr = _frame_to_numpy(data, name, task)
        else:
            try:
                arr = np.asarray(data)
            except ValueError as err:  # ragged nested lists
                raise ValueError(f"{name} is not a rectangular array: {err}") from None
        tensor = torch.from_numpy(_numpy_float(arr, name, _TORCH_TO_NUMPY[dtype]))
        if device is not None:
            tensor = tensor.to(device)
    if not allow_nonfinite:
        check_finite(tensor, name, task)
    return tensor


def _complex(name: str, dtype: Any) -> ValueError:
    """The error for complex data: a ValueError, as scikit-learn's."""
    return ValueError(f"{name} is complex ({dtype}). Complex data not supported: pass its real part ({name}.real), "
                      "or its real and imaginary parts as separate columns.")


def ndim(data: Any) -> int:
    """The number of dimensions of array-like ``data``: its ``ndim``, else that of ``np.asarray(data)``
    (``np.ndim`` would call NumPy's function protocol, which some array-likes refuse); -1 for data that are
    not an array (the conversion says why).

    >>> ndim([1.0, 2.0]), ndim(np.ones((2, 3))), ndim([[1.0], [2.0, 3.0]])
    (1, 2, -1)
    """
    n = getattr(data, "ndim", None)
    if isinstance(n, int):
        return n
    try:
        return np.asarray(data).ndim
    except (TypeError, ValueError):
        return -1


def _dense(data: Any, name: str) -> Any:
    """``data`` as a plain (dense, unmasked) array-like, or an error that says how to make it one.

    None is refused; a NumPy masked array gives its data, refused when any value is masked (its mask
    would be ignored otherwise); sparse matrices (scipy.sparse, torch's sparse layouts) are refused
    rather than densified unseen: the dense copy may not fit in memory, and the fix is one call. A
    :class:`~gradlm.streaming.Stream` is refused by name: only ``fit`` and ``GDRegressor.fit`` read
    one, and they take it before it reaches here.
    """
    if data is None:
        raise TypeError(f"{name} is None; pass an array of numbers.")
    streaming = sys.modules.get(__name__.rpartition(".")[0] + ".streaming")  # no Stream exists before it is imported
    if streaming is not None and isinstance(data, streaming.Stream):
        raise TypeError(f"{name} is a gradlm Stream (data read from disk), which this function does not take: pass "
                        "in-memory arrays (NumPy, pandas or torch). A Stream works with gradlm.fit and "
                        f"GDRegressor.fit; lstsq and suggest_lr take its moments instead: "
                        f"lstsq(None, None, statistics={name}.statistics()), suggest_lr({name}.statistics()).")
    if isinstance(data, torch.Tensor) and data.layout != torch.strided:
        raise TypeError(f"{name} is a sparse torch tensor ({data.layout}, shape {tuple(data.shape)}); gradlm "
                        f"works on dense data: pass {name}.to_dense() (it takes {_size(data.shape, data.dtype)}).")
    sparse = sys.modules.get("scipy.sparse")  # scipy is not imported for this: a sparse matrix means it was
    if sparse is not None and sparse.issparse(data):
        raise TypeError(f"{name} is a scipy.sparse {type(data).__name__} of shape {data.shape}; gradlm works on "
                        f"dense data: pass {name}.toarray() (it takes {_size(data.shape, data.dtype)}).")
    if isinstance(data, np.ma.MaskedArray):
        masked = int(np.ma.count_masked(data))
        if masked:
            raise ValueError(f"{name} is a masked array with {masked} masked value(s); gradlm would ignore the mask: "
                             "drop those rows, or fill them (.filled(value)).")
        return np.ma.getdata(data)
    return data


def _size(shape: Sequence[int], dtype: Any) -> str:
    """Bytes of a dense array of ``shape`` and ``dtype``, for messages: '1.2 MB'."""
    size = float(np.prod(shape)) * (dtype.itemsize if isinstance(dtype, torch.dtype) else np.dtype(dtype).itemsize)
    for unit in ("kB", "MB", "GB"):
        size /= 1e3
        if size < 1e3:
            return f"{size:.3g} {unit}"
    return f"{size / 1e3:.3g} TB"


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
    data = _dense(data, name)
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


def check_finite(tensor: torch.Tensor, name: str, task: str = "fitting") -> None:
    """Raise ValueError naming the count and first row of NaN/Inf entries (to remove before ``task``)."""
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
        f"remove or impute those rows before {task}."
    )


def check_X(
    X: Any,
    *,
    name: str = "X",
    n_features: Optional[int] = None,
    n_outputs: Optional[int] = None,
    dtype: Any = torch.float32,
    device: Any = None,
    task: str = "fitting",
    estimator: Optional[str] = None,
) -> torch.Tensor:
    """Return ``X`` as a 2-D (n, features) tensor; a 1-D ``X`` is one feature column.

    (``n_outputs`` is accepted and ignored, for :func:`check_X_y_view`; ``task`` is
    as in :func:`as_tensor`.) ``estimator``, the name of a scikit-learn estimator
    that checks ``X``, follows scikit-learn's conventions: a 1-D ``X`` is refused
    (one feature, or one row?), and a count of features is told in its words.

    >>> check_X([1.0, 2.0, 3.0]).shape
    torch.Size([3, 1])
    >>> check_X([1.0, 2.0, 3.0], estimator="GDRegressor")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: X is 1-D (shape (3,)), but GDRegressor expects 2-D X (rows, features). Reshape your data either ...
    """
    X = as_tensor(X, name, dtype=dtype, device=device, task=task)
    if X.ndim == 1:
        if estimator is not None:
            raise ValueError(
                f"{name} is 1-D (shape {tuple(X.shape)}), but {estimator} expects 2-D {name} (rows, features). "
                f"Reshape your data either using {name}.reshape(-1, 1) if your data has a single feature or "
                f"{name}.reshape(1, -1) if it contains a single sample.")
        X = X.reshape(-1, 1)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, features); got shape {tuple(X.shape)}.")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has 0 rows; pass at least one row of data.")
    if X.shape[1] == 0:  # (scikit-learn's words, which its checks look for)
        raise ValueError(f"{name} has 0 feature(s) (shape={tuple(X.shape)}) while a minimum of 1 is required; "
                         "pass at least one column.")
    if n_features is not None and X.shape[1] != n_features:
        if estimator is not None:
            raise ValueError(f"{name} has {X.shape[1]} features, but {estimator} is expecting {n_features} "
                             "features as input; pass the same columns it was fitted with.")
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
    task: str = "fitting",
) -> torch.Tensor:
    """Return ``y`` as a 2-D (n, outputs) tensor with ``n_rows`` rows.

    A 1-D ``y`` is one output column; it is an error for a model with several
    outputs (it would otherwise broadcast into a wrong loss).

    >>> check_y([1.0, 2.0], n_rows=2, n_outputs=1).shape
    torch.Size([2, 1])
    """
    y = as_tensor(y, name, dtype=dtype, device=device, task=task)
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


@overload
def check_int(value: Any, name: str, *, minimum: int = ..., maximum: Optional[int] = ...,
              allow_none: Literal[False] = ...) -> int: ...
@overload
def check_int(value: Any, name: str, *, minimum: int = ..., maximum: Optional[int] = ...,
              allow_none: bool = ...) -> Optional[int]: ...
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
        result = int(float(value))  # a whole-number float (R's 50, NumPy floats): exact
    else:
        raise TypeError(f"{name} must be a whole number >= {minimum}; got {value!r}.")
    if result < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {result}.")
    if maximum is not None and result > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {result}.")
    return result


@overload
def check_float(value: Any, name: str, *, positive: bool = ..., nonnegative: bool = ...,
                allow_none: Literal[False] = ...) -> float: ...
@overload
def check_float(value: Any, name: str, *, positive: bool = ..., nonnegative: bool = ...,
                allow_none: bool = ...) -> Optional[float]: ...
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
