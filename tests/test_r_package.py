"""The R package against the Python core: the same numbers, bit for bit.

R runs in a subprocess (Rscript tests/r/cross_language.R), which writes its
values as hex floats. It is not embedded through rpy2 here: rpy2 releases the
GIL around its calls into R and reticulate 1.28 does not take it back, so R's
garbage collector can free Python objects without the GIL and abort the
process (rstudio/reticulate#208). rpy2 is used where R needs no Python:
R's lm() as a reference in tests/test_lm_reference.py.
"""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

import gradlm

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")


@pytest.fixture(scope="module")
def r(tmp_path_factory):
    """Run the R script once; return its values by name."""
    folder = tmp_path_factory.mktemp("r")
    path = folder / "values.tsv"
    models = folder / "models"
    models.mkdir()
    X, y = gradlm.datasets.crops()
    gradlm.save(gradlm.GDRegressor(seed=1).fit(X, y), models / "python.safetensors")  # float32, as X is
    env = dict(os.environ)
    env.setdefault("R_LIBS_USER", str(ROOT / ".rlib"))
    env.setdefault("GRADLM_PYTHON", str(Path(os.sys.executable)))
    result = subprocess.run(["Rscript", str(ROOT / "tests" / "r" / "cross_language.R"), str(path), str(models)],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    values = {"models": models}
    for line in path.read_text().splitlines():
        name, kind, data = line.split("\t")
        if kind == "double":
            values[name] = np.array([float.fromhex(v) for v in data.split(" ")])
        else:
            values[name] = data.split("\x1f")
    return values


def test_r_crops_is_the_cores_crops(r):
    frame = gradlm.datasets.crops().to_frame()
    assert r["crops_region"] == frame["region"].tolist()
    assert r["crops_names"] == list(frame.columns)
    np.testing.assert_array_equal(r["crops_values"], frame.iloc[:, 1:].to_numpy(dtype=float).ravel(order="F"))


def test_nn_linear_table_from_r_is_pythons_bit_for_bit(r):
    X, y = gradlm.datasets.line()
    torch.manual_seed(59)
    h = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=50, lr=0.001)
    np.testing.assert_array_equal(r["table_loss"], h.loss)
    np.testing.assert_array_equal(r["table_weight"], h.weight_path[:, 0, 0])
    np.testing.assert_array_equal(r["table_bias"], h.bias_path[:, 0])
    np.testing.assert_array_equal(r["table_final"], [h.weight[0, 0], h.bias[0]])
    from test_tutorial_linear_model import printed_table

    table = printed_table()  # and so the tutorial's table, all 50 rows
    np.testing.assert_allclose(r["table_loss"], table[:, 1], rtol=2e-6)
    np.testing.assert_allclose(r["table_weight"], table[:, 2], rtol=2e-6)
    np.testing.assert_allclose(r["table_bias"], table[:, 3], rtol=2e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_minibatch_histories_are_bit_identical(r, optimizer):
    X, y = gradlm.datasets.crops()
    torch.manual_seed(3)
    h = gradlm.fit(gradlm.LinearModel(3, 2, init="randn"), X, y, epochs=30, lr=1e-5 if optimizer == "sgd" else 1e-2,
                   batch_size=4, seed=11, optimizer=optimizer)
    np.testing.assert_array_equal(r[f"mb_{optimizer}_loss"], h.loss)
    np.testing.assert_array_equal(r[f"mb_{optimizer}_weight"], h.weight.ravel(order="F"))
    np.testing.assert_array_equal(r[f"mb_{optimizer}_bias"], h.bias)
    np.testing.assert_array_equal(r[f"mb_{optimizer}_path"], h.weight_path.ravel(order="F"))


def test_numpy_gd_from_r_is_pythons(r):
    X, Y = gradlm.datasets.numpy_points()
    np.testing.assert_array_equal(r["numpy_gd_loss"], gradlm.numpy_gd(X, Y, epochs=40, lr=0.001, seed=5).loss)


def crops64():
    """The crop data as R hands them to the core: float64 (R's numbers are doubles)."""
    X, y = gradlm.datasets.crops()
    return X.double().numpy(), y.double().numpy()


def test_gd_lm_is_gdregressor_and_converges_to_lm_on_crops(r):
    X, y = crops64()
    est = gradlm.GDRegressor(seed=0).fit(X, y)  # the defaults on both sides: float64, lr="auto", certified
    coef = r["crops_gd_coef"].reshape(4, 2, order="F")  # lm's layout: (Intercept) + 3 rows, 2 columns
    np.testing.assert_array_equal(r["crops_gd_loss"], est.history_.loss)
    np.testing.assert_array_equal(coef[1:].T, est.coef_)
    np.testing.assert_array_equal(coef[0], est.intercept_)
    assert r["crops_gd_verdict"] == [est.report_.verdict()]
    assert est.converged_ and est.report_.verdict().startswith("converged in")
    np.testing.assert_array_equal(r["crops_gd_gap"], [est.report_.gap])
    np.testing.assert_allclose(r["crops_gd_coef"], r["crops_lm_coef"], rtol=1e-6)


def test_gd_lm_with_a_given_step_is_gdregressor(r):
    X, y = crops64()
    # R's gd_lm trains on the moments it took already; fast=True does so here too
    est = gradlm.GDRegressor(epochs=300, lr=0.3, seed=0, fast=True).fit(X, y)
    coef = r["crops_gd_lr_coef"].reshape(4, 2, order="F")
    np.testing.assert_array_equal(r["crops_gd_lr_loss"], est.history_.loss)
    np.testing.assert_array_equal(coef[1:].T, est.coef_)
    np.testing.assert_array_equal(coef[0], est.intercept_)


@pytest.mark.parametrize("name", ["mtcars", "iris", "airquality", "stackloss", "iris2"])
def test_gd_lm_converges_to_lm_on_r_data_sets(r, name):
    np.testing.assert_allclose(r[f"rdata_{name}_gd"], r[f"rdata_{name}_lm"], rtol=1e-6, atol=1e-10)
    assert r[f"rdata_{name}_converged"][0] == 1
    nobs = r[f"rdata_{name}_nobs"]
    assert nobs[0] == nobs[1]


def test_seed_004_code_runs_as_written_and_equals_python(r):
    inputs = torch.tensor([[73, 67, 43], [91, 88, 64], [87, 134, 58], [102, 43, 37], [69, 96, 70]],
                          dtype=torch.float32)
    targets = torch.tensor([[56, 70], [81, 101], [119, 133], [22, 37], [103, 119]], dtype=torch.float32)
    torch.manual_seed(42)
    w = torch.randn(2, 3, requires_grad=True)
    b = torch.randn(2, requires_grad=True)
    loss = gradlm.mse(inputs @ w.t() + b, targets)
    loss.backward()
    assert r["seed004_dtype"] == ["torch.float32"]
    assert r["seed004_loss"][0] == loss.item()
    np.testing.assert_array_equal(r["seed004_grad"], w.grad.numpy().ravel(order="F"))


def test_r_errors_carry_the_python_message_and_r_goes_on(r):
    assert r["error_message"] == ["lr must be > 0; got -1.0."]
    assert r["after_error"][0] == 2.0


def test_torch_uses_its_own_blas_in_r(r):
    torch.manual_seed(0)
    a = torch.randn(300, 200)
    b = torch.randn(200, 100)
    np.testing.assert_array_equal(r["blas_probe"], (a @ b).numpy().ravel(order="F")[:50])


def test_a_model_saved_in_python_predicts_identically_in_r(r):
    X, y = gradlm.datasets.crops()
    est = gradlm.load(r["models"] / "python.safetensors")
    np.testing.assert_array_equal(r["python_model_in_r"], est.predict(X).ravel(order="F"))
    # and it is the model that was saved: refit under the same seed, predict the same
    again = gradlm.GDRegressor(seed=1).fit(X, y)
    np.testing.assert_array_equal(r["python_model_in_r"], again.predict(X).ravel(order="F"))
    # with its report: R shows the verdict Python gave
    assert r["python_model_verdict"] == [est.report_.verdict()] == [again.report_.verdict()]
    assert r["python_model_converged"][0] == 1


def test_a_model_saved_in_r_predicts_identically_in_python(r):
    est = gradlm.load(r["models"] / "r.safetensors")
    frame = gradlm.datasets.crops().to_frame()
    assert list(est.feature_names_in_) == ["temperature", "rainfall", "humidity"]
    assert est.target_names_ == ["mangoes", "oranges"]
    np.testing.assert_array_equal(est.predict(frame[["temperature", "rainfall", "humidity"]]).ravel(order="F"),
                                  r["r_model_in_r"])
    coef = np.vstack([est.intercept_, est.coef_.T])  # lm's layout: (Intercept) then the predictors
    np.testing.assert_array_equal(coef.ravel(order="F"), r["r_model_coef"])
    assert est.converged_ and r["r_model_verdict"] == [est.report_.verdict()]  # the report travels with the file


def test_an_interrupt_in_r_returns_the_history_so_far(tmp_path):
    """SIGINT (Ctrl-C) during fit() in R: reticulate raises KeyboardInterrupt in Python,
    fit returns what it has, and the R session goes on."""
    import signal
    import time

    script = tmp_path / "interrupt.R"
    script.write_text(
        "suppressPackageStartupMessages(library(gradlm))\n"
        "d <- make_regression(20000, 5, seed = 0)\n"
        "x <- as.matrix(d[, 1:5])\n"
        "invisible(fit(linear_model(5, 1), x[1:10, ], d$y[1:10], epochs = 1, lr = 0.01))\n"
        "cat('training\\n')\n"
        "h <- tryCatch(fit(linear_model(5, 1), x, d$y, epochs = 1e6, lr = 0.01, batch_size = 8),\n"
        "              interrupt = function(e) 'an R interrupt instead')\n"
        "cat('stop_reason:', h$stop_reason, '\\n')\n"
        "cat('epochs:', length(h$loss), ncol(as.data.frame(h)), '\\n')\n"
        "cat('whole:', identical(dim(h$weight_path)[1], length(h$loss)), '\\n')\n"
        "cat('training again\\n')\n"
        "g <- gd_lm(x, d$y, epochs = 1e6, lr = 0.01, batch_size = 8, seed = 0)\n"
        "cat('gd_lm:', g$history$stop_reason, length(g$history$loss) > 0, all(is.finite(coef(g))), '\\n')\n"
        "cat('alive:', 1 + 1, '\\n')\n"
    )
    env = dict(os.environ)
    env.setdefault("R_LIBS_USER", str(ROOT / ".rlib"))
    env.setdefault("GRADLM_PYTHON", str(Path(os.sys.executable)))
    proc = subprocess.Popen(["Rscript", str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    assert proc.stdout.readline().strip() == "training"
    time.sleep(3)  # well into the million epochs
    proc.send_signal(signal.SIGINT)
    lines = []
    while not lines or lines[-1].strip() != "training again":
        lines.append(proc.stdout.readline())
        assert lines[-1], proc.stderr.read()
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    out = "".join(lines) + out
    assert proc.returncode == 0, err
    assert "stop_reason: interrupted" in out
    assert "whole: TRUE" in out and "alive: 2" in out
    assert "gd_lm: interrupted TRUE TRUE" in out
