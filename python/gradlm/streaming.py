"""Data larger than memory: read from disk chunk by chunk, for full-batch and mini-batch training.

:func:`stream` opens a Parquet file, a folder of Parquet files, or a pair of
``.npy`` files (opened as memory maps) without reading them. The data are
divided into *units* (a Parquet row group, or ``chunk_rows`` rows of a
``.npy`` file), read as chunks of at most ``chunk_rows`` rows:

- **Full batch** needs one pass: the float64 sufficient statistics
  (:class:`~gradlm.analytic.SufficientStatistics`) are merged chunk by chunk,
  after which every epoch costs O(d²) and touches no data. The result equals
  the in-memory fit's to float64 rounding.
- **Mini-batch** SGD reads the data once per epoch. Shuffling is two-level:
  the units are visited in a random order, and the rows of ``shuffle_chunks``
  consecutive chunks at a time (default 4) are pooled and permuted before they
  are cut into batches (rows left over carry into the next pool, so batches
  are full-size except the epoch's last). A batch therefore mixes rows of a
  few chunks, not of the whole data set: the order is random but not a
  uniform permutation of all rows, as in-memory training draws. Raise
  ``shuffle_chunks`` to mix more widely, at that many chunks of memory.

Peak memory is set by ``chunk_rows`` (and ``shuffle_chunks``), not by the
number of rows: mini-batch pools live in buffers allocated once an epoch.
(A Parquet row group is decoded in pieces of ``chunk_rows`` rows, but its
compressed bytes are read whole: write row groups of a sensible size, as
pyarrow's default 1M rows is.) ``shuffle="batches"`` visits the units in a
random order and keeps each pool's rows as they lie (no permutation).

For distributed training (:mod:`gradlm.distributed`), :meth:`Stream.shard`
gives each process every ``world``-th unit.
"""

from __future__ import annotations

import math
import mmap
import os
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence, Union

import numpy as np
import torch

from .analytic import SufficientStatistics
from .validation import check_int, check_roles, check_unique_columns

CHUNK_ROWS = 1 << 16
SHUFFLE_CHUNKS = 4


def stream(path: Any, target: Union[str, Sequence[str], Any], features: Optional[Sequence[str]] = None, *,
           weight: Optional[str] = None, chunk_rows: int = CHUNK_ROWS) -> "Stream":
    """Open data on disk for :func:`gradlm.fit` and :class:`gradlm.GDRegressor` without reading it.

    ``path`` is a ``.parquet`` file or a folder of them (read in name order;
    all with the same columns), with ``target`` the target column name(s) and
    ``features`` the feature columns (default: every other numeric column);
    or a ``.npy`` file of X (n, d), with ``target`` the path of a ``.npy`` of
    y (n,) or (n, k), both opened as memory maps. ``weight`` names a Parquet
    column of row weights (``>= 0``): weighted least squares, trained full
    batch on the weighted moments (see ``sample_weight`` of :func:`gradlm.fit`).

    >>> import os, tempfile, numpy as np, gradlm
    >>> folder = tempfile.mkdtemp()
    >>> X, y = gradlm.datasets.make_regression(1000, 3, seed=0)
    >>> np.save(os.path.join(folder, "X.npy"), X.numpy()); np.save(os.path.join(folder, "y.npy"), y.numpy())
    >>> data = stream(os.path.join(folder, "X.npy"), target=os.path.join(folder, "y.npy"), chunk_rows=300)
    >>> data
    Stream(1000 rows, 3 features, 1 output, 4 units of up to 300 rows)
    """
    chunk_rows = check_int(chunk_rows, "chunk_rows")
    if not isinstance(path, (str, os.PathLike)):
        got = "None" if path is None else f"a {type(path).__name__}"
        raise TypeError("path must be the path of a Parquet file, a folder of them, or a .npy file (a str or "
                        f"pathlib.Path); got {got}. Data already in memory go to gradlm.fit or GDRegressor.fit "
                        "as they are.")
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        if weight is not None:
            raise ValueError("weight names a Parquet column; a .npy stream has none (write the data as Parquet).")
        return _npy_stream(p, target, chunk_rows)
    if p.is_dir() or suffix in (".parquet", ".pq"):
        return _parquet_stream(p, target, features, chunk_rows, weight)
    raise ValueError(f"path {str(path)!r} is neither a .parquet file, a folder of them, nor a .npy file; "
                     "CSV files are read whole by gradlm.io.read_csv.")


