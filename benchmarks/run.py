"""gradlm's benchmark suite: ratios measured side by side, in one run, on the same data.

    python benchmarks/run.py [--quick] [--out build/bench]

Prints a Markdown table, headed by the time to the answer (time_to_answer.py
and r_time_to_answer.R: every tool's default fit to 1e-6 of least squares, and
the machine's CPU model), and writes it, with the raw numbers as JSON, to
``--out``. Times are medians of repeated runs (the machines are shared and
noisy: compare ratios, not single times). Peak memory is measured in a fresh
subprocess per case: the peak resident memory above what the process held
before the data existed, divided by the float32 size of the data (X and y).
The streaming cases come from streaming.py; the default fits against the
exact answer (R's datasets, scikit-learn's, from R and from Python) from
defaults.py and defaults.R; the first call's latency in a fresh process from
first_call.py; the time to a ridge, lasso and elastic-net solution against
scikit-learn and glmnet from penalties.py and r_penalties.R; the mini-batch
orders' cost and effect from shuffles.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

import gradlm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import defaults  # noqa: E402  (benchmarks/defaults.py)
import first_call  # noqa: E402  (benchmarks/first_call.py)
import penalties  # noqa: E402  (benchmarks/penalties.py)
import rscript  # noqa: E402  (benchmarks/rscript.py)
import shuffles  # noqa: E402  (benchmarks/shuffles.py)
import streaming  # noqa: E402  (benchmarks/streaming.py)
import time_to_answer  # noqa: E402  (benchmarks/time_to_answer.py)

ROOT = Path(__file__).resolve().parents[1]
D, K, BATCH = 20, 2, 1024


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def make_data(n, dtype=torch.float32):
    data = gradlm.datasets.make_regression(n, D, outputs=K, noise=0.5, seed=0, dtype=dtype)
    return data.X, data.y


# The cases: each takes (X, y) and runs one unit of work (an epoch unless named otherwise).

def gradlm_minibatch_epoch(X, y):
    model = gradlm.LinearModel(D, K)
    gradlm.fit(model, X, y, epochs=1, lr=0.01, batch_size=BATCH, seed=0)


def dataloader_epoch(X, y):
    """The tutorials' loop: TensorDataset + DataLoader(shuffle=True), autograd, SGD."""
    from torch.utils.data import DataLoader, TensorDataset

    model = torch.nn.Linear(D, K)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for xb, yb in DataLoader(TensorDataset(X, y), batch_size=BATCH, shuffle=True):
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()


def slicing_epoch(X, y):
    """A plain torch loop: one permuted copy per epoch, slices, autograd, SGD."""
    model = torch.nn.Linear(D, K)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    perm = torch.randperm(X.shape[0])
    Xp, yp = X[perm], y[perm]
    for start in range(0, X.shape[0], BATCH):
        loss = torch.nn.functional.mse_loss(model(Xp[start : start + BATCH]), yp[start : start + BATCH])
        opt.zero_grad()
        loss.backward()
        opt.step()


def sklearn_epoch(X, y):
    """scikit-learn's SGDRegressor, one epoch per output (it fits one output at a time)."""
    from sklearn.linear_model import SGDRegressor

    Xn, yn = X.numpy(), y.numpy()
    for j in range(K):
        SGDRegressor(learning_rate="constant", eta0=0.001, max_iter=1, tol=None, shuffle=True,
                     random_state=0).fit(Xn, yn[:, j])


def lstsq_solve(X, y):
    gradlm.lstsq(X, y)


def normal_equations(X, y):
    """One normal-equation solve in float32: [X 1]'[X 1] w = [X 1]'y."""
    Xa = torch.cat([X, torch.ones(X.shape[0], 1)], dim=1)
    torch.linalg.solve(Xa.T @ Xa, Xa.T @ y)


def gradlm_full_batch_1000(X, y):
    gradlm.fit(gradlm.LinearModel(D, K), X, y, epochs=1000, lr=0.01)


def gradlm_full_batch_100(X, y):
    gradlm.fit(gradlm.LinearModel(D, K), X, y, epochs=100, lr=0.01)


CASES = {f.__name__: f for f in (gradlm_minibatch_epoch, dataloader_epoch, slicing_epoch, sklearn_epoch,
                                 lstsq_solve, normal_equations, gradlm_full_batch_1000, gradlm_full_batch_100)}


def rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes():
    with open("/proc/self/status") as fh:
        line = next(line for line in fh if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def reset_peak_rss():
    """Set the peak-memory mark to the current use (Linux: /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def memory_child(case, n):
    """Run in a fresh process: the case's peak memory over the data's float32 size."""
    torch.set_num_threads(int(os.environ.get("GRADLM_BENCH_THREADS", "2")))
    make_data(1000)  # warm up imports and allocators before the baseline
    CASES[case](*make_data(1000))
    X, y = make_data(n)
    data_bytes = X.numel() * 4 + y.numel() * 4
    # The mark starts from what is resident now (the data, and pages the
    # generator freed but the allocator kept, which the case may reuse): the
    # case's peak is the data plus what it adds.
    reset_peak_rss()
    start = rss_bytes()
    CASES[case](X, y)
    print(json.dumps({"peak_over_data": (peak_rss_bytes() - start + data_bytes) / data_bytes}))


def peak_memory(case, n):
    out = subprocess.run([sys.executable, __file__, "--memory-child", case, str(n)], capture_output=True, text=True,
                         timeout=900)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_over_data"]


def r_benchmark(n, out_dir):
    if shutil.which("Rscript") is None:
        return None
    path = out_dir / "r.json"
    result = subprocess.run(["Rscript", str(ROOT / "benchmarks" / "r_bench.R"), str(n), str(path)],
                            capture_output=True, text=True, env=rscript.r_env(), timeout=1800)
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(path.read_text())


def part_alone(quick_help: str) -> bool:
    """For a part of the suite run by itself (``python benchmarks/PART.py``): its ``--quick`` flag, and torch's
    threads as ``make bench`` sets them."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help=quick_help)
    quick = parser.parse_args().quick
    torch.set_num_threads(int(os.environ.get("GRADLM_BENCH_THREADS", "2")))
    return quick


def suite_data(quick: bool):
    """The suite's data: 10^6 rows (10^5 with --quick)."""
    return make_data(100_000 if quick else 1_000_000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--out", default=str(ROOT / "build" / "bench"))
    parser.add_argument("--memory-child", nargs=2, metavar=("CASE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child[0], int(args.memory_child[1]))
        return
    threads = int(os.environ.get("GRADLM_BENCH_THREADS", "2"))
    torch.set_num_threads(threads)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 100_000 if args.quick else 1_000_000
    reps = 3 if args.quick else 5
    X, y = make_data(n)
    results = {"n": n, "d": D, "k": K, "batch_size": BATCH, "threads": threads,
               "machine": f"{penalties.cpu_model()} ({platform.machine()}), {os.cpu_count()} cores, "
                          f"torch {torch.__version__}",
               "times": {}, "memory": {}, "scaling": {}}
    t = results["times"]
    for case, repeats in [("gradlm_minibatch_epoch", reps), ("dataloader_epoch", 1 if not args.quick else 2),
                          ("slicing_epoch", reps), ("sklearn_epoch", reps), ("lstsq_solve", reps),
                          ("normal_equations", reps), ("gradlm_full_batch_1000", reps)]:
        CASES[case](*make_data(2048))  # warm-up
        t[case] = median_time(lambda: CASES[case](X, y), repeats)
        print(f"{case:28s} {t[case]:.4f} s", file=sys.stderr)
    for case in ("gradlm_minibatch_epoch", "gradlm_full_batch_1000", "lstsq_solve", "slicing_epoch"):
        results["memory"][case] = peak_memory(case, n)
    sizes = [1_000, 10_000, 100_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000, 10_000_000]
    for size in sizes:
        Xs, ys = (X, y) if size == n else make_data(size)
        results["scaling"][size] = {
            "minibatch_epoch": median_time(lambda: gradlm_minibatch_epoch(Xs, ys), 3),
            "full_batch_100": median_time(lambda: gradlm_full_batch_100(Xs, ys), 3),
        }
        print(f"scaling n={size}: {results['scaling'][size]}", file=sys.stderr)
    results["shuffles"] = shuffles.run(X, y, BATCH, median_time)
    print(f"shuffles: {results['shuffles']}", file=sys.stderr)
    results["streaming"] = streaming.run(X, y, BATCH, args.quick, median_time)
    results["r"] = r_benchmark(n, out_dir)
    results["defaults"] = defaults.run(X, y, args.quick, median_time, normal_equations)
    results["first_call"] = first_call.run()
    try:
        results["time_to_answer"] = time_to_answer.run(X, y, args.quick)
    except Exception as e:  # noqa: BLE001 - a failing section is a line of the report, not a crashed suite
        results["time_to_answer"] = {"skipped": f"{type(e).__name__}: {e}"}
    try:
        results["penalties"] = penalties.run(args.quick)
    except Exception as e:  # noqa: BLE001 - a failing section is a line of the report, not a crashed suite
        results["penalties"] = {"skipped": f"{type(e).__name__}: {e}"}
    table = markdown(results)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    (out_dir / "results.md").write_text(table)
    print(table)


def markdown(res):
    t, m = res["times"], res["memory"]
    mb = t["gradlm_minibatch_epoch"]
    rows = [
        ("mini-batch epoch: gradlm vs the DataLoader loop", t["dataloader_epoch"] / mb, ">= 50"),
        ("mini-batch epoch: gradlm vs a torch slicing loop", t["slicing_epoch"] / mb, ""),
        ("mini-batch epoch: gradlm vs scikit-learn SGDRegressor (both outputs)", t["sklearn_epoch"] / mb, ">= 4"),
        ("gradlm mini-batch epoch vs gradlm.lstsq (exact)", t["lstsq_solve"] / mb, ""),
        ("full batch: 1000 gradlm epochs / one normal-equation solve", t["gradlm_full_batch_1000"] / t["normal_equations"],
         "<= 3"),
    ]
    r = res.get("r")
    if r:
        rows.append(("gd_lm(formula, data) from R / the same fit from Python (conversion included)",
                     r["gd_lm"] / r["python_fit_lm"], "<= 1.2"))
        rows.append(("gd_lm(x, y) (matrix method) from R / the same fit from Python",
                     r["gd_lm_matrix"] / r["python_fit_lm"], "<= 1.2"))
        gap = "below 1e-12" if r["relative_gap"] < 1e-12 else f"{r['relative_gap']:.0e}"
        rows.append((f"lm() / gd_lm with its defaults, certified (relative gap {gap})",
                     r["lm"] / r["gd_lm_to_optimum"], "> 1"))
    lines = []
    if res.get("time_to_answer"):  # the headline, first
        lines += time_to_answer.markdown(res["time_to_answer"]) + [""]
    lines += [
        f"n = {res['n']:,} rows, d = {res['d']} features, {res['k']} outputs, float32, batch {res['batch_size']}; "
        f"{res['threads']} threads; {res['machine']}",
        "",
        "| comparison | ratio (higher: gradlm faster) | target |",
        "| --- | ---: | :---: |",
    ]
    lines += [f"| {name} | {ratio:.2f} | {target} |" for name, ratio, target in rows]
    lines += ["", "| case | median time (s) |", "| --- | ---: |"]
    lines += [f"| {case} | {value:.4f} |" for case, value in t.items()]
    if r:
        lines += [f"| R: {case} | {value:.4f} |" for case, value in r.items() if isinstance(value, float)]
    lines += ["", "| case | peak memory / float32 data size (target <= 2) |", "| --- | ---: |"]
    lines += [f"| {case} | {'n/a' if v is None else f'{v:.2f}'} |" for case, v in m.items()]
    lines += ["", "| n | mini-batch epoch (s) | 100 full-batch epochs (s) |", "| ---: | ---: | ---: |"]
    lines += [f"| {size:,} | {v['minibatch_epoch']:.4f} | {v['full_batch_100']:.4f} |"
              for size, v in res["scaling"].items()]
    if res.get("shuffles"):
        lines += shuffles.markdown(res["shuffles"])
    if res.get("streaming"):
        lines += streaming.markdown(res["streaming"])
    if res.get("defaults"):
        lines += defaults.markdown(res["defaults"])
    if res.get("first_call"):
        lines += first_call.markdown(res["first_call"])
    if res.get("penalties"):
        lines += penalties.markdown(res["penalties"])
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
