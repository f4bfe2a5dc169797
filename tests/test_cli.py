"""The gradlm command, run as a user runs it: in a subprocess."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import gradlm


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "gradlm", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_demo_prints_losses_weights_beside_lstsq_and_writes_the_plot(tmp_path):
    result = run("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "epoch" in out and "loss" in out
    assert "mangoes (gd)" in out and "mangoes (lstsq)" in out
    assert (tmp_path / "gradlm-demo" / "loss.png").stat().st_size > 1000
    assert "loss plot written to" in out
    # the demo's gradient-descent weights agree with least squares to the printed digits
    weight, _ = gradlm.lstsq(*gradlm.datasets.crops())
    line = next(row for row in out.splitlines() if row.startswith("temperature"))
    gd, exact = float(line.split()[1]), float(line.split()[2])
    assert gd == pytest.approx(exact, abs=2e-6) and exact == pytest.approx(weight[0, 0], abs=1e-6)


def test_fit_csv_json(tmp_path):
    frame = gradlm.datasets.crops().to_frame()
    path = tmp_path / "crops.csv"
    frame.to_csv(path, index=False)
    result = run("fit", str(path), "--target", "mangoes,oranges", "--epochs", "300", "--lr", "0.5",
                 "--standardize", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["features"] == ["temperature", "rainfall", "humidity"]  # region is not numeric: left out
    assert data["targets"] == ["mangoes", "oranges"]
    # certified: it stops once every coefficient is within tol (1e-10 in float64) of least squares
    assert data["converged"] and data["stop_reason"] == "converged" and len(data["loss"]) < 300
    assert data["report"]["coef_error"] <= data["report"]["tol"] and "converged in" in data["report"]["verdict"]
    np.testing.assert_allclose(data["weight"], data["lstsq_weight"], rtol=1e-8)
    np.testing.assert_allclose(data["bias"], data["lstsq_bias"], rtol=1e-8)


def test_fit_with_defaults_reaches_least_squares_diabetes(tmp_path):
    """`gradlm fit diabetes.csv --target target` exited 0 printing s1 13.40 beside the exact -792.18."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    path = tmp_path / "diabetes.csv"
    frame.to_csv(path, index=False)
    result = run("fit", str(path), "--target", "target")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    line = next(row for row in result.stdout.splitlines() if row.startswith("s1 "))
    gd, exact = float(line.split()[1]), float(line.split()[2])
    assert gd == pytest.approx(-792.1757, abs=1e-4) and gd == pytest.approx(exact, rel=1e-8)
    assert "converged in" in result.stdout
    # a budget too small says so, on stderr, and in the output's verdict
    result = run("fit", str(path), "--target", "target", "--epochs", "5")
    assert result.returncode == 0 and "did not converge (ran all 5 epochs)" in result.stdout
    assert "gradlm: warning: did not converge" in result.stderr