class Stream:
    """Training data on disk, as units of rows read on demand (see :mod:`gradlm.streaming`)."""

    def __init__(self, units: list, n_features: int, n_outputs: int, feature_names: Optional[list],
                 target_names: Optional[list], chunk_rows: int, description: str,
                 weight_name: Optional[str] = None) -> None:
        # each unit: (reader, rows); reader(chunk_rows) yields (X, y) float64 NumPy chunks, (X, y, w) with weights
        self.units = units
        self.weight_name = weight_name
        self.first_rows = [int(r) for r in np.cumsum([0] + [rows for _, rows in units])[:-1]]  # for messages
        self.n_features, self.n_outputs = n_features, n_outputs
        self.feature_names, self.target_names = feature_names, target_names
        self.chunk_rows = chunk_rows
        self.description = description
        self.center: Optional[torch.Tensor] = None
        self.scale: Optional[torch.Tensor] = None
        self.y_center: Optional[torch.Tensor] = None
        self.y_scale: Optional[torch.Tensor] = None

    @property
    def n(self) -> int:
        return sum(rows for _, rows in self.units)

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        out = "output" if self.n_outputs == 1 else "outputs"
        return (f"Stream({self.n} rows, {self.n_features} features, {self.n_outputs} {out}, "
                f"{len(self.units)} units of up to {max((r for _, r in self.units), default=0)} rows)")

    def shard(self, rank: int, world: int) -> "Stream":
        """The units this process of ``world`` reads: every ``world``-th, from ``rank``."""
        out = self._copy()
        out.units = self.units[rank::world]
        out.first_rows = self.first_rows[rank::world]
        return out

    def standardized(self, center: torch.Tensor, scale: torch.Tensor, y_center: Optional[torch.Tensor] = None,
                     y_scale: Optional[torch.Tensor] = None) -> "Stream":
        """The same stream, its X chunks read as ``(X - center) / scale`` (and y's as ``(y - y_center) / y_scale``)."""
        out = self._copy()
        as64 = lambda t: None if t is None else t.to(torch.float64).cpu()  # noqa: E731
        out.center, out.scale, out.y_center, out.y_scale = as64(center), as64(scale), as64(y_center), as64(y_scale)
        return out

    def _copy(self) -> "Stream":
        out = object.__new__(Stream)
        out.__dict__.update(self.__dict__)
        return out

    def chunks(self, order: Optional[Sequence[int]] = None, dtype: torch.dtype = torch.float64,
               device: Any = None, with_weights: bool = False) -> Iterator[tuple]:
        """``(X, y)`` tensors of at most ``chunk_rows`` rows, unit by unit (in ``order`` if given);
        ``(X, y, w)`` with ``with_weights`` (``w`` None for a stream without weights)."""
        for index in (range(len(self.units)) if order is None else order):
            reader, _ = self.units[index]
            row = self.first_rows[index]
            for block in reader(self.chunk_rows):
                X = torch.from_numpy(block[0])
                y = torch.from_numpy(block[1])
                w = None if len(block) < 3 else torch.from_numpy(block[2])
                if w is not None and not bool((torch.isfinite(w) & (w >= 0)).all()):
                    first = row + int(torch.nonzero(~(torch.isfinite(w) & (w >= 0)))[0, 0])
                    raise ValueError(f"weight column {self.weight_name!r} has a missing, negative or infinite "
                                     f"value, the first in row {first} of {self.description} (counting from 0); "
                                     "weights must be finite and >= 0.")
                for name, values in (("X", X), ("y", y)):
                    if not bool(torch.isfinite(values.sum())) and not bool(torch.isfinite(values).all()):
                        first = row + int(torch.nonzero(~torch.isfinite(values).all(dim=1))[0, 0])
                        raise ValueError(f"{name} contains NaN or infinite values, the first in row {first} of "
                                         f"{self.description} (counting from 0); remove or impute those rows.")
                row += X.shape[0]
                if self.center is not None:
                    assert self.scale is not None  # (set together, by standardized)
                    X = (X - self.center) / self.scale
                if self.y_scale is not None:
                    assert self.y_center is not None
                    y = (y - self.y_center) / self.y_scale
                if with_weights:
                    yield X.to(dtype=dtype, device=device), y.to(dtype=dtype, device=device), w
                else:
                    yield X.to(dtype=dtype, device=device), y.to(dtype=dtype, device=device)

    def statistics(self, allow_empty: bool = False) -> Any:
        """The float64 sufficient statistics of all rows (weighted, with a weight column): one pass, one chunk in
        memory at a time. With ``allow_empty`` (a process's shard), None when no row has weight."""
        return SufficientStatistics.from_chunks(self.chunks(with_weights=True), allow_empty=allow_empty)

    def batches(self, batch_size: int, generator: Optional[torch.Generator], shuffle: Union[bool, str] = True,
                shuffle_chunks: int = SHUFFLE_CHUNKS, dtype: torch.dtype = torch.float32,
                device: Any = None, copy: bool = True) -> Iterator[tuple]:
        """One epoch of ``(X, y)`` mini-batches, shuffled within and across chunks (see the module's docstring).

        Every batch has ``batch_size`` rows but the epoch's last; there are
        :meth:`batch_count` of them (distributed training relies on it). The
        pools live in buffers allocated once per epoch; ``copy=False`` (what
        training uses) yields views of them, each valid until the next batch
        is asked for. (A fresh pair of tensors per pool let the C allocator
        keep each freed pool, its ``mmap`` threshold rising after the first:
        an epoch's memory grew with the rows, 27 MB at 2e5 rows and 104 MB at
        6e6; it is now the buffers', whatever the rows.)
        """
        order = (torch.randperm(len(self.units), generator=generator).tolist() if shuffle
                 else list(range(len(self.units))))
        shuffle = shuffle is True or shuffle == 1  # ("batches": the units' order only, the rows as they lie)
        capacity = shuffle_chunks * self.chunk_rows + batch_size
        buffers: list = []  # [X, y, X shuffled, y shuffled], allocated at the first chunk
        filled = 0  # rows in the buffers: those carried from the last pool, then this pool's

        def emit(last: bool) -> Iterator[tuple]:
            nonlocal filled
            if not filled:
                return
            X, y = buffers[0][:filled], buffers[1][:filled]
            if shuffle:  # (the same draw as torch.randperm(filled), in a buffer of its own)
                perm = torch.randperm(filled, generator=generator, out=buffers[4][:filled]).to(X.device)
                X = torch.index_select(X, 0, perm, out=buffers[2][:filled])
                y = torch.index_select(y, 0, perm, out=buffers[3][:filled])
            full = filled if last else (filled // batch_size) * batch_size
            for b in range(0, full, batch_size):
                Xb, yb = X[b:b + batch_size], y[b:b + batch_size]
                yield (Xb.clone(), yb.clone()) if copy else (Xb, yb)
            rest = filled - full  # fewer than batch_size rows, carried to the front for the next pool
            if rest:
                buffers[0][:rest] = X[full:filled].clone()
                buffers[1][:rest] = y[full:filled].clone()
            filled = rest

        pooled = 0
        for X, y in self.chunks(order, dtype=dtype, device=device):
            if not buffers:
                buffers = [X.new_empty((capacity, X.shape[1])), y.new_empty((capacity, y.shape[1]))]
                if shuffle:
                    buffers += [torch.empty_like(buffers[0]), torch.empty_like(buffers[1]),
                                torch.empty(capacity, dtype=torch.int64)]
            m = X.shape[0]
            buffers[0][filled:filled + m] = X
            buffers[1][filled:filled + m] = y
            filled += m
            pooled += 1
            if pooled == shuffle_chunks:
                yield from emit(last=False)
                pooled = 0
        yield from emit(last=True)

    def batch_count(self, batch_size: int) -> int:
        """Number of mini-batches in one epoch."""
        return math.ceil(self.n / batch_size)


def statistics_of(data: Stream, distributed: bool = False) -> SufficientStatistics:
    """The stream's statistics; with ``distributed``, this process's shard's, merged over all processes."""
    if not distributed:
        return data.statistics()
    from .distributed import merge_statistics, setup

    shard = data.shard(*setup())
    return merge_statistics(shard.statistics(allow_empty=True) if shard.units else None)


def _npy_stream(path: Path, target: Any, chunk_rows: int) -> Stream:
    if not isinstance(target, (str, Path)) or Path(target).suffix != ".npy":
        raise ValueError("with a .npy file of X, target must be the path of a .npy file of y.")
    X, y = _MappedNpy(path, "X"), _MappedNpy(Path(target), "y")
    if X.array.ndim != 2:
        raise ValueError(f"X in {path} must be 2-D (rows, features); got shape {X.array.shape}.")
    n = X.array.shape[0]
    if y.array.ndim not in (1, 2):
        raise ValueError(f"y in {target} must be 1-D or 2-D (rows, outputs); got shape {y.array.shape}.")
    if y.array.shape[0] != n:
        raise ValueError(f"X and y have different numbers of rows ({n} and {y.array.shape[0]}); "
                         "pass one target row per input row.")
    if n == 0 or X.array.shape[1] == 0:
        raise ValueError(f"X in {path} has shape {X.array.shape}; pass at least one row and one column.")
    k = 1 if y.array.ndim == 1 else y.array.shape[1]

    def unit(start: int, stop: int):
        def read(_chunk_rows: int):
            yield X.rows(start, stop), y.rows(start, stop).reshape(stop - start, k)
        return read

    units = [(unit(s, min(s + chunk_rows, n)), min(s + chunk_rows, n) - s) for s in range(0, n, chunk_rows)]
    return Stream(units, X.array.shape[1], k, None, None, chunk_rows, str(path))


class _MappedNpy:
    """A C-ordered .npy file mapped read-only. Rows are copied out as float64, then their pages are
    released from this process (they stay in the OS's file cache), so resident memory stays at a
    chunk's size however much of the file has been read."""

    def __init__(self, path: Path, name: str) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"{name} file {str(path)!r} does not exist.")
        with open(path, "rb") as fh:
            try:
                version = np.lib.format.read_magic(fh)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read_header(fh)
            except ValueError as err:
                raise ValueError(f"{name} file {str(path)!r} is not a .npy file, or its header is damaged ({err}); "
                                 "save it again (np.save).") from None
            offset = fh.tell()
            size = int(np.prod(shape)) * dtype.itemsize
            held = os.fstat(fh.fileno()).st_size - offset
            if held < size:  # (numpy's own message: "buffer is too small for requested array")
                raise ValueError(f"{name} file {str(path)!r} is truncated or damaged: its header announces shape "
                                 f"{shape} of {dtype} ({size} bytes of data), but {held} bytes follow the header; "
                                 "save it again (np.save).")
            if dtype.kind not in "biuf":
                raise TypeError(f"{name} in {str(path)!r} is {dtype}, not numbers.")
            if fortran and len(shape) > 1:
                raise ValueError(f"{name} in {str(path)!r} is stored column-major; save it with "
                                 "np.save(path, np.ascontiguousarray(a)) to stream its rows.")
            self.map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        self.array = (np.ndarray(shape, dtype, buffer=self.map, offset=offset) if size
                      else np.empty(shape, dtype))
        self.offset = offset
        self.row_bytes = dtype.itemsize * int(np.prod(shape[1:]))

    def rows(self, start: int, stop: int) -> np.ndarray:
        out = np.array(self.array[start:stop], dtype=np.float64, order="C")
        if self.map is not None and hasattr(mmap, "MADV_DONTNEED"):
            page = mmap.PAGESIZE
            first = (self.offset + start * self.row_bytes) // page * page
            last = self.offset + stop * self.row_bytes
            self.map.madvise(mmap.MADV_DONTNEED, first, last - first)
        return out


