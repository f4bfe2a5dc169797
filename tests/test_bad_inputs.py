"""Inputs that used to give raw internal errors (issue 13): each now gives one error that names the
argument (or the file and the column), what is wrong and the fix, or, where the input is legitimate,
the right answer. One test per case, named for it."""

import numpy as np
import pandas as pd
import pytest
import torch

import gradlm
from gradlm.io import read_csv

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytestmark = pytest.mark.filterwarnings("ignore::gradlm.exceptions.ConvergenceWarning")  # short fits on purpose

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3))
y = X @ np.array([1.0, -2.0, 0.5]) + 3.0


def entry_points(X_, y_=y):
    """Every public entry point that takes (X, y) or X, as (label, call)."""
    fitted = gradlm.GDRegressor(epochs=2).fit(X, y)
    return [
        ("fit", lambda: gradlm.fit(gradlm.LinearModel(3, 1), X_, y_, epochs=2, lr=0.01)),
        ("lstsq", lambda: gradlm.lstsq(X_, y_)),
        ("GDRegressor.fit", lambda: gradlm.GDRegressor(epochs=2).fit(X_, y_)),
        ("GDRegressor.predict", lambda: fitted.predict(X_)),
        ("GDRegressor.score", lambda: fitted.score(X_, y_)),
        ("suggest_lr", lambda: gradlm.suggest_lr(X_)),
        ("optimality_gap", lambda: gradlm.optimality_gap(np.ones((1, 3)), np.zeros(1), X_, y_)),
    ]


# --- .npy streams ------------------------------------------------------------------------------


def test_truncated_npy_names_the_file(tmp_path):
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    whole = (tmp_path / "X.npy").read_bytes()
    (tmp_path / "X.npy").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"X file '.*X\.npy' is truncated or damaged.*shape \(40, 3\)"):
        gradlm.stream(tmp_path / "X.npy", target=str(tmp_path / "y.npy"))


def test_truncated_npy_of_y_names_the_file(tmp_path):
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    whole = (tmp_path / "y.npy").read_bytes()
    (tmp_path / "y.npy").write_bytes(whole[:-8])
    with pytest.raises(ValueError, match=r"y file '.*y\.npy' is truncated or damaged.*save it again"):
        gradlm.stream(tmp_path / "X.npy", target=str(tmp_path / "y.npy"))


# --- Parquet streams ---------------------------------------------------------------------------


def two_files(folder, first, second):
    folder.mkdir()
    pq.write_table(pa.table(first), folder / "a.parquet")
    pq.write_table(pa.table(second), folder / "b.parquet")
    return folder


def test_parquet_column_text_in_second_file_names_file_and_column(tmp_path):
    folder = two_files(tmp_path / "d", {"x": [1, 2, 3], "t": [1.0, 2.0, 3.0]},
                       {"x": ["a", "b", "c"], "t": [1.0, 2.0, 3.0]})
    with pytest.raises(TypeError, match=r"column 'x' of .*b\.parquet is string, but int64 in .*a\.parquet"):
        gradlm.stream(folder, "t")


def test_parquet_float_then_text_column_names_file_and_column(tmp_path):
    folder = two_files(tmp_path / "d", {"x": [1.0, 2.0, 3.0], "t": [1.0, 2.0, 3.0]},
                       {"x": ["1", "2", "c"], "t": [1.0, 2.0, 3.0]})
    with pytest.raises(TypeError, match=r"column 'x' of .*b\.parquet is string.*numbers in every file"):
        gradlm.stream(folder, "t")


def test_parquet_target_text_in_second_file_is_refused_not_parsed(tmp_path):
    # pyarrow would read the strings "1", "2", "3" as numbers, silently: the file is named instead
    folder = two_files(tmp_path / "d", {"x": [1.0, 2.0, 3.0], "t": [1.0, 2.0, 3.0]},
                       {"x": [1.0, 2.0, 3.0], "t": ["1", "2", "3"]})
    with pytest.raises(TypeError, match=r"column 't' of .*b\.parquet is string"):
        gradlm.stream(folder, "t")


def test_parquet_int_in_one_file_float_in_another_fits_as_float(tmp_path):
    x1, x2 = np.arange(20), np.linspace(0.5, 9.5, 20)
    t1, t2 = 2.0 * x1 + 1.0 + np.sin(x1), 2.0 * x2 + 1.0 + np.cos(x2)
    folder = two_files(tmp_path / "d", {"x": x1, "t": t1}, {"x": x2, "t": t2})
    data = gradlm.stream(folder, "t")
    assert data.n == 40 and data.feature_names == ["x"]
    streamed = gradlm.lstsq(None, None, statistics=data.statistics())
    in_memory = gradlm.lstsq(np.r_[x1, x2].astype(float)[:, None], np.r_[t1, t2])
    np.testing.assert_allclose(streamed.weight, in_memory.weight, rtol=1e-10)
    np.testing.assert_allclose(streamed.bias, in_memory.bias, rtol=1e-10)