def test_fit_csv_feature_selection_minibatch_and_plot(tmp_path):
    frame = gradlm.datasets.crops().to_frame()
    path = tmp_path / "crops.csv"
    frame.to_csv(path, index=False)
    plot = tmp_path / "loss.png"
    result = run("fit", str(path), "--target", "oranges", "--features", "rainfall,humidity", "--epochs", "20",
                 "--lr", "0.05", "--batch-size", "5", "--optimizer", "adam", "--seed", "3", "--standardize",
                 "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    assert "oranges (gd)" in result.stdout and "temperature" not in result.stdout
    assert plot.stat().st_size > 1000


@pytest.mark.parametrize("args, message", [
    (["--target", "apples"], "column 'apples' is not in"),
    (["--target", "region"], "column 'region' of"),
    (["--target", "mangoes", "--lr", "-1"], "lr must be > 0"),
    (["--target", "mangoes", "--optimizer", "lbfgs"], "optimizer must be one of 'sgd', 'adam'"),
    (["--target", "mangoes", "--epochs", "0"], "epochs must be >= 1"),
    (["--target", "mangoes", "--batch-size", "0"], "batch_size must be >= 1"),
    (["--target", "mangoes", "--nproc", "2"], "--nproc needs Parquet or .npy data"),
    (["--target", "mangoes", "--lr-schedule", "linear"],
     "argument --lr-schedule: invalid choice: 'linear' (choose from 'constant', 'step', 'cosine', 'invscaling')"),
    (["--target", "mangoes", "--validation-fraction", "1.5"], "validation_fraction must be a number between 0 and 1"),
    (["--target", "mangoes", "--validation-fraction", "0.9"], "leaves 1 for training and 14 for validation"),
    (["--target", "mangoes", "--validation-fraction", "half"], "argument --validation-fraction: invalid float value"),
    (["--target", "mangoes", "--alpha", "-1"], "alpha must be >= 0; got -1.0"),
    (["--target", "mangoes", "--alpha", "1", "--l1-ratio", "2"], "l1_ratio must be between 0 and 1; got 2.0"),
    (["--target", "mangoes", "--history", "none"], "argument --history: invalid choice: 'none'"),
])
def test_errors_exit_2_with_a_message(tmp_path, args, message):
    path = tmp_path / "crops.csv"
    gradlm.datasets.crops().to_frame().to_csv(path, index=False)
    result = run("fit", str(path), *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_console_script_is_installed():
    import shutil

    script = shutil.which("gradlm", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert script is not None
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "demo" in result.stdout


def test_bad_rows_and_divergence(tmp_path):
    """Missing values are named by column and line (as the CSV's other errors); a typo in a column is said, not
    silently dropped; divergence exits 1 with the stable learning rate."""
    path = tmp_path / "data.csv"
    path.write_text("a,b,y\n1,2,3\n2,,5\n3,4,7\n")
    result = run("fit", str(path), "--target", "y")
    assert result.returncode == 2 and "column(s) 'b' 1, the first on line 3" in result.stderr
    path.write_text("a,b,y\n1,2,3\n2,x,5\n3,4,7\n4,4,9\n")
    result = run("fit", str(path), "--target", "y", "--epochs", "2", "--json")
    assert result.returncode == 0
    assert "gradlm: warning: column 'b'" in result.stderr and "line 3 has 'x'" in result.stderr
    assert json.loads(result.stdout)["features"] == ["a"]
    result = run("fit", str(path), "--target", "y", "--lr", "5", "--epochs", "500")
    assert result.returncode == 1
    assert "training diverged" in result.stderr and "stable for lr <" in result.stderr
    assert "Traceback" not in result.stderr


def test_duplicate_column_names_are_refused_not_swapped(tmp_path):
    """x,x,y: both features held the second column's data, and the command exited 0."""
    path = tmp_path / "dup.csv"
    path.write_text("x,x,y\n1,10,3\n2,20,5\n3,30,8\n")
    result = run("fit", str(path), "--target", "y")
    assert result.returncode == 2 and "more than one column named 'x'" in result.stderr


def _with_missing(tmp_path):
    path = tmp_path / "air.csv"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    y = 1 + x @ [2.0, -1.0] + 0.1 * rng.normal(size=40)
    lines = ["Ozone,Wind,Temp"] + [f"{'' if i in (3, 9) else y[i]},{'NA' if i == 5 else x[i, 0]},{x[i, 1]}"
                                   for i in range(40)]
    path.write_text("\n".join(lines) + "\n")
    complete = np.array([i not in (3, 5, 9) for i in range(40)])
    return path, x[complete], y[complete]


def test_missing_csv_values_are_named_by_column_and_line(tmp_path):
    """New-user review: airquality's NAs gave "X contains 7 NaN ... the first in row 4" (counted from 0, the
    target's own NAs unmentioned), unlike the CLI's other CSV errors, which name lines."""
    path, _, _ = _with_missing(tmp_path)
    result = run("fit", str(path), "--target", "Ozone")
    assert result.returncode == 2
    assert "column(s) 'Wind' 1, 'Ozone' 2, the first on line 5" in result.stderr, result.stderr
    assert "--drop-missing" in result.stderr


def test_drop_missing_fits_the_complete_rows_as_lm(tmp_path):
    path, x, y = _with_missing(tmp_path)
    result = run("fit", str(path), "--target", "Ozone", "--drop-missing", "--json")
    assert result.returncode == 0, result.stderr
    assert "left out 3 row(s)" in result.stderr
    out = json.loads(result.stdout)
    A = np.column_stack([np.ones(len(y)), x])
    exact = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(out["lstsq_weight"][0], exact[1:], rtol=1e-10)
    np.testing.assert_allclose(out["weight"][0], exact[1:], rtol=1e-8)


def test_a_missing_file_is_named_without_pythons_errno(tmp_path):
    result = run("fit", str(tmp_path / "nofile.csv"), "--target", "y")
    assert result.returncode == 2
    assert "nofile.csv: No such file or directory" in result.stderr and "Errno" not in result.stderr


def test_a_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffx,y\n1,3\n2,5\n3,8\n".encode("utf-8"))
    result = run("fit", str(path), "--target", "y", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["features"] == ["x"]


@pytest.mark.parametrize("nproc", ["0", "-3"])
def test_nproc_below_one_is_refused(tmp_path, nproc):
    frame = gradlm.datasets.crops().to_frame()
    path = tmp_path / "crops.csv"
    frame.to_csv(path, index=False)
    result = run("fit", str(path), "--target", "mangoes", "--nproc", nproc)
    assert result.returncode == 2 and f"--nproc must be at least 1; got {nproc}" in result.stderr


def test_parquet_duplicate_column_names_exit_2_with_the_csv_message(tmp_path):
    """A Parquet file with two columns 'a' ended in a KeyError traceback from pyarrow."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array([1.0, 2, 3]), pa.array([0.0, 1, 0]), pa.array([1.0, 2, 4])],
                                        names=["a", "a", "y"]), path)
    result = run("fit", str(path), "--target", "y")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "dup.parquet has more than one column named 'a'; give every column its own name" in result.stderr


@pytest.mark.parametrize("name", ["X.npz", "data.xlsx", "data.csv.gz"])
def test_unsupported_file_type_is_refused_naming_the_types_read(tmp_path, name):
    """`gradlm fit X.npz --target y.npy` read the .npz as a CSV: "'utf-8' codec can't decode byte ..."."""
    path = tmp_path / name
    if name.endswith(".npz"):
        np.savez(path, X=np.ones((4, 2)))
    else:
        path.write_bytes(b"PK\x03\x04\xe3\x00binary")
    np.save(tmp_path / "y.npy", np.ones(4))
    result = run("fit", str(path), "--target", str(tmp_path / "y.npy"))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "codec" not in result.stderr
    suffix = "." + name.rsplit(".", 1)[1]
    assert f"gradlm: error: {str(path)!r} is a {suffix} file, which gradlm fit does not read; it reads CSV" \
           in result.stderr
    assert "Parquet (a .parquet or .pq file, or a folder of them) and .npy" in result.stderr
    if suffix == ".npz":
        assert "np.save" in result.stderr
    result = run("fit", str(path), "--target", "y", "--nproc", "2")  # refused the same way, not as a CSV
    assert result.returncode == 2 and f"is a {suffix} file, which gradlm fit does not read" in result.stderr


def test_binary_file_named_csv_is_named_not_a_codec_error(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,\xe3\x81\n")
    result = run("fit", str(path), "--target", "b")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{path} is not UTF-8 text" in result.stderr and "save it as a CSV in UTF-8" in result.stderr


def test_fit_reports_lm_inference_in_text_and_json(tmp_path):
    """The command line gave coefficients without standard errors."""
    X, y = gradlm.datasets.crops()
    path = tmp_path / "crops.csv"
    np.savetxt(path, np.column_stack([X.numpy(), y[:, 0].numpy()]), delimiter=",", header="t,r,h,mangoes",
               comments="")
    result = run("fit", str(path), "--target", "mangoes", "--json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)["inference"]
    ref = gradlm.GDRegressor().fit(X.double(), y[:, 0].double()).inference_
    np.testing.assert_allclose(got["std_error"], ref.bse, rtol=1e-8)
    assert got["df_residual"] == 11 and got["converged"] is True
    text = run("fit", str(path), "--target", "mangoes").stdout
    assert "Std. Error" in text and "Residual standard error" in text and "on 3 and 11 DF" in text


def crops_csv(tmp_path):
    path = tmp_path / "crops.csv"
    gradlm.datasets.crops().to_frame().to_csv(path, index=False)
    return path


def test_alpha_and_l1_ratio_give_the_estimators_elastic_net(tmp_path):
    """--alpha/--l1-ratio fit GDRegressor(alpha=, l1_ratio=): ElasticNet's objective on standardized predictors."""
    from sklearn.linear_model import ElasticNet

    from gradlm.io import read_csv

    path = crops_csv(tmp_path)
    result = run("fit", str(path), "--target", "mangoes", "--alpha", "0.5", "--l1-ratio", "0.5", "--json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["converged"] and got["settings"]["alpha"] == 0.5 and got["settings"]["l1_ratio"] == 0.5
    data = read_csv(path, target="mangoes", dtype=torch.float64)
    X, y = data.X.numpy(), data.y.numpy()[:, 0]
    est = gradlm.GDRegressor(alpha=0.5, l1_ratio=0.5, seed=0).fit(X, y)
    np.testing.assert_allclose(got["weight"][0], est.coef_, rtol=1e-12)
    sd = X.std(axis=0)  # (glmnet's standardize: the penalty on X / sd)
    reference = ElasticNet(alpha=0.5, l1_ratio=0.5, tol=1e-14, max_iter=100_000).fit(X / sd, y)
    np.testing.assert_allclose(got["weight"][0], reference.coef_ / sd, rtol=1e-7)
    np.testing.assert_allclose(got["bias"][0], reference.intercept_, rtol=1e-7)


def test_lr_schedule_and_history_are_recorded_in_json(tmp_path):
    path = crops_csv(tmp_path)
    result = run("fit", str(path), "--target", "mangoes,oranges", "--lr-schedule", "cosine", "--batch-size", "5",
                 "--epochs", "20", "--lr", "0.05", "--history", "full", "--json")
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout)["settings"]
    assert settings["lr_schedule"] == "cosine" and settings["history"] == "full" and settings["batch_size"] == 5
    assert settings["validation_fraction"] is None


def test_validation_fraction_holds_out_rows_and_stops_on_them(tmp_path):
    path = crops_csv(tmp_path)
    args = ("fit", str(path), "--target", "mangoes", "--validation-fraction", "0.2", "--batch-size", "3", "--lr",
            "0.05", "--epochs", "500")
    result = run(*args, "--json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["settings"]["validation_fraction"] == 0.2 and got["settings"]["n"] == 12  # 3 of 15 rows held out
    assert got["settings"]["patience"] == 10 and len(got["val_loss"]) == got["epochs_run"] < 500
    assert got["stop_reason"] == "patience"
    assert got["epochs_run"] == int(np.argmin(got["val_loss"])) + 1 + 10
    text = run(*args).stdout  # the table gets the held-out loss beside the training loss
    assert "validation loss" in text.splitlines()[0] and "(patience)" in text


def test_validation_fraction_of_streamed_data_is_refused(tmp_path):
    X, y = gradlm.datasets.crops()
    np.save(tmp_path / "X.npy", X.numpy())
    np.save(tmp_path / "y.npy", y.numpy())
    result = run("fit", str(tmp_path / "X.npy"), "--target", str(tmp_path / "y.npy"), "--validation-fraction", "0.2")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--validation-fraction holds out rows of a CSV file" in result.stderr
