"""Time to a ridge, lasso and elastic-net solution at 1e-6: gradlm, scikit-learn and glmnet (a part of `make bench`).

One problem per penalty, the same for every tool: on synthetic data (100,000
rows x 100 correlated features of unequal scales, float64, 20 true
coefficients nonzero, seed 0), each minimises

    1 / (2 n) ||y - X w - b||^2 + alpha * (l1_ratio * ||s w||_1 + (1 - l1_ratio) / 2 * ||s w||^2)

with ``s`` the features' population standard deviations: the penalty on
standardized predictors, ``GDRegressor(alpha, l1_ratio)``'s default and
glmnet's ``standardize = TRUE``. Each tool is asked that problem in its own
terms (see :mod:`gradlm.penalty`):

- gradlm: ``GDRegressor(alpha=alpha, l1_ratio=l1_ratio)``, on the suite's torch
  threads and on one; and from R, ``gd_lm(x, y, penalty = alpha, mixture =
  l1_ratio)`` when the installed package has them.
- scikit-learn: ``Ridge(alpha=alpha * n)``, ``Lasso(alpha)`` or
  ``ElasticNet(alpha, l1_ratio)`` on ``X / s`` (``s`` computed inside the
  timing), coefficients divided by ``s``.
- glmnet (R, benchmarks/r_penalties.R): on ``y / sd(y)``, where its own
  scaling of ``y`` does nothing, with ``lambda`` and ``alpha`` mapped so that
  its documented objective is this one; coefficients times ``sd(y)``.

The exact optimum comes from :func:`gradlm.penalty.exact_solution` (the
linear system on the active set, certified by the KKT conditions) at the signs
of a certified gradlm fit, and is checked against scikit-learn at tol=1e-14
(it must agree to 1e-9). Accuracy is ``max |coef - exact| / max |exact|`` over
the weights. Each tool's convergence tolerance is searched once, outside the
timing, for the loosest setting of a grid that still reaches 1e-6; that
setting is then timed, the tools interleaved repeat by repeat, medians
reported. Every row prints the accuracy it reached, so a tool that solved a
different problem shows as a MISS, not as a speed.

    python benchmarks/penalties.py [--quick]      (this part alone)
"""

from __future__ import annotations

import csv
import os
import platform
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
from gradlm.analytic import SufficientStatistics
from gradlm.penalty import Penalty, exact_solution

N, D, NONZERO, RHO = 100_000, 100, 20, 0.7
TARGET = 1e-6
AGREEMENT = 1e-9
# (name, alpha, l1_ratio): each shrinks the least-squares coefficients (their norm on the standardized scale)
# by 11-32%; the lasso keeps 18 of the 100 features, the elastic net 38.
CASES = [("ridge", 0.2, 0.0), ("lasso", 0.2, 1.0), ("elastic net", 0.2, 0.5)]
# The tolerances searched, loosest first (each tool's own meaning of it).
GRADLM_TOLS = [10.0 ** -e for e in range(4, 11)]
SKLEARN_TOLS = [10.0 ** -e for e in range(1, 15)]
GLMNET_THRESHS = [10.0 ** -e for e in range(3, 17)]  # (passed to r_penalties.R)


def make_data(seed: int = 0) -> tuple:
    """``(X (N, D), y (N,))`` float64: AR(1)-correlated features (rho 0.7) with standard deviations from 0.1
    to 10 and nonzero means; 20 coefficients nonzero (N(0, 2^2) per standardized feature); noise sd 3."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((N, D))
    X = np.empty_like(Z)
    X[:, 0] = Z[:, 0]
    for j in range(1, D):
        X[:, j] = RHO * X[:, j - 1] + np.sqrt(1 - RHO**2) * Z[:, j]
    scales = np.logspace(-1, 1, D)
    rng.shuffle(scales)
    X = X * scales + rng.normal(0.0, 1.0, D)
    beta = np.zeros(D)
    beta[rng.choice(D, NONZERO, replace=False)] = rng.normal(0.0, 2.0, NONZERO)
    y = 3.0 + X @ (beta / scales) + rng.normal(0.0, 3.0, N)
    return X, y


def accuracy(coef: np.ndarray, exact: np.ndarray) -> float:
    """``max |coef - exact| / max |exact|`` over the weights."""
    return float(np.abs(np.asarray(coef) - exact).max() / np.abs(exact).max())


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            return next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


# The tools: each returns the coefficients (D,) on the data's scale.

def gradlm_fit(X, y, alpha, l1_ratio, tol="auto"):
    return gradlm.GDRegressor(alpha=alpha, l1_ratio=l1_ratio, tol=tol).fit(X, y).coef_


def on_one_thread(fn):
    """``fn`` run with one torch thread (then the suite's number again)."""
    def run():
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn()
        finally:
            torch.set_num_threads(threads)
    return run


def sklearn_fit(X, y, alpha, l1_ratio, tol=None, precompute=False):
    """Ridge (l1_ratio 0: its default solver, exact), Lasso or ElasticNet on X / s."""
    from sklearn.linear_model import ElasticNet, Lasso, Ridge

    s = X.std(axis=0)
    if l1_ratio == 0:
        model = Ridge(alpha=alpha * X.shape[0])
    elif l1_ratio == 1:
        model = Lasso(alpha=alpha, tol=tol, precompute=precompute)
    else:
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=tol, precompute=precompute)
    return model.fit(X / s, y).coef_ / s