def _parquet_stream(path: Path, target: Any, features: Optional[Sequence[str]], chunk_rows: int,
                    weight: Optional[str] = None) -> Stream:
    try:
        import pyarrow  # noqa: F401  (pyarrow is the parquet extra, not a dependency)
        import pyarrow.types as pat
    except ImportError as err:
        if isinstance(err, ModuleNotFoundError) and err.name == "pyarrow":
            raise ImportError('reading Parquet needs pyarrow, which is not installed: pip install "gradlm[parquet]" '
                              "(or pip install pyarrow).") from None
        raise ImportError(f"reading Parquet needs pyarrow, which is installed but fails to import ({err}); "
                          'reinstall it: pip install --force-reinstall "gradlm[parquet]".') from err
    if not path.exists():
        raise FileNotFoundError(f"{str(path)!r} does not exist.")
    targets, features = _column_list(target, "target"), _column_list(features, "features")
    assert targets is not None  # (None stays None for features only)
    check_roles(features, targets)
    if weight is not None and (not isinstance(weight, str) or weight in targets or weight in (features or [])):
        raise ValueError(f"weight must be the name of one column that is neither a target nor a feature; got "
                         f"{weight!r}.")
    files = sorted(path.glob("*.parquet")) + sorted(path.glob("*.pq")) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"folder {str(path)!r} has no .parquet files.")
    schema = _parquet_file(files[0]).schema_arrow
    check_unique_columns(schema.names, str(files[0]))  # (as a CSV's: pyarrow finds no field by a repeated name)
    numeric = [f.name for f in schema if _is_number(pat, f.type)]
    for name in targets + (features or []) + ([weight] if weight else []):
        if name not in schema.names:
            raise ValueError(f"column {name!r} is not in {files[0]}; its columns are {', '.join(schema.names)}.")
        if name not in numeric:
            raise TypeError(f"column {name!r} of {files[0]} is not numeric ({schema.field(name).type}); "
                            "pick numeric columns, or write it as numbers.")
    wanted = features if features is not None else [c for c in numeric if c not in targets and c != weight]
    if not wanted:
        raise ValueError(f"{files[0]} has no numeric feature columns besides the target(s).")
    columns = wanted + targets + ([weight] if weight else [])
    units = []
    for file in files:
        parquet = _parquet_file(file)
        other = parquet.schema_arrow
        if other.names != schema.names:
            raise ValueError(f"{file} has other columns than {files[0]}; the files must share one schema.")
        for name in columns:  # int64 in one file and double in another is fine: both are read as float64
            if not _is_number(pat, other.field(name).type):
                raise TypeError(f"column {name!r} of {file} is {other.field(name).type}, but "
                                f"{schema.field(name).type} in {files[0]}; a column must hold numbers in every "
                                "file: write it as numbers there"
                                + ("." if name in targets else ", or leave it out of the features."))
        meta = parquet.metadata
        for group in range(meta.num_row_groups):
            units.append((_parquet_unit(file, group, columns, len(wanted), len(targets)),
                          meta.row_group(group).num_rows))
    return Stream([u for u in units if u[1] > 0], len(wanted), len(targets), wanted, targets, chunk_rows,
                  str(path), weight)


