"""Every row of the README's "Failure modes" table, in Python: the error type and the words that name the fix.

The same rows are tried from R in R/tests/testthat/test-failure-modes.R, and
from the command line in tests/test_cli.py.
"""

import numpy as np
import pandas as pd
import pytest
import torch

import gradlm

rng = np.random.default_rng(0)
X = rng.normal(size=(12, 3))
Y = rng.normal(size=(12, 2))


def fit(X=X, y=Y, **kw):
    kw.setdefault("epochs", 2)
    kw.setdefault("lr", 0.01)
    return gradlm.fit(gradlm.LinearModel(3, 2), X, y, **kw)


def with_nan(a, row, col=0, value=np.nan):
    a = a.copy()
    a[row, col] = value
    return a


ROWS = [
    # (row of the table, call, error type, message pattern)
    ("NaN in X", lambda: fit(with_nan(X, 4)), ValueError,
     r"X contains 1 NaN or infinite value\(s\), the first in row 4"),
    ("Inf in y", lambda: fit(y=with_nan(Y, 7, 1, np.inf)), ValueError, r"y contains 1 NaN .* row 7"),
    ("NaN, lstsq", lambda: gradlm.lstsq(with_nan(X, 2), Y), ValueError, r"row 2; remove or impute"),
    ("NaN, GDRegressor", lambda: gradlm.GDRegressor().fit(with_nan(X, 1), Y), ValueError, "row 1"),
    ("rows differ", lambda: fit(y=Y[:5]), ValueError, r"different numbers of rows \(12 and 5\)"),
    ("zero rows", lambda: fit(X[:0], Y[:0]), ValueError, "X has 0 rows"),
    ("zero features", lambda: gradlm.lstsq(X[:, :0], Y), ValueError,
     r"X has 0 feature\(s\) \(shape=\(12, 0\)\) while a minimum of 1 is required; pass at least one column"),
    ("zero targets", lambda: gradlm.lstsq(X, Y[:, :0]), ValueError, "y has 0 columns"),
    ("too large for float32", lambda: fit(with_nan(X, 3, 0, 1e39)), ValueError, "too large for float32"),
    ("moments overflow", lambda: gradlm.lstsq(X * 1e160, Y), ValueError, "overflow float64"),
    ("squares underflow", lambda: gradlm.GDRegressor().fit(X * 1e-170, Y), ValueError,
     "their squares underflow float64; rescale it"),
    ("1-D y, several outputs", lambda: fit(y=Y[:, 0]), ValueError,
     r"y is 1-D .* model has 2 outputs; pass y with shape \(12, 2\)"),
    ("y columns != outputs", lambda: fit(y=np.zeros((12, 3))), ValueError, "build the model with out_features=3"),
    ("X not 2-D", lambda: gradlm.lstsq(np.zeros((2, 2, 2)), Y[:2]), ValueError, r"must be 2-D \(rows, features\)"),
    ("1-D X, GDRegressor", lambda: gradlm.GDRegressor().fit(X[:, 0], Y[:, 0]), ValueError,
     r"X is 1-D \(shape \(12,\)\), but GDRegressor expects 2-D X \(rows, features\)\. Reshape your data either "
     r"using X\.reshape\(-1, 1\) if your data has a single feature"),
    ("text column", lambda: gradlm.GDRegressor().fit(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}), [1.0, 2.0]),
     TypeError, "non-numeric column\\(s\\) 'b'"),
    ("text array", lambda: gradlm.lstsq(np.array([["a", "b"]]), [1.0]), TypeError,
     r"X must be numeric; got an array of <U1 that cannot be read as numbers \(could not convert string to float: "
     r"'a'\)\. Convert text columns to numbers or drop them"),
    ("complex array", lambda: gradlm.lstsq(X + 1j, Y), ValueError,
     r"X is complex \(complex128\)\. Complex data not supported: pass its real part \(X\.real\)"),
    ("ragged rows", lambda: gradlm.lstsq([[1.0, 2.0], [1.0]], [1.0, 2.0]), ValueError, "not a rectangular array"),
    ("features at predict", lambda: gradlm.GDRegressor(epochs=2).fit(X, Y).predict(X[:, :2]), ValueError,
     r"X has 2 features, but GDRegressor is expecting 3 features as input; pass the same columns it was fitted with"),
    ("mse shapes", lambda: gradlm.mse(torch.zeros(4, 1), torch.zeros(4)), ValueError,
     r"pred has shape \(4, 1\) but target has shape \(4,\)"),
    ("epochs <= 0", lambda: fit(epochs=0), ValueError, "epochs must be >= 1; got 0"),
    ("epochs not whole", lambda: fit(epochs=2.5), TypeError, "epochs must be a whole number"),
    ("lr <= 0", lambda: fit(lr=0), ValueError, "lr must be > 0"),
    ("lr not finite", lambda: fit(lr=float("nan")), ValueError, "lr must be finite"),
    ("lr missing", lambda: fit(lr=None), ValueError, "lr must be a number or 'auto'"),
    ("batch_size <= 0", lambda: fit(batch_size=0), ValueError, "batch_size must be >= 1"),
    ("unknown optimizer", lambda: fit(optimizer="lbfgs"), ValueError, "optimizer must be one of 'sgd', 'adam'"),
    ("negative weights", lambda: gradlm.GDRegressor().fit(X, Y, sample_weight=-np.ones(12)), ValueError,
     r"sample_weight must be finite and >= 0"),
    ("weights, wrong length", lambda: gradlm.lstsq(X, Y, sample_weight=np.ones(3)), ValueError,
     "sample_weight has 3 values, but X has 12 rows"),
    ("weights with mini-batches", lambda: gradlm.GDRegressor(batch_size=4).fit(X, Y, sample_weight=np.ones(12)),
     ValueError, "sample_weight trains full batch on the data's moments"),
    ("unknown init", lambda: gradlm.LinearModel(3, 2, init="xavier"), ValueError,
     "init must be one of 'torch', 'randn', 'zeros'"),
    ("unknown on_divergence", lambda: fit(on_divergence="never"), ValueError, "on_divergence must be one of"),
    ("divergence", lambda: gradlm.fit(gradlm.LinearModel(3, 2), X * 100, Y, epochs=200, lr=1.0),
     gradlm.DivergenceError, r"diverged at epoch \d+.*stable for lr < "),
    ("not a model file", lambda: gradlm.load(__file__), ValueError, "not a gradlm model file"),
    ("seed not valid", lambda: fit(seed="abc"), TypeError, "seed must be a whole number >= 0"),
    ("masked values", lambda: fit(np.ma.masked_array(X, mask=X > 0)), ValueError,
     r"X is a masked array with \d+ masked value\(s\); gradlm would ignore the mask"),
    ("saving an unfitted estimator", lambda: gradlm.save(gradlm.GDRegressor(), "unused.safetensors"), ValueError,
     "not fitted yet"),
    ("X or y is None", lambda: gradlm.lstsq(None, Y), TypeError, "X is None; pass an array of numbers"),
    ("GDRegressor without y", lambda: gradlm.GDRegressor().fit(X, None), ValueError,
     r"^GDRegressor requires y to be passed, but the target y is None; pass the targets \(one row per row of X\), "
     r"or X as a gradlm Stream that holds them"),
    ("sparse matrix", lambda: gradlm.GDRegressor().fit(__import__("scipy.sparse").sparse.csr_matrix(X), Y[:, 0]),
     TypeError, r"X is a scipy.sparse csr_matrix of shape \(12, 3\); gradlm works on dense data: pass X.toarray\(\)"),
    ("missing values in a nullable column",
     lambda: gradlm.GDRegressor().fit(pd.DataFrame({"a": pd.array([1, 2, None] * 4, dtype="Int64")}), Y[:, 0]),
     ValueError, r"X column 'a' has 4 missing value\(s\) \(NA\), the first in row 2; drop or impute"),
    ("device not valid", lambda: gradlm.GDRegressor(device="gpu9").fit(X, Y), ValueError,
     "device must be a torch device or its name"),
    ("NaN at predict", lambda: gradlm.GDRegressor().fit(X, Y).predict(with_nan(X, 3)), ValueError,
     "the first in row 3; remove or impute those rows before predicting"),
    ("DataFrame columns of one name", lambda: gradlm.lstsq(pd.DataFrame(X, columns=["a", "a", "b"]), Y), ValueError,
     "more than one column named 'a'"),
]


@pytest.mark.parametrize("row, call, error, pattern", ROWS, ids=[r[0] for r in ROWS])
def test_failure_mode(row, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_documented_casts_and_batch_above_n():
    """The rows that are not errors: integer and float64 input are cast to the model's dtype;
    batch_size > n is one batch."""
    runs = []
    for data in (np.arange(36).reshape(12, 3), np.arange(36.0).reshape(12, 3),
                 np.arange(36, dtype=np.float32).reshape(12, 3)):
        torch.manual_seed(1)
        runs.append(fit(X=data, epochs=3, lr=1e-4))
    assert runs[0].weight.dtype == np.float32
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].weight, other.weight)
    torch.manual_seed(0)
    one_batch = fit(batch_size=100, epochs=3)
    torch.manual_seed(0)
    full = fit(batch_size=None, epochs=3)
    np.testing.assert_allclose(one_batch.weight, full.weight, rtol=1e-6)


def test_every_table_row_is_in_the_readme():
    """The README's table and this file list the same failure modes."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Failure modes", 1)[1].split("\n## ", 1)[0]
    missing = [row for row, *_ in ROWS if f"| {row} |" not in section]
    assert not missing, f"rows missing from the README's Failure modes table: {missing}"
