"""Saved models: the round trip, an independent reader, refusal of pickles, atomic writes."""

import os
import pickle
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import gradlm
from gradlm import serialization

X, Y = gradlm.datasets.crops()


@pytest.fixture
def fitted():
    frame = pd.DataFrame(X.numpy(), columns=["temperature", "rainfall", "humidity"])
    targets = pd.DataFrame(Y.numpy(), columns=["mangoes", "oranges"])
    return gradlm.GDRegressor(epochs=300, lr=0.5, standardize=True, seed=0).fit(frame, targets), frame


def test_estimator_round_trip_predicts_identically(tmp_path, fitted):
    est, frame = fitted
    path = tmp_path / "crops.safetensors"
    gradlm.save(est, path)
    back = gradlm.load(path)
    np.testing.assert_array_equal(back.predict(frame), est.predict(frame))
    np.testing.assert_array_equal(back.coef_, est.coef_)
    assert list(back.feature_names_in_) == list(est.feature_names_in_)
    assert back.target_names_ == ["mangoes", "oranges"]
    assert back.get_params() == est.get_params()
    np.testing.assert_array_equal(back.history_.loss, est.history_.loss)
    # the loaded estimator's torch model is the trained one, on the standardized scale
    np.testing.assert_allclose(back.model_.weight.detach().numpy(), est.model_.weight.detach().numpy(), rtol=1e-6)


def test_one_target_and_linear_model_round_trip(tmp_path):
    est = gradlm.GDRegressor(epochs=50, lr=1e-5, seed=0).fit(X, Y[:, 0])
    gradlm.save(est, tmp_path / "one.safetensors")
    back = gradlm.load(tmp_path / "one.safetensors")
    assert back.coef_.shape == (3,) and isinstance(back.intercept_, float)
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    for dtype in (torch.float32, torch.float64):
        model = gradlm.LinearModel(3, 2, dtype=dtype)
        gradlm.save(model, tmp_path / "m.safetensors")
        loaded = gradlm.load(tmp_path / "m.safetensors")
        assert loaded.weight.dtype == dtype
        assert torch.equal(loaded.weight, model.weight) and torch.equal(loaded.bias, model.bias)


def test_the_file_is_standard_safetensors(tmp_path, fitted):
    """An independent reader (the safetensors library) opens it and finds the same arrays and metadata."""
    import safetensors  # a pinned development requirement
    from safetensors.numpy import load_file

    est, _ = fitted
    path = tmp_path / "crops.safetensors"
    gradlm.save(est, path)
    arrays = load_file(str(path))
    np.testing.assert_array_equal(arrays["weight"], est.coef_)
    np.testing.assert_array_equal(arrays["bias"], est.intercept_)
    with safetensors.safe_open(str(path), "np") as fh:
        meta = fh.metadata()
    assert meta["format"] == "gradlm" and meta["kind"] == "GDRegressor" and meta["schema_version"] == "2"
    assert meta["checksum"].startswith("sha256:")


def test_a_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    for name, write in [("evil.pkl", lambda p: p.write_bytes(pickle.dumps(Payload()))),
                        ("evil.pt", lambda p: torch.save({"x": Payload()}, p))]:
        path = tmp_path / name
        write(path)
        with pytest.raises(ValueError, match="not a gradlm model file"):
            gradlm.load(path)
    assert not marker.exists()
    # the check is real: unpickling the same file does run it
    pickle.loads((tmp_path / "evil.pkl").read_bytes())
    assert marker.exists()


def test_damaged_and_foreign_files_are_refused(tmp_path, fitted):
    est, _ = fitted
    path = tmp_path / "m.safetensors"
    gradlm.save(est, path)
    data = path.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[:-8])
    with pytest.raises(ValueError, match="damaged"):
        gradlm.load(tmp_path / "cut.safetensors")
    newer = data.replace(b'"schema_version":"2"', b'"schema_version":"9"')
    (tmp_path / "newer.safetensors").write_bytes(newer)
    with pytest.raises(ValueError, match="schema version 9"):
        gradlm.load(tmp_path / "newer.safetensors")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ValueError, match="not a gradlm model file"):
        gradlm.load(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="is not a file"):
        gradlm.load(tmp_path / "missing.safetensors")