def _column_list(names: Any, name: str) -> Optional[list]:
    """Column names as a list: one name (a string) or several (a list); None stays None for features."""
    if names is None and name == "features":
        return None
    if isinstance(names, str):
        return [names]
    try:
        listed = list(names)
    except TypeError:
        listed = None
    if listed is None or not all(isinstance(n, str) for n in listed):
        raise TypeError(f"{name} must be a column name, or a list of names; got {names!r}.")
    return listed


def _is_number(pat: Any, arrow_type: Any) -> bool:
    return pat.is_integer(arrow_type) or pat.is_floating(arrow_type) or pat.is_boolean(arrow_type)


def _parquet_file(file: Path) -> Any:
    """``pq.ParquetFile(file)``, or an error that names the file when it is not one (pyarrow's does not)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(file)
    except (pa.ArrowException, OSError) as err:
        raise ValueError(f"{str(file)!r} is not a Parquet file, or it is damaged ({_one_line(err)}); pass "
                         "Parquet files only (a CSV is read by gradlm.io.read_csv).") from None


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())  # pyarrow's messages can span lines


def _parquet_unit(file: Path, group: int, columns: list, n_features: int, n_targets: int):
    def read(chunk_rows: int):
        import pyarrow as pa

        batches = _parquet_file(file).iter_batches(batch_size=chunk_rows, row_groups=[group], columns=columns)
        while True:
            try:
                batch = next(batches, None)
            except (pa.ArrowException, OSError) as err:
                raise ValueError(f"row group {group} of {str(file)!r} cannot be read ({_one_line(err)}); "
                                 "the file is damaged: write it again.") from None
            if batch is None:
                return
            block = np.column_stack([batch.column(i).to_numpy(zero_copy_only=False).astype(np.float64)
                                     for i in range(len(columns))])
            split = n_features + n_targets
            parts = (block[:, :n_features], block[:, n_features:split]) + ((block[:, split],)
                                                                           if block.shape[1] > split else ())
            yield tuple(np.ascontiguousarray(part) for part in parts)
    return read