def test_text_file_named_parquet_is_named_as_not_parquet(tmp_path):
    path = tmp_path / "data.parquet"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"'.*data\.parquet' is not a Parquet file"):
        gradlm.stream(path, "b")


def test_non_parquet_file_in_a_folder_is_named(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    pq.write_table(pa.table({"x": [1.0, 2.0], "t": [1.0, 3.0]}), folder / "a.parquet")
    (folder / "b.parquet").write_text("junk")
    with pytest.raises(ValueError, match=r"'.*b\.parquet' is not a Parquet file"):
        gradlm.stream(folder, "t")


def test_damaged_parquet_row_group_names_the_file(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x": np.arange(500.0), "t": np.arange(500.0)}), path)
    damaged = bytearray(path.read_bytes())
    damaged[4:60] = bytes(b ^ 0xFF for b in damaged[4:60])  # the first page's header; the footer is intact
    path.write_bytes(bytes(damaged))
    data = gradlm.stream(path, "t")
    with pytest.raises(ValueError, match=r"row group 0 of '.*d\.parquet' cannot be read .*the file is damaged"):
        data.statistics()

def test_stream_features_containing_the_target_names_the_column(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0, 3.0], "t": [1.0, 3.0, 2.0]}), path)
    with pytest.raises(ValueError, match=r"column 't' is both a feature and a target; pick one role"):
        gradlm.stream(path, "t", features=["x", "t"])


def test_stream_features_repeated_names_the_column(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0, 3.0], "t": [1.0, 3.0, 2.0]}), path)
    with pytest.raises(ValueError, match=r"features names column 'x' more than once"):
        gradlm.stream(path, "t", features=["x", "x"])


def test_read_csv_features_containing_the_target_shares_the_message(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,t\n1,2\n2,3\n3,5\n")
    with pytest.raises(ValueError, match=r"column 't' is both a feature and a target; pick one role"):
        read_csv(path, target="t", features="x,t")


# --- None --------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["X", "y"])
def test_none_input_names_the_argument(which):
    for label, call in entry_points(None if which == "X" else X, None if which == "y" else y):
        if which == "y" and label in ("GDRegressor.predict", "suggest_lr"):
            continue  # these take no y
        if which == "y" and label == "GDRegressor.fit":
            continue  # a ValueError, as scikit-learn's estimators: test_sklearn_conformance.py
        with pytest.raises(TypeError, match=rf"^{which} is None; pass an array of numbers"):
            call()


# --- sparse matrices: refused, with the fix ----------------------------------------------------


def sparse_inputs():
    sp = pytest.importorskip("scipy.sparse")
    return [("scipy csr_matrix", sp.csr_matrix(X), r"X is a scipy\.sparse csr_matrix .*pass X\.toarray\(\)"),
            ("scipy coo_array", sp.coo_array(X), r"X is a scipy\.sparse coo_array .*pass X\.toarray\(\)"),
            ("torch sparse", torch.from_numpy(X).to_sparse(), r"X is a sparse torch tensor .*pass X\.to_dense\(\)")]


def test_sparse_input_is_refused_with_the_fix():
    for _kind, S, pattern in sparse_inputs():
        for _label, call in entry_points(S):
            with pytest.raises(TypeError, match=pattern):
                call()


def test_sparse_y_is_refused_with_the_fix():
    sp = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match=r"y is a scipy\.sparse csr_matrix .*pass y\.toarray\(\)"):
        gradlm.lstsq(X, sp.csr_matrix(y[:, None]))


# --- pandas nullable and object columns --------------------------------------------------------


NULLABLE = {"Int64": [1, 2, None, 4, 5, 7], "Float64": [1.0, 2.0, None, 4.0, 5.0, 7.0],
            "boolean": [True, False, None, True, False, True]}


@pytest.mark.parametrize("dtype", list(NULLABLE))
def test_nullable_column_with_missing_values_names_column_and_row(dtype):
    frame = pd.DataFrame({"b": np.arange(6.0), "a": pd.array(NULLABLE[dtype], dtype=dtype)})
    target = np.arange(6.0) ** 1.5
    for call in (lambda: gradlm.lstsq(frame, target),
                 lambda: gradlm.GDRegressor(epochs=2).fit(frame, target),
                 lambda: gradlm.fit(gradlm.LinearModel(2, 1), frame, target, epochs=2, lr=0.01)):
        with pytest.raises(ValueError, match=r"X column 'a' has 1 missing value\(s\) \(NA\), the first in row 2; "
                                             r"drop or impute"):
            call()
    with pytest.raises(ValueError, match=r"y column 'a' has 1 missing value\(s\) \(NA\), the first in row 2"):
        gradlm.lstsq(np.c_[np.arange(6.0), np.arange(6.0) ** 2], frame["a"])


