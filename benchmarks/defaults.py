"""The defaults against the exact answer (a part of `make bench`, called by run.py).

Every fit here is given the data and nothing else: ``GDRegressor().fit(X, y)``
in Python, ``gd_lm(formula, data)`` in R. Each is judged against an exact
answer computed independently: R's ``lm()`` for R's datasets (and in Python,
on the same model matrix, which R exports), ``numpy.linalg.lstsq`` with an
intercept column for scikit-learn's datasets in Python, ``lm()`` for them in R
(on a CSV that Python wrote). The error is the largest relative coefficient
error, ``max |b - b_ref| / |b_ref|`` over every coefficient, intercept
included; the fit's own report says whether it converged; every warning the
default fit raised is counted. Nothing is hidden: a fit that misses 1e-6, does
not converge or warns is printed as it is, marked MISS.

One more row per language is an ill-conditioned design, ``y ~ poly(x, 5, raw =
TRUE)``: it must converge, or warn that it did not.

Then the time a default fit takes on the suite's data (n x 20 -> 2, float32)
against one normal-equation solve, measured in the same run, with the error it
reached against ``gradlm.lstsq``.

    python benchmarks/defaults.py [--quick]      (this part alone)
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import rscript  # noqa: E402  (benchmarks/rscript.py)
import torch

import gradlm

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1e-6
POLY_DEGREE = 5


def poly_data() -> tuple:
    """x = 0, 0.1, ..., 20 and y = sin(x / 3) + x / 10 + N(0, 0.1) noise (seed 42): the data of the poly rows."""
    x = np.arange(201) / 10
    y = np.sin(x / 3) + x / 10 + np.random.default_rng(42).normal(0.0, 0.1, x.size)
    return x, y


def write_csv(path: Path, columns: dict) -> None:
    """Columns of floats as CSV with 17 significant digits (they read back exactly)."""
    names = list(columns)
    data = np.column_stack([np.asarray(columns[c], dtype=np.float64) for c in names])
    np.savetxt(path, data, fmt="%.17g", delimiter=",", header=",".join(names), comments="")


def read_csv(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)


def sklearn_data() -> dict:
    """name -> (X, y (n, k), feature names, target names)."""
    from sklearn.datasets import load_diabetes, load_linnerud

    diabetes, linnerud = load_diabetes(), load_linnerud()
    return {
        "diabetes": (diabetes.data, diabetes.target[:, None], list(diabetes.feature_names), ["target"]),
        "linnerud": (linnerud.data, linnerud.target, list(linnerud.feature_names), list(linnerud.target_names)),
    }


def write_python_data(folder: Path) -> None:
    for name, (X, y, features, targets) in sklearn_data().items():
        write_csv(folder / f"{name}.csv", {**dict(zip(features, X.T)), **dict(zip(targets, y.T))})
    x, y = poly_data()
    write_csv(folder / "poly.csv", {"x": x, "y": y})


def run_r(folder: Path, reps: int) -> tuple:
    """Rscript defaults.R: R's fits (rows) and its exports into ``folder``; (rows, None) or ([], why not)."""
    if shutil.which("Rscript") is None:
        return [], "Rscript not found"
    result = subprocess.run(["Rscript", str(ROOT / "benchmarks" / "defaults.R"), str(folder), str(reps)],
                            capture_output=True, text=True, env=rscript.r_env(), timeout=1200)
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        return [], f"defaults.R failed (exit {result.returncode})"
    import csv

    rows = []
    with open(folder / "r_results.csv", newline="") as fh:
        for raw in csv.DictReader(fh):
            row = {"language": "R", "reference": "lm()", **raw}
            for key in ("n", "p", "epochs", "warnings"):
                row[key] = None if raw[key] in ("", "NA") else int(float(raw[key]))
            for key in ("time_ms", "error_ref", "worst_ref", "error_lstsq", "coef_error", "tol"):
                row[key] = None if raw[key] in ("", "NA") else float(raw[key])
            row["converged"] = {"TRUE": True, "FALSE": False}.get(raw["converged"])
            for key in ("stop_reason", "messages", "failure"):
                row[key] = None if raw[key] in ("", "NA") else raw[key]
            rows.append(row)
    return rows, None


def max_rel_error(b: np.ndarray, ref: np.ndarray) -> tuple:
    """``(max |b - ref| / |ref|, the ref coefficient where it is reached)``."""
    rel = np.abs(b - ref) / np.abs(ref)
    worst = np.unravel_index(np.argmax(rel), rel.shape)
    return float(rel[worst]), float(ref[worst])


def lm_layout(intercept, coef) -> np.ndarray:
    """(p + 1, k): the intercept, then one row per predictor (as R's coef() of a multi-response lm)."""
    return np.vstack([np.atleast_1d(intercept)[None, :], np.atleast_2d(coef).T])


