"""Saved models: one portable file format that Python and R both read, and that runs no code.

A model file is a `safetensors <https://huggingface.co/docs/safetensors>`_ file,
written here without the library (the format is small): 8 bytes holding the
header's length (little-endian), a JSON header, then the raw little-endian
arrays. Any safetensors reader opens it; loading never unpickles, so a file
cannot run code.

The arrays are ``weight`` (out, in) and ``bias`` (out), on the original scale
of the inputs (``predict`` is ``X @ weight.T + bias``), and optionally
``x_mean``/``x_scale`` (the standardization trained on), ``loss`` (the
training loss per epoch) and ``lstsq_weight``/``lstsq_bias`` (the exact
solution, from R's ``gd_lm``). The header's ``__metadata__`` (strings only, as
the format wants) holds ``format`` ("gradlm"), ``schema_version``, ``kind``
(``LinearModel``, ``GDRegressor`` or ``gd_lm``) and JSON-encoded
``feature_names``, ``target_names``, ``settings``, ``info`` (the stop reason,
row count, losses) and ``r`` (a formula fit's formula, factor levels and
contrasts, which R uses to predict from a data.frame).

Integrity: ``__metadata__["checksum"]`` is the SHA-256 of the rest of the
header (as canonical JSON) and of the arrays' bytes; a file whose checksum
does not match (a flipped bit, a truncated copy, an edit) is refused as
damaged. The checksum catches accidents, not forgery: anyone can write a
file with a matching checksum. What makes a file safe to load is that it is
only ever read as numbers and checked names (see the README's security
paragraph).

Files are written atomically: to a temporary file in the same folder, then
renamed over the destination, so a crash or an interrupt never leaves half a
model behind. A process killed in the middle of a save leaves its temporary
file (``.gradlm-*.tmp``); the next save in that folder removes those more
than an hour old.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

SCHEMA_VERSION = 2  # 2: the checksum (files of version 1 have none and load without)
FORMAT = "gradlm"
KINDS = ("LinearModel", "GDRegressor", "gd_lm")
_DTYPES: dict[str, np.dtype] = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_CODES = {np.dtype("float16"): "F16", np.dtype("float32"): "F32", np.dtype("float64"): "F64"}
MAX_HEADER_BYTES = 16 << 20
ARRAY_NAMES = ("weight", "bias", "x_mean", "x_scale", "y_mean", "y_scale", "loss", "lstsq_weight", "lstsq_bias")
TEMPORARY = (".gradlm-", ".tmp")
STALE_SECONDS = 3600


def checksum(header: dict, data: bytes) -> str:
    """The SHA-256 of a header (without its checksum, as canonical JSON) and the arrays' bytes."""
    meta = {k: v for k, v in header.get("__metadata__", {}).items() if k != "checksum"}
    canonical = json.dumps({**header, "__metadata__": meta}, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8"))
    digest.update(data)
    return "sha256:" + digest.hexdigest()


def write_model_file(path: Any, arrays: dict, metadata: dict) -> None:
    """Write ``arrays`` (name -> float32/float64 array) and ``metadata`` (name -> JSON-able) atomically."""
    header: dict = {"__metadata__": {"format": FORMAT, "schema_version": str(SCHEMA_VERSION)}}
    for key, value in metadata.items():
        if value is not None:
            header["__metadata__"][key] = value if isinstance(value, str) else json.dumps(value)
    blobs, offset = [], 0
    for name, value in arrays.items():
        if value is None:
            continue
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            if value.dtype == torch.bfloat16:  # NumPy has no bfloat16: stored exactly as float32
                value = value.float()
            value = value.numpy()
        arr = np.ascontiguousarray(value)
        if arr.dtype not in _CODES:
            arr = arr.astype(np.float64)
        blob = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _CODES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"]["checksum"] = checksum(header, b"".join(blobs))
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the arrays start 8-byte aligned
    path = Path(path)
    # A short temporary name beside the file (the file's own name may be as long as the system allows);
    # errors name the file asked for, not the temporary one.
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=TEMPORARY[0], suffix=TEMPORARY[1])
    except OSError as err:
        raise _naming(err, path) from None
    _remove_stale_temporaries(folder)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # the permissions open() would give (mkstemp's are private)
        with os.fdopen(fd, "wb") as fh:
            fh.write(struct.pack("<Q", len(text)))
            fh.write(text)
            for blob in blobs:
                fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise _naming(err, path) from None
        raise


