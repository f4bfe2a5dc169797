"""The validation module: every entry point's errors name the argument and the fix."""

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import gradlm
from gradlm.validation import as_tensor, check_int, check_X, check_X_y, check_y


def test_nan_and_inf_report_count_and_first_row():
    X = np.ones((6, 2))
    X[2, 0] = np.nan
    X[4, 1] = np.inf
    with pytest.raises(ValueError, match=r"X contains 2 NaN or infinite value\(s\), the first in row 2"):
        check_X(X)
    with pytest.raises(ValueError, match=r"y contains 1 NaN"):
        check_X_y(np.ones((3, 1)), [1.0, np.nan, 2.0])


def test_shapes():
    assert check_X([1, 2, 3]).shape == (3, 1)
    with pytest.raises(ValueError, match="X has 0 rows"):
        check_X(np.ones((0, 2)))
    with pytest.raises(ValueError, match=r"X has 0 feature\(s\)"):
        check_X(np.ones((3, 0)))
    with pytest.raises(ValueError, match=r"X must be 2-D \(rows, features\); got shape \(2, 2, 2\)"):
        check_X(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match=r"X and y have different numbers of rows \(3 and 2\)"):
        check_X_y(np.ones((3, 1)), np.ones(2))
    with pytest.raises(ValueError, match=r"y has 3 column\(s\), but the model has 2 output\(s\)"):
        check_y(np.ones((4, 3)), n_rows=4, n_outputs=2)
    with pytest.raises(ValueError, match="not a rectangular array"):
        as_tensor([[1, 2], [3]], "X")


def test_types_and_casts():
    assert as_tensor(np.arange(4), "X").dtype == torch.float32
    assert as_tensor(np.arange(4.0), "X", dtype="float64").dtype == torch.float64
    assert as_tensor([True, False], "X").tolist() == [1.0, 0.0]
    assert as_tensor(np.array(["1.5", "2"]), "X").tolist() == [1.5, 2.0]
    with pytest.raises(TypeError, match="X must be numeric"):
        as_tensor(np.array(["a", "b"]), "X")
    with pytest.raises(ValueError, match="X is complex"):
        as_tensor(np.ones(2, dtype=complex), "X")
    with pytest.raises(TypeError, match="X is None"):
        as_tensor(None, "X")
    frame = pd.DataFrame({"a": [1, 2], "b": ["u", "v"], "c": ["w", "z"]})
    with pytest.raises(TypeError, match="X has non-numeric column\\(s\\) 'b', 'c'"):
        as_tensor(frame, "X")
    with pytest.raises(TypeError, match="y has non-numeric column\\(s\\) 'label'"):
        as_tensor(pd.Series(["x", "y"], name="label"), "y")


def test_read_only_arrays_convert_without_warning():
    arr = np.arange(6.0).reshape(3, 2)
    arr.flags.writeable = False
    with _no_warnings():
        tensor = as_tensor(arr, "X")
    assert tensor.tolist() == arr.tolist()


@contextlib.contextmanager
def _no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_float32_numpy_input_is_not_copied():
    arr = np.ones((4, 2), dtype=np.float32)
    assert as_tensor(arr, "X").data_ptr() == arr.ctypes.data


def test_whole_number_checks():
    assert check_int(3.0, "epochs") == 3
    for bad in (2.5, True, "3", float("inf")):
        with pytest.raises(TypeError, match="epochs must be a whole number"):
            check_int(bad, "epochs")


def test_entry_points_share_the_messages():
    X, y = gradlm.datasets.crops()
    bad = X.clone()
    bad[7, 2] = float("nan")
    for call in (
        lambda: gradlm.fit(gradlm.LinearModel(3, 2), bad, y, epochs=1, lr=1e-5),
        lambda: gradlm.lstsq(bad, y),
        lambda: gradlm.numpy_gd(bad, y, epochs=1, lr=1e-5),
        lambda: gradlm.GDRegressor(epochs=1).fit(bad, y),
    ):
        with pytest.raises(ValueError, match="X contains 1 NaN or infinite value\\(s\\), the first in row 7"):
            call()


def test_huge_finite_values_are_not_mistaken_for_inf():
    X = np.full((4, 2), 3e38, dtype=np.float32)  # their float32 sum overflows; they are finite
    assert check_X(X).shape == (4, 2)


def test_converted_copies_are_row_major_whatever_the_source():
    base = np.asfortranarray(np.arange(12.0).reshape(4, 3))
    for source in (base, torch.from_numpy(base), base.copy(order="C")):
        out = as_tensor(source, "X", dtype=torch.float32)
        assert out.is_contiguous() and out.tolist() == base.tolist()
    view = torch.from_numpy(base)
    assert as_tensor(view, "X", dtype=torch.float64).data_ptr() == view.data_ptr()  # no copy when none is needed


@pytest.mark.parametrize("seed, error, words", [("abc", TypeError, "seed must be a whole number"),
                                                (2**70, ValueError, "seed must be <= 9223372036854775807"),
                                                (-1, ValueError, "seed must be >= 0")])
def test_seed_is_checked_before_it_is_used(seed, error, words):
    """GDRegressor handed the seed to torch.manual_seed before checking it: torch's messages came out."""
    with pytest.raises(error, match=words):
        gradlm.GDRegressor(seed=seed).fit([[1.0], [2.0], [3.0]], [1.0, 2.0, 4.0])
    with pytest.raises(error, match=words):
        gradlm.fit(gradlm.LinearModel(1, 1), [[1.0], [2.0]], [1.0, 2.0], epochs=1, lr=0.1, seed=seed)


def test_reversed_numpy_views_are_read_not_refused():
    """X[::-1] in lstsq, suggest_lr, optimality_gap and fast fits gave torch's 'stride ... is negative'."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = X @ np.array([1.0, 2.0]) + 1.0
    Xr, yr = X[::-1], y[::-1]
    np.testing.assert_allclose(gradlm.lstsq(Xr, yr).weight, [[1.0, 2.0]], rtol=1e-12)
    assert gradlm.suggest_lr(Xr) == pytest.approx(gradlm.suggest_lr(X), rel=1e-12)
    assert abs(gradlm.optimality_gap([[1.0, 2.0]], [1.0], Xr, yr)) < 1e-20
    np.testing.assert_allclose(gradlm.GDRegressor().fit(Xr, yr).coef_, [1.0, 2.0], rtol=1e-8)


def test_masked_arrays_with_masked_values_are_refused_not_read_through():
    """A masked array's mask was ignored: the masked values were fitted as data."""
    X = np.ma.masked_array(np.arange(20.0).reshape(10, 2), mask=np.zeros((10, 2), dtype=bool))
    y = np.arange(10.0)
    np.testing.assert_allclose(gradlm.lstsq(X, y).weight, gradlm.lstsq(X.data, y).weight)  # nothing masked: fine
    X.mask[3, 1] = True
    for call in (lambda: gradlm.lstsq(X, y), lambda: gradlm.GDRegressor().fit(X, y),
                 lambda: gradlm.fit(gradlm.LinearModel(2, 1), X, y)):
        with pytest.raises(ValueError, match=r"X is a masked array with 1 masked value\(s\)"):
            call()