def loosest(fit, grid, exact):
    """The loosest tolerance of ``grid`` (loosest first) at which ``fit(tol)`` reaches TARGET (the tightest if
    none does): a bisection, as a tighter tolerance only gets closer."""
    lo, hi = 0, len(grid) - 1  # the answer lies in grid[lo:hi + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if accuracy(fit(grid[mid]), exact) <= TARGET:
            hi = mid
        else:
            lo = mid + 1
    return grid[lo]


def exact_optimum(X, y, stats, alpha, l1_ratio) -> dict:
    """The certified optimum, from the signs of a certified gradlm fit, and scikit-learn's at tol=1e-14."""
    penalty = Penalty.of(alpha, l1_ratio, 1)
    penalty = Penalty(penalty.l1, penalty.l2, scale=stats.std.cpu())
    est = gradlm.GDRegressor(alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    solution = exact_solution(stats, penalty, torch.from_numpy(est.coef_[None, :]))
    if solution is None:
        raise RuntimeError(f"the optimum of alpha={alpha}, l1_ratio={l1_ratio} is not certified at the signs of "
                           f"gradlm's fit (converged: {est.converged_})")
    exact = solution[0][0].numpy()
    reference = sklearn_fit(X, y, alpha, l1_ratio, tol=1e-14, precompute=True)
    return {"exact": exact, "sklearn_agreement": accuracy(reference, exact), "nonzero": int((exact != 0).sum()),
            "certified_fit": est.converged_}


def run_r(folder: Path, X, y, optima: list, reps: int) -> tuple:
    """glmnet's rows (and gd_lm's) from Rscript r_penalties.R: (rows, notes), or ([], [why not])."""
    if shutil.which("Rscript") is None:
        return [], ["glmnet skipped: Rscript not found"]
    try:
        probe = subprocess.run(["Rscript", "-e", "quit(status = !requireNamespace('glmnet', quietly = TRUE))"],
                               capture_output=True, text=True, env=rscript.r_env(), timeout=120)
    except subprocess.TimeoutExpired:
        return [], ["glmnet skipped: Rscript did not start within 120 s"]
    if probe.returncode != 0:
        return [], ["glmnet skipped: R package glmnet not installed (apt-get install r-cran-glmnet)"]
    # X column by column (R's layout), then y; one row of cases.csv and D exact coefficients per case
    np.concatenate([X.T.ravel(), y]).astype("<f8").tofile(folder / "data.bin")
    np.concatenate([o["exact"] for o in optima]).astype("<f8").tofile(folder / "exact.bin")
    with open(folder / "cases.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["case", "alpha", "l1_ratio"])
        out.writerows([name, repr(alpha), repr(l1_ratio)] for name, alpha, l1_ratio in CASES)
    _, why_not = rscript.rscript("r_penalties.R", folder, N, D, reps, " ".join(repr(t) for t in GLMNET_THRESHS))
    if why_not:
        return [], [f"glmnet skipped: {why_not}"]
    rows = []
    for raw in rscript.results(folder):
        i = [c[0] for c in CASES].index(raw["case"])
        coef = np.fromfile(folder / raw["coef_file"], dtype="<f8")
        rows.append({"case": raw["case"], "tool": raw["tool"], "setting": raw["setting"],
                     "time_s": float(raw["time_s"]), "accuracy": accuracy(coef, optima[i]["exact"])})
    return rows, [f"gd_lm skipped: {line}" for line in rscript.notes(folder)]


def python_rows(X, y, name, alpha, l1_ratio, exact, reps) -> list:
    """One case's rows for gradlm and scikit-learn: tolerances searched, then the tools timed, interleaved."""
    base = "gradlm GDRegressor (defaults)"
    tools, settings = {base: lambda: gradlm_fit(X, y, alpha, l1_ratio)}, {base: "tol='auto'"}
    tol = loosest(lambda t: gradlm_fit(X, y, alpha, l1_ratio, tol=t), GRADLM_TOLS, exact)
    if torch.get_num_threads() > 1:  # (tiny tensor operations each epoch: a second thread's wake-up can cost more)
        key = "gradlm GDRegressor (defaults, 1 torch thread)"
        tools[key], settings[key] = on_one_thread(tools[base]), settings[base]
    if tol != GRADLM_TOLS[-1]:
        key = "gradlm GDRegressor (tol searched)"
        tools[key], settings[key] = (lambda: gradlm_fit(X, y, alpha, l1_ratio, tol=tol)), f"tol={tol:.0e}"
    if l1_ratio == 0:
        tools["scikit-learn Ridge"] = lambda: sklearn_fit(X, y, alpha, l1_ratio)
        settings["scikit-learn Ridge"] = f"alpha={alpha} * n, solver='auto'"
    else:
        label = "Lasso" if l1_ratio == 1 else "ElasticNet"
        # searched on the Gram matrix (quicker): the same coordinate descent, the same iterates
        sk_tol = loosest(lambda t: sklearn_fit(X, y, alpha, l1_ratio, t, True), SKLEARN_TOLS, exact)
        for precompute in (False, True):
            key = f"scikit-learn {label}" + (" (precompute=True)" if precompute else "")
            tools[key] = lambda p=precompute: sklearn_fit(X, y, alpha, l1_ratio, sk_tol, p)
            settings[key] = f"tol={sk_tol:.0e}"
    times: dict = {key: [] for key in tools}
    coef: dict = {}
    keys = list(tools)
    for i in range(reps):  # interleaved, the order turning each round
        for key in keys[i % len(keys):] + keys[: i % len(keys)]:
            start = time.perf_counter()
            coef[key] = tools[key]()
            times[key].append(time.perf_counter() - start)
    return [{"case": name, "tool": key, "setting": settings[key], "time_s": float(np.median(times[key])),
             "accuracy": accuracy(coef[key], exact)} for key in keys]


def run(quick: bool) -> dict:
    """Every case's rows (Python's, then R's): medians of ``reps`` timed calls."""
    reps = 3 if quick else 5
    start, load = time.perf_counter(), [os.getloadavg()[0]]
    X, y = make_data()
    stats = SufficientStatistics(torch.from_numpy(X), torch.from_numpy(y[:, None]))
    gradlm_fit(X[:2000], y[:2000], 0.2, 0.5)  # warm-up
    optima = [exact_optimum(X, y, stats, alpha, l1_ratio) for _, alpha, l1_ratio in CASES]
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a loose tolerance's warnings: the accuracy reached is measured instead)
        for (name, alpha, l1_ratio), optimum in zip(CASES, optima):
            rows += python_rows(X, y, name, alpha, l1_ratio, optimum["exact"], reps)
            print(f"penalties: {name} done", file=sys.stderr)
    python_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        r_rows, r_notes = run_r(Path(tmp), X, y, optima, reps)
    rows += r_rows
    load.append(os.getloadavg()[0])
    return {"n": N, "d": D, "threads": torch.get_num_threads(), "cpu": cpu_model(), "cores": os.cpu_count(),
            "load": load, "rows": rows, "r_notes": r_notes,
            "cases": [{"case": name, "alpha": alpha, "l1_ratio": l1_ratio, "nonzero": o["nonzero"],
                       "sklearn_agreement": o["sklearn_agreement"], "certified_fit": o["certified_fit"]}
                      for (name, alpha, l1_ratio), o in zip(CASES, optima)],
            "seconds": {"python": python_s, "r": time.perf_counter() - start - python_s}}


def markdown(res: dict) -> list:
    if res.get("skipped"):
        return ["", f"Time to a penalized solution: skipped: {res['skipped']}"]
    lines = ["", f"Time to a penalized solution within {TARGET:.0e}: {res['n']:,} x {res['d']} float64, correlated "
             "features, the penalty on standardized predictors (glmnet's standardize = TRUE); accuracy = "
             "max |coef - exact| / max |exact|; the exact optimum is gradlm.penalty.exact_solution's (KKT-certified). "
             f"{res['cpu']}, {res['cores']} cores, {res['threads']} torch threads; load average {res['load'][0]:.1f} "
             f"at the start, {res['load'][1]:.1f} at the end (a shared machine: compare ratios).", ""]
    for c in res["cases"]:
        ok = "agree" if c["sklearn_agreement"] <= AGREEMENT else "DISAGREE"
        lines.append(f"- {c['case']} (alpha={c['alpha']}, l1_ratio={c['l1_ratio']}): {c['nonzero']} of {res['d']} "
                     f"coefficients nonzero; exact_solution and scikit-learn at tol=1e-14 {ok} to "
                     f"{c['sklearn_agreement']:.1e}")
    if res.get("r_notes"):
        lines += [""] + [f"- {note}" for note in res["r_notes"]]
    lines += ["", "| case | tool | setting | median time (s) | accuracy reached | ratio to gradlm (higher: gradlm "
              "faster) |", "| --- | --- | --- | ---: | ---: | ---: |"]
    for name, _, _ in CASES:
        rows = [r for r in res["rows"] if r["case"] == name]
        base = next(r["time_s"] for r in rows if r["tool"] == "gradlm GDRegressor (defaults)")
        for r in rows:
            miss = "" if r["accuracy"] <= TARGET else " MISS"
            lines.append(f"| {name} | {r['tool']} | {r['setting']} | {r['time_s']:.3f} | {r['accuracy']:.1e}{miss} "
                         f"| {r['time_s'] / base:.2f} |")
    s = res["seconds"]
    lines += ["", f"(this part took {s['python']:.0f} s in Python, {s['r']:.0f} s in R)"]
    return lines


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as suite  # noqa: E402  (benchmarks/run.py)

    print("\n".join(markdown(run(suite.part_alone("fewer repeats")))))


if __name__ == "__main__":
    main()