def python_row(name: str, X: np.ndarray, y: np.ndarray, ref: np.ndarray, reference: str, reps: int,
               median) -> dict:
    """One default fit, ``GDRegressor().fit(X, y)``, judged against ``ref`` ((p + 1, k), lm's layout)."""
    y = y[:, 0] if y.shape[1] == 1 else y
    row = {"dataset": name, "language": "Python", "n": X.shape[0], "p": X.shape[1], "reference": reference,
           "epochs": None, "time_ms": None, "error_ref": None, "worst_ref": None, "error_lstsq": None,
           "converged": None, "warnings": 0, "coef_error": None, "tol": None, "stop_reason": None, "messages": None,
           "failure": None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est = gradlm.GDRegressor().fit(X, y)
        except Exception as e:  # noqa: BLE001 - a failing default is a row of the table, not a crash
            est, row["failure"] = None, f"{type(e).__name__}: {e}"
    row["warnings"] = len(caught)
    row["messages"] = " | ".join(f"{w.category.__name__}: {w.message}" for w in caught) or None
    if est is None:
        return row

    def quiet_fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gradlm.GDRegressor().fit(X, y)

    b = lm_layout(est.intercept_, est.coef_)
    report = est.report_
    error_ref, worst_ref = max_rel_error(b, ref)
    row.update(epochs=est.n_iter_, time_ms=median(quiet_fit, reps) * 1000, error_ref=error_ref, worst_ref=worst_ref,
               error_lstsq=max_rel_error(b, lm_layout(est.lstsq_.bias, est.lstsq_.weight))[0],
               converged=est.converged_, coef_error=report.coef_error, tol=report.tol,
               stop_reason=report.stop_reason)
    return row


def python_rows(folder: Path, have_r: bool, reps: int, median) -> list:
    rows = []
    if have_r:
        import csv

        with open(folder / "datasets.csv", newline="") as fh:
            names = [r["name"] for r in csv.DictReader(fh)]
        for name in names:
            X, y, ref = (read_csv(folder / f"{name}_{part}.csv") for part in ("x", "y", "lm"))
            rows.append(python_row(name, X, y, ref, "lm()", reps, median))
    for name, (X, y, _, _) in sklearn_data().items():
        A = np.column_stack([np.ones(X.shape[0]), X])
        ref = np.linalg.lstsq(A, y, rcond=None)[0]
        rows.append(python_row(name, X, y, ref, "numpy lstsq", reps, median))
    x, y = poly_data()
    if have_r:  # R's model matrix of poly(x, 5, raw = TRUE) and lm()'s coefficients
        X, ref, reference = read_csv(folder / "poly5_x.csv"), read_csv(folder / "poly5_lm.csv"), "lm()"
    else:
        X = x[:, None] ** np.arange(1, POLY_DEGREE + 1)
        ref = np.linalg.lstsq(np.column_stack([np.ones(x.size), X]), y[:, None], rcond=None)[0]
        reference = "numpy lstsq"
    rows.append(python_row("poly5", X, y[:, None], ref, reference, max(1, reps // 2), median))
    return rows


def verdict(row: dict) -> str:
    """'ok', or 'MISS: ' and every target it missed. The poly row may instead not converge, if it warned."""
    if row.get("failure"):
        return "MISS: error raised"
    misses = []
    if row["error_ref"] is None or not (row["error_ref"] <= TARGET):
        misses.append(f"error {fmt(row['error_ref'], '.1e')} > {TARGET:.0e}")
    if row["dataset"] == "poly5":
        if not row["converged"] and row["warnings"] == 0:
            misses.append("not converged, and no warning")
        if row["converged"] and row["warnings"]:
            misses.append("converged but warned")
    else:
        if not row["converged"]:
            misses.append("not converged")
        if row["warnings"]:
            misses.append(f"{row['warnings']} warning(s)")
    if misses:
        return "MISS: " + "; ".join(misses)
    if row["dataset"] == "poly5":
        return "ok (converged)" if row["converged"] else "ok (did not converge, warned)"
    return "ok"


def big_data(X: torch.Tensor, y: torch.Tensor, reps: int, median, normal_equations) -> dict:
    """``GDRegressor().fit(X, y)`` against one normal-equation solve, interleaved rep by rep; medians."""
    est = gradlm.GDRegressor().fit(X[:2048], y[:2048])  # warm-up
    normal_equations(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = gradlm.GDRegressor().fit(X, y)
    fit_times, solve_times = [], []
    for _ in range(reps):
        fit_times.append(median(lambda: gradlm.GDRegressor().fit(X, y), 1))
        solve_times.append(median(lambda: normal_equations(X, y), 1))
    exact = gradlm.lstsq(X, y)
    error, worst_ref = max_rel_error(lm_layout(est.intercept_, est.coef_), lm_layout(exact.bias, exact.weight))
    return {"n": X.shape[0], "d": X.shape[1], "k": y.shape[1], "dtype": str(X.dtype).replace("torch.", ""),
            "fit_s": float(np.median(fit_times)), "normal_equations_s": float(np.median(solve_times)),
            "epochs": est.n_iter_, "error_lstsq": error, "worst_ref": worst_ref,
            "coef_error": est.report_.coef_error, "tol": est.report_.tol, "converged": est.converged_,
            "warnings": len(caught), "messages": [str(w.message) for w in caught]}


def run(X: torch.Tensor, y: torch.Tensor, quick: bool, median, normal_equations) -> dict:
    """The defaults' rows (both languages) and the big-data row; times through ``median(fn, repeats)``."""
    reps = 3 if quick else 5
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_python_data(folder)
        r_rows, r_missing = run_r(folder, reps)
        r_seconds = time.perf_counter() - start
        have_r = (folder / "datasets.csv").exists()
        py_rows = python_rows(folder, have_r, reps, median)
    rows = []
    for name in [r["dataset"] for r in py_rows]:  # interleave: each dataset's Python row, then its R row
        rows += [r for r in py_rows + r_rows if r["dataset"] == name]
    rows += [r for r in r_rows if r["dataset"] not in {p["dataset"] for p in py_rows}]
    for row in rows:
        row["verdict"] = verdict(row)
    mid = time.perf_counter()
    big = big_data(X, y, reps, median, normal_equations)
    big["verdict"] = verdict({"dataset": "big", **big, "error_ref": big["error_lstsq"]})
    print(f"defaults: {len(rows)} rows, {sum(r['verdict'].startswith('MISS') for r in rows)} MISS; "
          f"big data fit {big['fit_s']:.4f} s, normal equations {big['normal_equations_s']:.4f} s", file=sys.stderr)
    return {"rows": rows, "r_missing": r_missing, "big": big,
            "seconds": {"r": r_seconds, "python": mid - start - r_seconds, "big": time.perf_counter() - mid}}


def fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return format(value, spec)


def markdown(res: dict) -> list:
    titles = {"poly5": "poly(x, 5, raw = TRUE)", "linnerud": "linnerud (3 targets)"}
    lines = ["", "Defaults against the exact answer: `GDRegressor().fit(X, y)` / `gd_lm(formula, data)`, no other "
             "argument; error = max |b - b_ref| / |b_ref| over all coefficients (intercept included); "
             f"target: error <= {TARGET:.0e}, converged, no warning.", ""]
    if res.get("r_missing"):
        lines += [f"(R rows missing: {res['r_missing']})", ""]
    lines += ["| dataset | language | n | p | epochs | time (ms) | reference | error vs reference (at b_ref =) "
              "| error vs gradlm.lstsq "
              "| converged | warnings | verdict |",
              "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | :---: | ---: | --- |"]
    for r in res["rows"]:
        converged = "n/a" if r["converged"] is None else ("yes" if r["converged"] else "no")
        lines.append(f"| {titles.get(r['dataset'], r['dataset'])} | {r['language']} | {fmt(r['n'], 'd')} "
                     f"| {fmt(r['p'], 'd')} | {fmt(r['epochs'], 'd')} | {fmt(r['time_ms'], '.1f')} | {r['reference']} "
                     f"| {fmt(r['error_ref'], '.1e')} ({fmt(r['worst_ref'], '.3g')}) | {fmt(r['error_lstsq'], '.1e')} "
                     f"| {converged} | {r['warnings']} | {r['verdict']} |")
    notes = [r for r in res["rows"] if r.get("messages") or r.get("failure")]
    if notes:
        lines += [""]
        lines += [f"- {r['dataset']} ({r['language']}): {r.get('failure') or ''} {r.get('messages') or ''}".rstrip()
                  for r in notes]
    b = res["big"]
    lines += ["", f"Time to the least-squares coefficients by default: {b['n']:,} x {b['d']} -> {b['k']}, {b['dtype']}",
              "",
              "| case | median time (s) | ratio to one normal-equation solve | epochs | error vs gradlm.lstsq "
              "(at b_ref =) | report's coef_error (tol) | converged | warnings | verdict |",
              "| --- | ---: | ---: | ---: | ---: | ---: | :---: | ---: | --- |",
              f"| GDRegressor().fit(X, y) | {b['fit_s']:.4f} | {b['fit_s'] / b['normal_equations_s']:.2f} "
              f"| {b['epochs']} | {b['error_lstsq']:.1e} ({b['worst_ref']:.3g}) "
              f"| {b['coef_error']:.1e} ({fmt(b['tol'], '.0e')}) | {'yes' if b['converged'] else 'no'} "
              f"| {b['warnings']} | {b['verdict']} |",
              f"| normal equations (float32, one solve) | {b['normal_equations_s']:.4f} | 1.00 | | | | | | |"]
    lines += [f"- GDRegressor().fit(X, y): {message}" for message in b["messages"]]
    s = res["seconds"]
    lines += ["", f"(this part took {s['r']:.0f} s in R, {s['python']:.0f} s in Python, "
              f"{s['big']:.0f} s on the big data)"]
    return lines


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as suite  # noqa: E402  (benchmarks/run.py)

    quick = suite.part_alone("10^5 rows for the big data, fewer repeats")
    X, y = suite.suite_data(quick)
    print("\n".join(markdown(run(X, y, quick, suite.median_time, suite.normal_equations))))


if __name__ == "__main__":
    main()