@pytest.mark.parametrize("dtype", list(NULLABLE))
def test_nullable_columns_without_missing_values_are_numbers(dtype):
    values = [v if v is not None else (True if dtype == "boolean" else 3) for v in NULLABLE[dtype]]
    frame = pd.DataFrame({"a": pd.array(values, dtype=dtype), "b": pd.array(np.arange(6.0) ** 2, dtype="Float64")})
    plain = np.c_[np.asarray(values, dtype=float), np.arange(6.0) ** 2]
    target = np.arange(6.0) ** 1.5
    np.testing.assert_allclose(gradlm.lstsq(frame, target).weight, gradlm.lstsq(plain, target).weight, rtol=1e-12)
    np.testing.assert_allclose(gradlm.lstsq(plain, frame["a"]).weight,
                               gradlm.lstsq(plain, plain[:, 0]).weight, rtol=1e-12, atol=1e-12)
    est = gradlm.GDRegressor(epochs=3, seed=0).fit(frame, target)
    ref = gradlm.GDRegressor(epochs=3, seed=0).fit(plain, target)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6)
    assert list(est.feature_names_in_) == ["a", "b"]


def test_object_column_of_numbers_is_read_as_numbers():
    frame = pd.DataFrame({"a": pd.Series([1, 2.5, 3, 4, 6], dtype=object), "b": [1.0, 2, 3, 5, 4]})
    target = [1.0, 2, 3, 4, 7]
    np.testing.assert_allclose(gradlm.lstsq(frame, target).weight,
                               gradlm.lstsq(frame.astype(float).to_numpy(), target).weight, rtol=1e-12)


def test_object_column_with_missing_values_names_column_and_row():
    frame = pd.DataFrame({"a": pd.Series([1, 2, None, 4], dtype=object), "b": [1.0, 2, 3, 5]})
    with pytest.raises(ValueError, match=r"X column 'a' has 1 missing value\(s\) \(NA\), the first in row 2"):
        gradlm.lstsq(frame, [1.0, 2, 3, 4])


def test_object_column_of_text_is_still_refused_by_name():
    frame = pd.DataFrame({"a": pd.Series(["x", "y", "z"], dtype=object), "b": [1.0, 2, 3]})
    with pytest.raises(TypeError, match=r"X has non-numeric column\(s\) 'a'"):
        gradlm.lstsq(frame, [1.0, 2, 3])


def test_duplicate_column_names_are_refused():
    frame = pd.DataFrame(X[:, :2], columns=["a", "a"])
    with pytest.raises(ValueError, match=r"X has more than one column named 'a'; give every column its own name"):
        gradlm.GDRegressor(epochs=2).fit(frame, y)



# --- review of issue 13: streams, paths, devices, predict --------------------------------------


def test_parquet_duplicate_column_names_are_refused_like_csv(tmp_path):
    """A Parquet file with two columns 'a' gave pyarrow's KeyError 'Column a does not exist in schema'."""
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array(X[:, 0]), pa.array(X[:, 1]), pa.array(y)], names=["a", "a", "y"]),
                   path)
    message = r"dup\.parquet has more than one column named 'a'; give every column its own name"
    with pytest.raises(ValueError, match=message):
        gradlm.stream(path, "y")
    with pytest.raises(ValueError, match=message):
        gradlm.stream(path, "y", features=["a"])
    csv = tmp_path / "dup.csv"
    csv.write_text("a,a,y\n1,2,3\n2,3,5\n")
    with pytest.raises(ValueError, match=r"dup\.csv has more than one column named 'a'; give every column its own"):
        read_csv(csv, "y")