def test_writes_are_atomic(tmp_path, fitted, monkeypatch):
    """A failure mid-write leaves the previous file whole and no temporary file behind."""
    est, frame = fitted
    path = tmp_path / "m.safetensors"
    gradlm.save(est, path)
    before = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        gradlm.save(gradlm.LinearModel(3, 2), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_saved_in_one_process_loads_in_another(tmp_path, fitted):
    est, frame = fitted
    path = tmp_path / "m.safetensors"
    gradlm.save(est, path)
    code = ("import sys, gradlm, numpy as np; est = gradlm.load(sys.argv[1]); "
            "X, _ = gradlm.datasets.crops(); print(' '.join(v.hex() for v in est.predict(X.numpy()).ravel()))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    theirs = np.array([float.fromhex(v) for v in out.stdout.split()])
    np.testing.assert_array_equal(theirs, est.predict(frame).ravel())


def test_save_refuses_other_objects(tmp_path):
    with pytest.raises(TypeError, match="must be a gradlm.GDRegressor or gradlm.LinearModel"):
        gradlm.save({"weight": 1}, tmp_path / "x.safetensors")
    assert serialization.KINDS == ("LinearModel", "GDRegressor", "gd_lm")


def test_files_get_the_usual_permissions(tmp_path, fitted):
    est, _ = fitted
    gradlm.save(est, tmp_path / "m.safetensors")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("arrays, metadata, message", [
    ({"weight": np.ones(3), "bias": np.ones(1)}, {}, r"weight \(3,\) and bias"),
    ({"weight": np.ones((1, 3)), "bias": np.ones(2)}, {}, "are not \\(out, in\\)"),
    ({"weight": np.ones((1, 3)), "bias": np.ones(1), "x_mean": np.ones(2)}, {}, "x_mean has shape"),
    ({"weight": np.ones((1, 3)), "bias": np.ones(1)}, {"feature_names": ["a"]}, "feature_names are not 3 names"),
    ({"weight": np.ones((1, 3)), "bias": np.ones(1)}, {"schema_version": "1.0"}, "schema version is '1.0'"),
])
def test_damaged_files_are_named_damaged(tmp_path, arrays, metadata, message):
    path = tmp_path / "bad.safetensors"
    serialization.write_model_file(path, arrays, {"kind": "GDRegressor", **metadata})
    with pytest.raises(ValueError, match=message):
        gradlm.load(path)


def test_every_float_dtype_round_trips(tmp_path):
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        model = gradlm.LinearModel(3, 2, dtype=dtype)
        gradlm.save(model, tmp_path / "m.safetensors")
        loaded = gradlm.load(tmp_path / "m.safetensors")
        assert loaded.weight.dtype == dtype and torch.equal(loaded.weight, model.weight)


def test_a_file_with_nan_parameters_is_refused_as_damaged(tmp_path):
    """R's load_model() accepted NaN weights (predict() gave NaN); Python refused with a message about rows."""
    from gradlm.serialization import write_model_file

    path = tmp_path / "nan.safetensors"
    write_model_file(path, {"weight": np.array([[np.nan, 1.0]]), "bias": np.array([0.0])},
                     {"kind": "GDRegressor", "feature_names": ["a", "b"], "target_names": ["y"]})
    with pytest.raises(ValueError, match=r"is a damaged model file: its weight holds NaN or infinite values"):
        gradlm.load(path)
    from gradlm import r_bridge

    with pytest.raises(ValueError, match="its weight holds NaN"):
        r_bridge.read_model(str(path))


def test_a_long_legal_file_name_saves_and_errors_name_the_users_path(tmp_path):
    """A 251-character name could not be saved (the temporary name added to it), and errors named the hidden
    temporary file."""
    est = gradlm.GDRegressor().fit(np.arange(20.0).reshape(10, 2) ** 0.5, np.arange(10.0))
    path = tmp_path / ("a" * 239 + ".safetensors")
    gradlm.save(est, path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    np.testing.assert_array_equal(gradlm.load(path).coef_, est.coef_)
    missing = tmp_path / "no-such-folder" / "m.safetensors"
    with pytest.raises(OSError, match=f"cannot save to '{missing}': No such file or directory"):
        gradlm.save(est, missing)


# Issue 13: tampered and crafted files. Each gets one "damaged model file" error naming the path.

def raw_model_file(path, arrays_header, data=b"", metadata=None, sign=True):
    """A model file written byte by byte, its checksum right (``sign``) so that the later checks are reached."""
    import json
    import struct

    meta = {"format": "gradlm", "schema_version": "2", "kind": "GDRegressor", **(metadata or {})}
    header = {"__metadata__": meta, **arrays_header}
    if sign:
        meta["checksum"] = serialization.checksum(header, data)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


ONE_BY_ONE = {"weight": {"dtype": "F64", "shape": [1, 1], "data_offsets": [0, 8]},
              "bias": {"dtype": "F64", "shape": [1], "data_offsets": [8, 16]}}


def test_raw_writer_matches_the_format(tmp_path):
    """The crafted files below differ from a good one only where each test says."""
    path = raw_model_file(tmp_path / "ok.safetensors", ONE_BY_ONE, np.array([2.0, 1.0]).tobytes())
    assert gradlm.load(path).predict(np.array([[3.0]]))[0] == 7.0


@pytest.mark.parametrize("change, message", [
    ({"weight": {"dtype": "F64", "shape": [-1, -1], "data_offsets": [0, 8]}}, "array 'weight' is badly described"),
    ({"weight": {"dtype": "F64", "shape": [2 ** 40, 2 ** 40], "data_offsets": [0, 8]}}, "does not fit the file"),
    ({"weight": {"dtype": "F64", "shape": [1.0, 1], "data_offsets": [0, 8]}}, "badly described"),
    ({"weight": {"dtype": "F64", "shape": [True, 1], "data_offsets": [0, 8]}}, "badly described"),
    ({"weight": {"dtype": "F64", "shape": [1, 1, 1], "data_offsets": [0, 8]}}, "badly described"),
    ({"weight": {"dtype": "I64", "shape": [1, 1], "data_offsets": [0, 8]}}, "badly described"),
    ({"weight": {"dtype": "F64", "shape": [1, 1], "data_offsets": [8, 0]}}, "does not fit the file"),
    ({"weight": {"dtype": "F64", "shape": [1, 1], "data_offsets": [0, 10 ** 30]}}, "does not fit the file"),
    ({"code": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}, "holds an array 'code'"),
])
def test_crafted_array_headers_are_refused_as_damaged(tmp_path, change, message):
    path = raw_model_file(tmp_path / "crafted.safetensors", {**ONE_BY_ONE, **change}, np.array([2.0, 1.0]).tobytes())
    with pytest.raises(ValueError, match=f"is a damaged model file: .*{message}"):
        gradlm.load(path)


def test_deeply_nested_json_is_refused_as_damaged_not_a_recursion_error(tmp_path):
    import struct

    deep = b"[" * 100_000 + b"]" * 100_000
    text = b'{"__metadata__":{"format":"gradlm"},"x":' + deep + b"}"
    path = tmp_path / "deep.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text)
    with pytest.raises(ValueError, match="damaged model file: its header is not valid JSON"):
        gradlm.load(path)
    nested = raw_model_file(tmp_path / "meta.safetensors", ONE_BY_ONE, np.array([2.0, 1.0]).tobytes(),
                            {"info": "[" * 100_000 + "]" * 100_000})
    with pytest.raises(ValueError, match="damaged model file: its metadata are nested too deeply"):
        gradlm.load(nested)
    huge = raw_model_file(tmp_path / "int.safetensors", ONE_BY_ONE, np.array([2.0, 1.0]).tobytes())
    huge.write_bytes(huge.read_bytes().replace(b'[0, 8]', b'[0, ' + b"9" * 5000 + b"]"))
    with pytest.raises(ValueError, match="damaged model file"):
        gradlm.load(huge)


def test_a_flipped_bit_anywhere_never_loads_a_different_model(tmp_path, fitted):
    """One flipped bit loaded silently and changed predictions: now the checksum refuses it. A flip that
    leaves the content the same (in the header's padding) loads the same model."""
    est, frame = fitted
    path = tmp_path / "m.safetensors"
    gradlm.save(est, path)
    good = path.read_bytes()
    expected = est.predict(frame)
    outcomes = {"refused": 0, "same": 0}
    for i in range(len(good)):
        flipped = bytearray(good)
        flipped[i] ^= 1 << (i % 8)
        path.write_bytes(bytes(flipped))
        try:
            back = gradlm.load(path)
        except ValueError as err:
            assert str(path) in str(err) and ("damaged model file" in str(err) or "not a gradlm model" in str(err))
            outcomes["refused"] += 1
            continue
        np.testing.assert_array_equal(back.predict(frame), expected)
        outcomes["same"] += 1
    assert outcomes["refused"] > 0.9 * len(good)


def test_a_version_2_file_without_its_checksum_is_refused(tmp_path):
    path = raw_model_file(tmp_path / "unsigned.safetensors", ONE_BY_ONE, np.array([2.0, 1.0]).tobytes(), sign=False)
    with pytest.raises(ValueError, match="damaged model file: it has no checksum"):
        gradlm.load(path)


def test_a_truncated_file_is_refused_as_damaged(tmp_path, fitted):
    est, _ = fitted
    path = tmp_path / "m.safetensors"
    gradlm.save(est, path)
    good = path.read_bytes()
    for size in (9, 40, len(good) // 2, len(good) - 1):
        path.write_bytes(good[:size])
        with pytest.raises(ValueError, match="damaged model file|not a gradlm model file"):
            gradlm.load(path)


def test_temporary_files_of_a_killed_save_are_removed_by_a_later_save(tmp_path, fitted):
    """A save killed (SIGKILL) before its rename leaves the previous file whole and a temporary file; the next
    save in the folder removes temporaries more than an hour old, and leaves younger ones (a save may be
    under way in another process)."""
    import signal
    import time

    est, frame = fitted
    path = tmp_path / "m.safetensors"
    gradlm.save(est, path)
    before = path.read_bytes()
    code = ("import os, sys, time, gradlm\n"
            "os.fsync = lambda fd: (print('writing', flush=True), time.sleep(60))\n"
            "gradlm.save(gradlm.LinearModel(3, 2), sys.argv[1])\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert path.read_bytes() == before
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".gradlm-")]
    assert len(left) == 1
    young = tmp_path / ".gradlm-young.tmp"
    young.write_bytes(b"")
    old = time.time() - 2 * serialization.STALE_SECONDS
    os.utime(left[0], (old, old))
    gradlm.save(est, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gradlm-young.tmp", "m.safetensors"]


# Issue 13 review: metadata that contradicts the arrays, and schema versions below 1.

TWO_BY_ONE = {"weight": {"dtype": "F64", "shape": [2, 1], "data_offsets": [0, 16]},
              "bias": {"dtype": "F64", "shape": [2], "data_offsets": [16, 32]}}


def test_one_target_true_with_two_outputs_is_damaged(tmp_path):
    """A two-target file saying one_target (its checksum recomputed) loaded silently as one target."""
    import json

    path = raw_model_file(tmp_path / "two.safetensors", TWO_BY_ONE, np.array([2.0, 3.0, 1.0, 0.0]).tobytes(),
                          {"info": json.dumps({"one_target": True})})
    with pytest.raises(ValueError, match=r"two\.safetensors' is a damaged model file: its info says one_target, but "
                                         r"weight has 2 outputs"):
        gradlm.load(path)
    # a file that says it truthfully loads as one target, and one_target false keeps the 2-D shape
    one = raw_model_file(tmp_path / "one.safetensors", ONE_BY_ONE, np.array([2.0, 1.0]).tobytes(),
                         {"info": json.dumps({"one_target": True})})
    assert gradlm.load(one).predict(np.array([[3.0]])).shape == (1,)
    two = raw_model_file(tmp_path / "ok.safetensors", TWO_BY_ONE, np.array([2.0, 3.0, 1.0, 0.0]).tobytes(),
                         {"info": json.dumps({"one_target": False})})
    np.testing.assert_array_equal(gradlm.load(two).predict(np.array([[1.0]])), [[3.0, 3.0]])


@pytest.mark.parametrize("value", ["yes", 1, 0, None, [True]])
def test_one_target_not_a_bool_is_damaged(tmp_path, value):
    import json

    path = raw_model_file(tmp_path / "m.safetensors", ONE_BY_ONE, np.array([2.0, 1.0]).tobytes(),
                          {"info": json.dumps({"one_target": value})})
    with pytest.raises(ValueError, match=r"is a damaged model file: its info's one_target is "
                                         + re.escape(json.dumps(value)) + ", not true or false"):
        gradlm.load(path)


@pytest.mark.parametrize("version", ["0", "-1", None])
def test_schema_version_below_one_is_damaged_not_unchecked(tmp_path, version):
    """schema_version '0' or '-1' skipped the checksum check: an altered file loaded."""
    path = raw_model_file(tmp_path / "m.safetensors", ONE_BY_ONE, np.array([2.0, 1.0]).tobytes(),
                          {"schema_version": version} if version is not None else {}, sign=False)
    if version is None:  # no schema_version at all
        import json
        import struct

        (length,) = struct.unpack("<Q", path.read_bytes()[:8])
        header = json.loads(path.read_bytes()[8:8 + length])
        del header["__metadata__"]["schema_version"]
        text = json.dumps(header).encode()
        path.write_bytes(struct.pack("<Q", len(text)) + text + np.array([2.0, 1.0]).tobytes())
    expected = "it has no schema version" if version is None else f"its schema version is '{version}'"
    with pytest.raises(ValueError, match=rf"is a damaged model file: {expected}"):
        gradlm.load(path)


def test_not_a_model_file_says_how_to_save_in_python_and_r(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"weight": 1}))
    with pytest.raises(ValueError, match=r"not a gradlm model file .*re-save the model with gradlm\.save \(Python\) "
                                         r"or save_model\(\) \(R\)\.$"):
        gradlm.load(path)