def _remove_stale_temporaries(folder: Path) -> None:
    """Remove the temporary files of saves killed more than an hour ago (a save takes milliseconds)."""
    now = time.time()
    try:
        names = [n for n in os.listdir(folder) if n.startswith(TEMPORARY[0]) and n.endswith(TEMPORARY[1])]
        for name in names:
            stale = folder / name
            if now - stale.stat().st_mtime > STALE_SECONDS:
                stale.unlink()
    except OSError:  # a listing or a removal refused: nothing lost, the save goes on
        pass


def _naming(err: OSError, path: Path) -> OSError:
    """The same error (its errno and so its class), naming the file asked for."""
    if err.errno is None:
        return OSError(f"cannot save to {str(path)!r}: {err}")
    return OSError(err.errno, f"cannot save to {str(path)!r}: {err.strerror}")


def read_model_file(path: Any) -> tuple:
    """``(arrays, metadata)`` of a gradlm model file; anything else is refused with a ValueError.

    Every malformed, truncated or altered file gets one error that names the
    file and what is wrong with it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} is not a file; pass the path of a model saved by gradlm.")
    not_ours = (f"{str(path)!r} is not a gradlm model file (a safetensors file written by gradlm.save or "
                "save_model); it was not loaded. gradlm never loads pickles: re-save the model with gradlm.save "
                "(Python) or save_model() (R).")
    damaged = f"{str(path)!r} is a damaged model file"
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise ValueError(not_ours)
        (length,) = struct.unpack("<Q", head)
        if length < 2 or length > MAX_HEADER_BYTES:
            raise ValueError(not_ours)
        raw = fh.read(length)
        data = fh.read()
    if not raw.lstrip().startswith(b"{"):
        raise ValueError(not_ours)
    if len(raw) < length:
        raise ValueError(f"{damaged}: it ends inside its header (truncated); save the model again.")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: bad JSON, or an integer too long
        raise ValueError(f"{damaged}: its header is not valid JSON.") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(not_ours)
    if not all(isinstance(v, str) for v in meta.values()):
        raise ValueError(f"{damaged}: its metadata are not all strings.")
    again = "save the model again from the fit, or restore the file from a copy."
    if "schema_version" not in meta:  # (every version of gradlm wrote one)
        raise ValueError(f"{damaged}: it has no schema version; {again}")
    try:
        version = int(meta["schema_version"])
    except ValueError:
        version = None
    if version is None or version < 1:  # (below 1, the checksum check below would be skipped)
        raise ValueError(f"{damaged}: its schema version is {meta['schema_version']!r}, not a whole number from 1 "
                         f"to {SCHEMA_VERSION}; {again}")
    if version > SCHEMA_VERSION:
        raise ValueError(f"{str(path)!r} has schema version {version}; this gradlm reads up to "
                         f"{SCHEMA_VERSION}. Upgrade gradlm to load it.")
    if version >= 2 and meta.get("checksum") != checksum(header, data):
        what = "has no checksum" if "checksum" not in meta else "does not match its checksum"
        raise ValueError(f"{damaged}: it {what} (altered or corrupted since it was saved); {again}")
    header = dict(header)
    del header["__metadata__"]
    arrays = {}
    for name, spec in header.items():
        if name not in ARRAY_NAMES:
            raise ValueError(f"{damaged}: it holds an array {name!r}, which gradlm does not write.")
        arrays[name] = _array(name, spec, data, damaged)
    try:
        metadata = {key: (value if key in ("format", "kind", "dtype", "checksum") else _json(value))
                    for key, value in meta.items()}
    except RecursionError:
        raise ValueError(f"{damaged}: its metadata are nested too deeply.") from None
    if metadata.get("kind") not in KINDS or "weight" not in arrays or "bias" not in arrays:
        raise ValueError(f"{damaged}: it lacks the model's kind, weight or bias.")
    _check_shapes(arrays, metadata, damaged)
    return arrays, metadata


def _array(name: str, spec: Any, data: bytes, damaged: str) -> np.ndarray:
    """One array of the file, from its description: dtype, shape (whole numbers >= 0) and byte range."""
    def whole(values: Any, count: Optional[int] = None) -> bool:
        return (isinstance(values, list) and (count is None or len(values) == count)
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values))

    if (not isinstance(spec, dict) or spec.get("dtype") not in _DTYPES or not whole(spec.get("shape"))
            or not whole(spec.get("data_offsets"), 2) or len(spec["shape"]) > 2):
        raise ValueError(f"{damaged}: array {name!r} is badly described (its dtype, shape or offsets).")
    dtype, shape = _DTYPES[spec["dtype"]], tuple(spec["shape"])
    begin, end = spec["data_offsets"]
    if not begin <= end <= len(data) or end - begin != dtype.itemsize * math.prod(shape):
        raise ValueError(f"{damaged}: array {name!r} of shape {shape} does not fit the file's {len(data)} bytes "
                         "of data.")
    return np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _check_shapes(arrays: dict, metadata: dict, damaged: str) -> None:
    """The arrays and names agree: weight (out, in), bias (out,), per-feature and per-target lists."""
    weight = arrays["weight"]
    if weight.ndim != 2 or arrays["bias"].shape != (weight.shape[0],):
        raise ValueError(f"{damaged}: weight {weight.shape} and bias {arrays['bias'].shape} are not (out, in) "
                         "and (out,).")
    for name, values in arrays.items():
        if name != "loss" and not np.isfinite(values).all():  # (a loss curve may end at a divergence)
            raise ValueError(f"{damaged}: its {name} holds NaN or infinite values; a fitted model's are finite.")
    n_out, n_in = weight.shape
    expected = {"x_mean": (n_in,), "x_scale": (n_in,), "y_mean": (n_out,), "y_scale": (n_out,),
                "lstsq_weight": (n_out, n_in), "lstsq_bias": (n_out,)}
    for name, shape in expected.items():
        if name in arrays and arrays[name].shape != shape:
            raise ValueError(f"{damaged}: {name} has shape {arrays[name].shape}, not {shape}.")
    if "loss" in arrays and arrays["loss"].ndim != 1:
        raise ValueError(f"{damaged}: loss is not one value per epoch.")
    for key, count in (("feature_names", n_in), ("target_names", n_out)):
        names = metadata.get(key)
        if names is not None and (not isinstance(names, list) or len(names) != count
                                  or not all(isinstance(v, str) for v in names)):
            raise ValueError(f"{damaged}: {key} are not {count} names.")
    for key in ("settings", "info", "r"):
        if metadata.get(key) is not None and not isinstance(metadata[key], dict):
            raise ValueError(f"{damaged}: {key} is not a mapping.")
    info = metadata.get("info") or {}
    if "one_target" in info:  # (load() returns 1-D coefficients for one target: only a one-output weight has them)
        one = info["one_target"]
        if not isinstance(one, bool):
            raise ValueError(f"{damaged}: its info's one_target is {json.dumps(one)}, not true or false.")
        if one and n_out != 1:
            raise ValueError(f"{damaged}: its info says one_target, but weight has {n_out} outputs.")


def _json(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def save(obj: Any, path: Any) -> None:
    """Save a fitted ``GDRegressor`` or a ``LinearModel`` to ``path`` (see the module's docstring).

    >>> import os, tempfile, gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> est = gradlm.GDRegressor(epochs=200, lr=0.5, standardize=True, seed=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "crops.safetensors")
    >>> gradlm.save(est, path)
    >>> (gradlm.load(path).predict(X) == est.predict(X)).all()
    True
    """
    from .estimator import GDRegressor
    from .model import LinearModel

    if isinstance(obj, LinearModel):
        dtype = str(obj.weight.dtype).replace("torch.", "")
        write_model_file(path, {"weight": obj.weight, "bias": obj.bias}, {"kind": "LinearModel", "dtype": dtype})
        return
    if not isinstance(obj, GDRegressor):
        raise TypeError(f"obj must be a gradlm.GDRegressor or gradlm.LinearModel; got {type(obj).__name__}.")
    if not hasattr(obj, "coef_"):
        raise ValueError("the GDRegressor is not fitted yet; call fit() before saving it.")
    history = obj.history_
    names = getattr(obj, "feature_names_in_", None)
    write_model_file(
        path,
        {"weight": np.atleast_2d(obj.coef_), "bias": np.atleast_1d(obj.intercept_), "x_mean": obj.x_mean_,
         "x_scale": obj.x_scale_, "y_mean": getattr(obj, "y_mean_", None), "y_scale": getattr(obj, "y_scale_", None),
         "loss": history.loss if history is not None else None},
        {
            "kind": "GDRegressor",
            "feature_names": None if names is None else [str(n) for n in names],
            "target_names": obj.target_names_,
            "settings": {k: v for k, v in obj.get_params().items() if _plain(v)},
            "info": {"one_target": bool(obj._y_1d), "n_features": int(obj.n_features_in_),
                     "stop_reason": history.stop_reason if history is not None else None,
                     "training": _plain_dict(history.settings) if history is not None else None,
                     "report": _report_dict(getattr(obj, "report_", None))},
        },
    )


def load(path: Any) -> Any:
    """A model saved by :func:`save` (or by R's ``save_model``): a ``GDRegressor`` or a ``LinearModel``.

    A fit saved from R's ``gd_lm`` loads as a fitted ``GDRegressor`` whose
    ``feature_names_in_`` are the model matrix's columns. Anything but a
    gradlm model file (a pickle, say) is refused unread.
    """
    from .estimator import GDRegressor
    from .history import History
    from .model import LinearModel

    arrays, meta = read_model_file(path)
    weight, bias = arrays["weight"], arrays["bias"]
    if meta["kind"] == "LinearModel":
        dtype = meta.get("dtype", str(weight.dtype))
        if dtype not in ("float16", "bfloat16", "float32", "float64"):
            raise ValueError(f"{str(path)!r} is a damaged model file: dtype {dtype!r}.")
        dtype = getattr(torch, dtype)
        return LinearModel.from_params(torch.from_numpy(weight).to(dtype), torch.from_numpy(bias).to(dtype),
                                       dtype=dtype)
    info = meta.get("info") or {}
    settings = meta.get("settings") or {}
    est = GDRegressor(**{k: v for k, v in settings.items() if k in GDRegressor._param_names()})
    n_out, n_in = weight.shape
    mean = arrays.get("x_mean", np.zeros(n_in))
    scale = arrays.get("x_scale", np.ones(n_in))
    one = bool(info.get("one_target", n_out == 1 and meta["kind"] == "gd_lm"))
    est._y_1d = one
    est.coef_ = weight[0].astype(np.float64) if one else weight.astype(np.float64)
    est.intercept_ = float(bias[0]) if one else bias.astype(np.float64)
    est.n_features_in_ = n_in
    if meta.get("feature_names"):
        est.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
    est.target_names_ = meta.get("target_names")
    y_mean = arrays.get("y_mean", np.zeros(n_out))
    y_scale = arrays.get("y_scale", np.ones(n_out))
    est.x_mean_, est.x_scale_, est.y_mean_, est.y_scale_ = mean, scale, y_mean, y_scale
    # the trained model, on the standardized scale it was trained on
    trained_w = weight * scale / y_scale[:, None]
    trained_b = (bias + weight @ mean - y_mean) / y_scale
    est.model_ = LinearModel.from_params(trained_w, trained_b, dtype=torch.float64)
    report = report_from_dict(info.get("report"))
    est.report_, est.converged_ = report, bool(report is not None and report.converged)
    loss = arrays.get("loss")
    est.history_ = None if loss is None else History(
        loss=loss.astype(np.float64), weight_path=np.empty((0, n_out, n_in)), bias_path=np.empty((0, n_out)),
        weight=trained_w, bias=trained_b, stop_reason=info.get("stop_reason") or "epochs",
        settings=info.get("training") or {})
    est.n_iter_ = 0 if loss is None else len(loss)
    return est


def _report_dict(report: Any) -> Optional[dict]:
    if report is None:
        return None
    out = {k: v for k, v in report.to_dict().items() if k != "verdict"}
    return {k: (v if _plain(v) or k == "r_squared" else None) for k, v in out.items()}


def report_from_dict(data: Any) -> Any:
    """A saved FitReport back; None when absent or not of the expected fields (files are data, never code)."""
    from dataclasses import fields

    from .report import FitReport

    if not isinstance(data, dict):
        return None
    from dataclasses import MISSING

    names = {f.name for f in fields(FitReport)}
    required = {f.name for f in fields(FitReport) if f.default is MISSING and f.default_factory is MISSING}
    if not required <= set(data) <= names or not all(_plain(v) for k, v in data.items() if k != "r_squared"):
        return None
    if not isinstance(data["r_squared"], list) or not all(isinstance(v, (int, float)) for v in data["r_squared"]):
        return None
    return FitReport(**data)


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _plain_dict(d: Optional[dict]) -> dict:
    return {k: v for k, v in (d or {}).items() if _plain(v)}
