"""lstsq against NumPy's independent least-squares solution."""

import numpy as np
import pytest
import torch

import gradlm


def numpy_reference(X, y):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    A = np.hstack([X, np.ones((len(X), 1))])
    sol = np.linalg.lstsq(A, y, rcond=None)[0]
    return sol[:-1].T, sol[-1]


def test_crops_match_numpy_to_1e_8():
    X, y = gradlm.datasets.crops()
    weight, bias = gradlm.lstsq(X, y)
    ref_w, ref_b = numpy_reference(X, y)
    assert weight.dtype == np.float64 and weight.shape == (2, 3) and bias.shape == (2,)
    np.testing.assert_allclose(weight, ref_w, rtol=1e-8, atol=0)
    np.testing.assert_allclose(bias, ref_b, rtol=1e-8, atol=0)


def test_line_data_and_1d_target():
    X, y = gradlm.datasets.numpy_points()
    weight, bias = gradlm.lstsq(X, y)
    slope, intercept = np.polyfit(X.astype(float), Y := y.astype(float), 1)
    assert Y.shape == (15,)
    np.testing.assert_allclose([weight[0, 0], bias[0]], [slope, intercept], rtol=1e-10)


@pytest.mark.parametrize("n, d, out", [(50, 3, 1), (200, 10, 4), (1000, 25, 2)])
def test_random_problems(n, d, out):
    data = gradlm.datasets.make_regression(n, d, outputs=out, noise=0.5, seed=n)
    weight, bias = gradlm.lstsq(data.X.double(), data.y.double())
    ref_w, ref_b = numpy_reference(data.X.double(), data.y.double())
    np.testing.assert_allclose(weight, ref_w, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(bias, ref_b, rtol=1e-8, atol=1e-10)


def test_rank_deficient_gives_numpys_minimum_norm_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2))
    X = np.column_stack([x, x[:, 0] + x[:, 1]])  # third column is the sum of the first two
    y = x @ np.array([1.0, -2.0]) + 3.0
    weight, bias = gradlm.lstsq(X, y)
    Xc = X - X.mean(axis=0)
    ref = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]
    np.testing.assert_allclose(weight[0], ref, atol=1e-10)
    np.testing.assert_allclose(X @ weight[0] + bias[0], y, atol=1e-10)


def test_refuses_nan_and_row_mismatch():
    X = torch.ones(5, 2)
    X[3, 1] = float("nan")
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite value\\(s\\), the first in row 3"):
        gradlm.lstsq(X, torch.ones(5))
    with pytest.raises(ValueError, match="X and y have different numbers of rows \\(5 and 4\\)"):
        gradlm.lstsq(torch.ones(5, 2), torch.ones(4))