def test_stream_given_to_an_array_only_entry_point_says_where_streams_work(tmp_path):
    """suggest_lr(stream), optimality_gap(w, b, stream, None) and lstsq(stream, None) said 'X must be numeric; got
    an array of object'."""
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    data = gradlm.stream(tmp_path / "X.npy", str(tmp_path / "y.npy"))
    message = (r"^X is a gradlm Stream \(data read from disk\), which this function does not take: pass in-memory "
               r"arrays .*A Stream works with gradlm\.fit and GDRegressor\.fit")
    fitted = gradlm.GDRegressor(epochs=2).fit(X, y)
    for call in (lambda: gradlm.suggest_lr(data),
                 lambda: gradlm.optimality_gap(np.ones((1, 3)), np.zeros(1), data, None),
                 lambda: gradlm.lstsq(data, None),
                 lambda: fitted.predict(data),
                 lambda: fitted.score(data, y)):
        with pytest.raises(TypeError, match=message):
            call()
    with pytest.raises(TypeError, match=r"^y is a gradlm Stream"):
        gradlm.lstsq(X, data)
    # what the message points to works
    assert gradlm.suggest_lr(data.statistics()) == pytest.approx(gradlm.suggest_lr(X))
    np.testing.assert_allclose(gradlm.lstsq(None, None, statistics=data.statistics()).weight,
                               gradlm.lstsq(X, y).weight, rtol=1e-10)


@pytest.mark.parametrize("path", [None, 3, np.ones(3)])
def test_stream_path_not_a_path_names_the_argument(path):
    """gradlm.stream(None, 'y') gave pathlib's 'expected str, bytes or os.PathLike object, not NoneType'."""
    with pytest.raises(TypeError, match=r"^path must be the path of a Parquet file, a folder of them, or a \.npy "
                                        r"file \(a str or pathlib\.Path\); got "):
        gradlm.stream(path, "y")


def test_stream_path_suffix_is_read_in_any_case(tmp_path):
    path = tmp_path / "D.PARQUET"
    pq.write_table(pa.table({"x": X[:, 0], "t": y}), path)
    assert gradlm.stream(path, "t").n == len(y)


@pytest.mark.parametrize("device", ["gpu9", "cpu:x", 3.5])
def test_bad_device_names_the_argument(device):
    """GDRegressor(device='gpu9').fit(X, y) gave torch's bare "Invalid device string: 'gpu9'"."""
    with pytest.raises(ValueError, match=r"^device must be a torch device or its name, such as 'cpu' or 'cuda'; "
                                         rf"got {device!r}"):
        gradlm.GDRegressor(epochs=2, device=device).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the message is for machines without CUDA")
def test_unavailable_cuda_device_names_the_argument():
    with pytest.raises(ValueError, match=r"^device 'cuda' is not available here \(torch\.cuda\.is_available\(\) is "
                                         r"False\); use device='cpu'"):
        gradlm.GDRegressor(epochs=2, device="cuda").fit(X, y)


def test_nan_in_predict_does_not_say_before_fitting():
    """predict() with a NaN said 'remove or impute those rows before fitting'."""
    est = gradlm.GDRegressor(epochs=2).fit(X, y)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"X contains 1 NaN or infinite value\(s\), the first in row 3; remove or "
                                         r"impute those rows before predicting\.$"):
        est.predict(bad)
    with pytest.raises(ValueError, match=r"the first in row 3; remove or impute those rows before scoring\.$"):
        est.score(bad, y)
    y_bad = y.copy()
    y_bad[5] = np.inf
    with pytest.raises(ValueError, match=r"^y contains 1 NaN .*first in row 5; .*before scoring\.$"):
        est.score(X, y_bad)
    frame = pd.DataFrame({"a": pd.array([1.0, None, 2.0], dtype="Float64"), "b": [1.0, 2, 3], "c": [0.0, 1, 0]})
    with pytest.raises(ValueError, match=r"X column 'a' has 1 missing value\(s\) \(NA\), the first in row 1; drop or "
                                         r"impute those rows before predicting\.$"):
        est.predict(frame)
    # fitting keeps its words
    with pytest.raises(ValueError, match=r"remove or impute those rows before fitting\.$"):
        gradlm.GDRegressor(epochs=2).fit(bad, y)


def test_cuda_index_beyond_the_devices_names_the_count(monkeypatch):
    from gradlm.validation import check_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert check_device("cuda") == torch.device("cuda") and check_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ValueError, match=r"^device 'cuda:3' is not available here "
                                         r"\(this machine has 1 CUDA device\(s\), "
                                         r"numbered from 0\); use device='cpu' or an index below the device count\.$"):
        check_device("cuda:3")


def test_linear_model_predict_with_nan_says_before_predicting():
    model = gradlm.LinearModel.from_params([[2.0]], [1.0])
    with pytest.raises(ValueError, match="remove or impute those rows before predicting"):
        model.predict([[1.0], [float("nan")]])
    from gradlm import r_bridge

    with pytest.raises(ValueError, match="before predicting"):
        r_bridge.predict_linear([[2.0]], [1.0], [[float("nan")]])


def test_linear_model_bad_device_names_the_argument():
    with pytest.raises(ValueError, match="device must be a torch device or its name, such as 'cpu' or 'cuda'"):
        gradlm.LinearModel(3, 1, device="gpu9")
