"""Time to the answer: wall time to the least-squares coefficients within 1e-6, every tool with its defaults (the
headline of `make bench`, called by run.py).

On the suite's data (run.py's ``make_data``: n x 20 features -> 2 outputs, float32), in one run:

- gradlm: ``GDRegressor().fit(X, y)`` in Python; from R, ``gd_lm(formula, data)`` and ``gd_lm(x, y)`` (timed
  inside R, the conversion to Python included); each once more on one torch thread (a row of its own);
- R: ``lm(formula, data)`` and ``lm.fit(cbind(1, x), y)``, timed inside R (benchmarks/r_time_to_answer.R, on the
  same values, written once to a binary file as float64);
- scikit-learn: ``LinearRegression()`` and ``SGDRegressor()`` (one fit per output, as it fits one at a time), on
  the float32 arrays; SGDRegressor's defaults stop far from 1e-6, and the row says so: it is not tuned.
  LinearRegression solves in the input's precision, so a second row gives it a float64 copy (the copy timed);
- one normal-equation solve, the floor: ``[X 1]'[X 1]`` and ``[X 1]'y`` in float64 (the conversion timed), then
  ``torch.linalg.solve``.

Accuracy is ``max |b - b_exact| / max |b_exact|`` over every coefficient, intercepts included, with ``b_exact``
from ``gradlm.lstsq`` in float64 on the same values. Python's tools are interleaved repeat by repeat after a
warm-up; R's among themselves; medians. A missing R or package is a "skipped:" line.

    python benchmarks/time_to_answer.py [--quick]      (this part alone)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import rscript  # noqa: E402  (benchmarks/rscript.py)
import torch

import gradlm

TARGET = 1e-6
BASE = "gradlm GDRegressor().fit(X, y)"


def layout(intercept, coef) -> np.ndarray:
    """(d + 1, k): the intercept, then one row per feature (R's coef() of a multi-response lm)."""
    return np.vstack([np.atleast_1d(np.asarray(intercept, dtype=np.float64))[None, :],
                      np.atleast_2d(np.asarray(coef, dtype=np.float64)).T])


def accuracy(b: np.ndarray, exact: np.ndarray) -> float:
    """``max |b - exact| / max |exact|`` over every coefficient."""
    return float(np.abs(b - exact).max() / np.abs(exact).max())


# The Python tools: each takes (X, y) torch float32 and returns the coefficients in ``layout``.

def gradlm_default(X, y):
    est = gradlm.GDRegressor().fit(X, y)
    return layout(est.intercept_, est.coef_)


def sklearn_linear_regression(X, y):
    from sklearn.linear_model import LinearRegression

    est = LinearRegression().fit(X.numpy(), y.numpy())
    return layout(est.intercept_, est.coef_)


def sklearn_linear_regression64(X, y):
    """The same on a float64 copy (the conversion timed): float32 input makes scikit-learn solve in float32."""
    return sklearn_linear_regression(X.double(), y.double())


def sklearn_sgd(X, y):
    from sklearn.linear_model import SGDRegressor

    Xn, yn = X.numpy(), y.numpy()
    fits = [SGDRegressor().fit(Xn, yn[:, j]) for j in range(yn.shape[1])]
    return layout(np.concatenate([f.intercept_ for f in fits]), np.vstack([f.coef_ for f in fits]))


def normal_equations64(X, y):
    """One solve of [X 1]'[X 1] w = [X 1]'y, the moments in float64."""
    Xa = torch.cat([X.double(), torch.ones(X.shape[0], 1, dtype=torch.float64)], dim=1)
    w = torch.linalg.solve(Xa.T @ Xa, Xa.T @ y.double())
    return layout(w[-1].numpy(), w[:-1].T.numpy())


def gradlm_default_one_thread(X, y):
    """The same fit on one torch thread: its moment pass is ~30 chunk-sized operations, where a second thread's
    wake-up can cost more than it saves (penalties.py shows the same)."""
    import penalties  # noqa: E402  (benchmarks/penalties.py)

    return penalties.on_one_thread(lambda: gradlm_default(X, y))()


TOOLS = {BASE: gradlm_default, "gradlm GDRegressor().fit(X, y), 1 torch thread": gradlm_default_one_thread,
         "scikit-learn LinearRegression()": sklearn_linear_regression,
         "scikit-learn LinearRegression() on a float64 copy": sklearn_linear_regression64,
         "scikit-learn SGDRegressor() (per output)": sklearn_sgd,
         "normal equations (torch, float64 moments, one solve)": normal_equations64}


def python_rows(X, y, exact, reps: int) -> list:
    for fn in TOOLS.values():  # warm-up (imports, allocators)
        fn(X[:2048], y[:2048])
    times: dict = {key: [] for key in TOOLS}
    coef: dict = {}
    keys = list(TOOLS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (SGDRegressor's defaults may warn: the accuracy reached is the verdict)
        for i in range(reps):  # interleaved, the order turning each round
            for key in keys[i % len(keys):] + keys[: i % len(keys)]:
                start = time.perf_counter()
                coef[key] = TOOLS[key](X, y)
                times[key].append(time.perf_counter() - start)
    return [{"tool": key, "language": "Python", "time_s": float(np.median(times[key])),
             "accuracy": accuracy(coef[key], exact)} for key in keys]


def r_rows(X, y, exact, reps: int) -> tuple:
    """R's rows from Rscript r_time_to_answer.R: (rows, notes)."""
    n, d = X.shape
    k = y.shape[1]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # column by column (R's layout), float64: the float32 values, exactly
        np.concatenate([X.numpy().T.ravel(), y.numpy().T.ravel()]).astype("<f8").tofile(folder / "data.bin")
        _, why_not = rscript.rscript("r_time_to_answer.R", folder, n, d, k, reps)
        if why_not:
            return [], [f"R rows skipped: {why_not}"]
        rows = [{"tool": raw["tool"], "language": "R", "time_s": float(raw["time_s"]),
                 "accuracy": accuracy(np.fromfile(folder / raw["coef_file"], dtype="<f8").reshape(k, d + 1).T, exact)}
                for raw in rscript.results(folder)]
        return rows, rscript.notes(folder)


def run(X: torch.Tensor, y: torch.Tensor, quick: bool) -> dict:
    """Every tool's row (Python's, then R's): medians of ``reps`` timed calls."""
    import penalties  # noqa: E402  (benchmarks/penalties.py: cpu_model)

    reps = 3 if quick else 5
    start, load = time.perf_counter(), [os.getloadavg()[0]]
    exact_fit = gradlm.lstsq(X.double(), y.double())
    exact = layout(exact_fit.bias, exact_fit.weight)
    rows = python_rows(X, y, exact, reps)
    python_s = time.perf_counter() - start
    r, notes = r_rows(X, y, exact, reps)
    load.append(os.getloadavg()[0])
    print(f"time to the answer: {len(rows)} Python rows, {len(r)} R rows", file=sys.stderr)
    return {"n": X.shape[0], "d": X.shape[1], "k": y.shape[1], "dtype": str(X.dtype).replace("torch.", ""),
            "threads": torch.get_num_threads(), "cpu": penalties.cpu_model(), "cores": os.cpu_count(),
            "load": load, "reps": reps, "rows": rows + r, "notes": notes,
            "seconds": {"python": python_s, "r": time.perf_counter() - start - python_s}}


def markdown(res: dict) -> list:
    if res.get("skipped"):
        return [f"Time to the answer: skipped: {res['skipped']}"]
    base = next(r["time_s"] for r in res["rows"] if r["tool"] == BASE)
    lines = [f"Time to the answer: wall time until the coefficients are within {TARGET:.0e} of least squares, every "
             f"tool with its defaults. n = {res['n']:,} rows, d = {res['d']} features, {res['k']} outputs, "
             f"{res['dtype']} (R: the same values as float64); accuracy = max |b - b_exact| / max |b_exact|, "
             "intercepts included, b_exact = gradlm.lstsq in float64. "
             f"{res['cpu']}, {res['cores']} cores, {res['threads']} torch threads; load average {res['load'][0]:.1f} "
             f"at the start, {res['load'][1]:.1f} at the end; medians of {res['reps']}.", ""]
    lines += [f"- {note}" for note in res["notes"]] + ([""] if res["notes"] else [])
    lines += ["| tool | language | median time (s) | accuracy reached | ratio to gradlm's default fit (higher: gradlm "
              "faster) |", "| --- | --- | ---: | ---: | ---: |"]
    for r in res["rows"]:
        miss = "" if r["accuracy"] <= TARGET else f" (does not reach {TARGET:.0e})"
        lines.append(f"| {r['tool']} | {r['language']} | {r['time_s']:.3f} | {r['accuracy']:.1e}{miss} "
                     f"| {r['time_s'] / base:.2f} |")
    s = res["seconds"]
    lines += ["", f"(this part took {s['python']:.0f} s in Python, {s['r']:.0f} s in R)"]
    return lines


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as suite  # noqa: E402  (benchmarks/run.py)

    quick = suite.part_alone("10^5 rows")
    X, y = suite.suite_data(quick)
    print("\n".join(markdown(run(X, y, quick))))


if __name__ == "__main__":
    main()
