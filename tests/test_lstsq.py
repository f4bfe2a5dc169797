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


def test_rank_deficient_gives_lms_solution_aliased_columns_zero():
    """A column that is a combination of the ones before it is aliased, as lm() decides: coefficient 0 (lm()'s NA),
    the others those of the model without it."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2))
    X = np.column_stack([x, 10 * (x[:, 0] + x[:, 1])])  # third column: ten times the sum of the first two
    y = x @ np.array([1.0, -2.0]) + 3.0 + 0.1 * rng.normal(size=30)
    weight, bias = gradlm.lstsq(X, y)
    ref = np.linalg.lstsq(np.column_stack([np.ones(30), x]), y, rcond=None)[0]
    np.testing.assert_allclose(np.r_[bias, weight[0]], np.r_[ref, 0.0], atol=1e-10)
    ill = gradlm.lstsq(np.column_stack([X, 1e6 * x[:, 0] ** 3]), y)  # the rows' QR decides there: the same
    assert ill.weight[0, 2] == 0.0

def test_refuses_nan_and_row_mismatch():
    X = torch.ones(5, 2)
    X[3, 1] = float("nan")
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite value\\(s\\), the first in row 3"):
        gradlm.lstsq(X, torch.ones(5))
    with pytest.raises(ValueError, match="X and y have different numbers of rows \\(5 and 4\\)"):
        gradlm.lstsq(torch.ones(5, 2), torch.ones(4))


def exact_least_squares(X, y):
    """The least-squares coefficients (intercept first) of the float64 data, in 60-digit arithmetic."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(60):
        A = mpmath.matrix([[1] + [mpmath.mpf(float(v)) for v in row] for row in X])
        b = mpmath.matrix([mpmath.mpf(float(v)) for v in y])
        return np.array([float(v) for v in mpmath.lu_solve(A.T * A, A.T * b)])


@pytest.mark.parametrize("case", ["degree-10 polynomial", "longley"])
def test_as_many_correct_digits_as_lm(R, case):
    """The SVD branch worked on unscaled columns and cut off singular values of a full-rank problem (a loss 35 %
    above the minimum on a degree-10 polynomial); the normal equations lost digits on longley."""
    if case == "longley":
        X, y = np.asarray(R("as.matrix(longley[, 1:6])")), np.asarray(R("longley$Employed"))
    else:
        x = np.linspace(0.1, 0.8, 60)
        X, y = np.column_stack([x ** j for j in range(1, 11)]), np.sin(3 * x) + 0.01 * np.cos(50 * x)
    exact = exact_least_squares(X, y)
    from rpy2.robjects import FloatVector

    R.assign("X", R.matrix(FloatVector(X.T.ravel()), nrow=X.shape[0]))
    R.assign("y", FloatVector(y))
    lm = np.asarray(R("coef(lm(y ~ X))"))
    weight, bias = gradlm.lstsq(X, y)
    ours = np.r_[bias, weight[0]]
    error, lm_error = (np.max(np.abs(c - exact) / np.abs(exact)) for c in (ours, lm))
    # measured: 3.6e-10 vs 7.1e-10 (polynomial), 6.2e-14 vs 3.4e-14 (longley): the same digits within a factor 4
    # (rounding differs between CPUs' vector widths; the old code was 1000 times worse on both)
    assert error <= max(4 * lm_error, 1e-13), (error, lm_error)
