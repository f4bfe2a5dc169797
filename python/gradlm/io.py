"""Reading data files: a CSV with named feature and target columns."""

from __future__ import annotations

import csv
import os
import warnings
from typing import Optional, Sequence, Union, overload

import numpy as np
import torch

from .datasets import Dataset
from .validation import check_roles, check_unique_columns


@overload
def _names(value: Union[str, Sequence[str]], name: str) -> list[str]: ...
@overload
def _names(value: None, name: str) -> None: ...
@overload
def _names(value: Union[str, Sequence[str], None], name: str) -> Optional[list[str]]: ...
def _names(value: Union[str, Sequence[str], None], name: str) -> Optional[list[str]]:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else [str(v) for v in value]
    names = [v for v in names if v]
    if not names:
        raise ValueError(f"{name} names no columns; pass one or more column names.")
    return names


def read_csv(
    path: Union[str, os.PathLike],
    target: Union[str, Sequence[str]],
    features: Union[str, Sequence[str], None] = None,
    dtype: torch.dtype = torch.float32,
) -> Dataset:
    """Read a CSV with a header row into a :class:`~gradlm.datasets.Dataset` ``(X, y)``.

    ``target`` names the target column(s) (a list or a comma-separated
    string); ``features`` the feature columns, by default every other numeric
    column (non-numeric ones, such as a region label, are left out). A named
    column that is missing or not numeric is an error that names it.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "d.csv")
    >>> _ = open(path, "w").write("region,x,y\\nA,1,3\\nB,2,5\\n")
    >>> data = read_csv(path, target="y")
    >>> data.X.tolist(), data.y.tolist(), data.feature_names
    ([[1.0], [2.0]], [[3.0], [5.0]], ['x'])
    """
    targets = _names(target, "target")
    wanted = _names(features, "features")
    check_roles(wanted, targets)
    # utf-8-sig: a byte-order mark (as spreadsheet programs write one) is not part of the first column's name
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
            rows = [row for row in reader if row]
        except StopIteration:
            raise ValueError(f"{path} is empty; a CSV with a header row is needed.") from None
        except UnicodeDecodeError as err:
            raise ValueError(f"{path} is not UTF-8 text (byte {err.object[err.start]:#04x}: {err.reason}): it is not "
                             "a CSV file, or it was saved in another encoding; save it as a CSV in UTF-8 (Parquet and "
                             ".npy files are read by gradlm.stream).") from None
    check_unique_columns(header, str(path))  # (a dict of columns would keep the last one under both uses of the name)
    if not rows:
        raise ValueError(f"{path} has a header but no data rows.")
    for row_number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path} line {row_number} has {len(row)} fields, the header {len(header)}.")
    columns = {name: [row[j].strip() for row in rows] for j, name in enumerate(header)}

    def numeric(name: str, required: bool) -> Optional[np.ndarray]:
        if name not in columns:
            raise ValueError(f"column {name!r} is not in {path}; its columns are {', '.join(header)}.")
        values = columns[name]
        try:
            return np.array([float(v) if v not in MISSING else np.nan for v in values])
        except ValueError:
            bad = [i for i, v in enumerate(values) if v not in MISSING and not _is_number(v)]
            where = f"line {bad[0] + 2} has {values[bad[0]]!r}"
            if required:
                raise TypeError(f"column {name!r} of {path} is not numeric ({where}); pick numeric columns.") from None
            if len(bad) < len(values):  # mostly numbers: a typo, more likely than a label column
                warnings.warn(f"column {name!r} of {path} is left out of the features: it is not numeric "
                              f"({where}). Fix the value, or choose the features (features=, or --features).",
                              stacklevel=3)
            return None

    def required(name: str) -> np.ndarray:
        col = numeric(name, True)
        assert col is not None  # (a required column is numeric or an error)
        return col

    y_cols = [required(t) for t in targets]
    if wanted is None:
        candidates = [h for h in header if h not in targets]
        found = [(h, numeric(h, False)) for h in candidates]
        wanted = [h for h, col in found if col is not None]
        x_cols = [col for _, col in found if col is not None]
        if not wanted:
            raise ValueError(f"{path} has no numeric feature columns besides the target(s).")
    else:
        x_cols = [required(f) for f in wanted]
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    X = torch.from_numpy(np.column_stack(x_cols).astype(np_dtype))
    y = torch.from_numpy(np.column_stack(y_cols).astype(np_dtype))
    return Dataset(X, y, wanted, targets)


MISSING = ("", "NA", "NaN", "nan")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
