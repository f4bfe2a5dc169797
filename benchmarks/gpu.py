"""gradlm on a GPU: correctness of the ``device="cuda"`` paths, and epoch times against the memory-bandwidth floor.

    python benchmarks/gpu.py [--device cuda] [--small] [--out DIR]

Not part of ``make bench`` (CI and the development machines have no GPU); run
it where ``torch.cuda.is_available()``. Each case runs on its own: one that
fails prints its traceback and the others go on. The floor of a pass over
``X`` is ``X.nbytes`` over the read bandwidth measured here (a ``sum`` over a
buffer as large as ``X``); an epoch of full-batch autograd reads ``X`` at least
twice (forward and backward), a mini-batch epoch once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import gradlm  # noqa: E402

RESULTS: dict = {}


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_time(fn, device, reps=5):
    fn()  # warm-up
    sync(device)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def case(name):
    def wrap(fn):
        def run(*args):
            print(f"--- {name}", flush=True)
            try:
                RESULTS[name] = fn(*args)
                print(json.dumps(RESULTS[name], indent=1, default=str), flush=True)
            except Exception:  # noqa: BLE001 (a benchmark reports every case)
                RESULTS[name] = {"error": traceback.format_exc()}
                print(RESULTS[name]["error"], flush=True)
        return run
    return wrap


def data(n, d, k, device, dtype=torch.float32, seed=0):
    g = torch.Generator(device=device).manual_seed(seed)
    X = torch.randn(n, d, generator=g, device=device, dtype=dtype)
    W = torch.randn(k, d, generator=g, device=device, dtype=dtype)
    y = X @ W.T + 0.5 + 0.1 * torch.randn(n, k, generator=g, device=device, dtype=dtype)
    return X, y


@case("read bandwidth")
def bandwidth(device, n, d):
    X = torch.empty(n, d, device=device, dtype=torch.float32).normal_()
    t = median_time(lambda: X.sum(), device)
    return {"bytes": X.nbytes, "seconds": t, "GB_per_s": X.nbytes / t / 1e9}


@case("moments pass (SufficientStatistics)")
def moments(device, n, d, floor_bw):
    X, y = data(n, d, 2, device)
    t = median_time(lambda: gradlm.analytic.SufficientStatistics(X, y), device, reps=3)
    floor = X.nbytes / floor_bw
    stats = gradlm.analytic.SufficientStatistics(X, y)
    cpu = gradlm.analytic.SufficientStatistics(X[:100_000].cpu(), y[:100_000].cpu())
    gpu_part = gradlm.analytic.SufficientStatistics(X[:100_000], y[:100_000])
    return {"n": n, "d": d, "seconds": t, "floor_seconds": floor, "ratio_to_floor": t / floor,
            "G_device": str(stats.G.device),
            "max_rel_diff_vs_cpu_100k": float((gpu_part.G.cpu() - cpu.G).abs().max() / cpu.G.abs().max())}


@case("full-batch autograd epoch")
def full_batch(device, n, d, floor_bw):
    X, y = data(n, 20, 2, device)
    model = gradlm.LinearModel(20, 2, device=device)
    epochs = 20
    t = median_time(lambda: gradlm.fit(model, X, y, epochs=epochs, lr=0.01, fast=False, tol=None,
                                       history="loss"), device, reps=3) / epochs
    floor = 2 * X.nbytes / floor_bw
    return {"n": n, "seconds_per_epoch": t, "floor_seconds": floor, "ratio_to_floor": t / floor}


@case("mini-batch epoch (1e6 x 20 -> 2, batch 1024)")
def mini_batch(device, n, floor_bw):
    X, y = data(n, 20, 2, device)
    out = {}
    for name, kwargs in {"fused SGD (fast)": {"fast": True}, "autograd": {"fast": False},
                         "momentum 0.9": {"fast": True, "momentum": 0.9},
                         "cheap order": {"fast": True, "shuffle": False}}.items():
        model = gradlm.LinearModel(20, 2, device=device)

        def epochs(model=model, kwargs=kwargs):
            return gradlm.fit(model, X, y, epochs=2, lr=0.01, batch_size=1024, seed=0, tol=None, history="loss",
                              **kwargs)

        out[name] = median_time(epochs, device, reps=3) / 2
    floor = X.nbytes / floor_bw
    out["floor_seconds"] = floor
    out["steps_per_epoch"] = -(-n // 1024)
    out["microseconds_per_step_fused"] = out["fused SGD (fast)"] / out["steps_per_epoch"] * 1e6
    return out


@case("GDRegressor default fit on the GPU, against the CPU's")
def estimator(device, n, d):
    X, y = data(n, d, 2, device, dtype=torch.float64)
    start = time.perf_counter()
    est = gradlm.GDRegressor(device=device).fit(X, y)
    sync(device)
    seconds = time.perf_counter() - start
    exact = gradlm.lstsq(X[: n // 10].cpu(), y[: n // 10].cpu())
    cpu = gradlm.GDRegressor().fit(X[: n // 10].cpu().numpy(), y[: n // 10].cpu().numpy())
    gpu = gradlm.GDRegressor(device=device).fit(X[: n // 10], y[: n // 10])
    return {"n": n, "d": d, "seconds": seconds, "converged": est.converged_, "epochs": est.n_iter_,
            "max_abs_diff_gpu_vs_cpu_fit": float(np.abs(gpu.coef_ - cpu.coef_).max()),
            "max_abs_diff_vs_lstsq": float(np.abs(gpu.coef_ - exact.weight).max()),
            "inference_se_diff": float(np.abs(gpu.inference_.bse - cpu.inference_.bse).max())}


@case("penalties on the GPU, against the CPU's")
def penalties(device, n, d):
    X, y = data(n, d, 1, device, dtype=torch.float64)
    out = {}
    for alpha, l1_ratio in [(0.1, 0.0), (0.05, 1.0), (0.1, 0.5)]:
        gpu = gradlm.GDRegressor(alpha=alpha, l1_ratio=l1_ratio, device=device).fit(X, y[:, 0])
        cpu = gradlm.GDRegressor(alpha=alpha, l1_ratio=l1_ratio).fit(X.cpu().numpy(), y[:, 0].cpu().numpy())
        out[f"alpha={alpha}, l1_ratio={l1_ratio}"] = {
            "converged": [gpu.converged_, cpu.converged_], "epochs": [gpu.n_iter_, cpu.n_iter_],
            "max_rel_diff": float(np.abs(gpu.coef_ - cpu.coef_).max() / np.abs(cpu.coef_).max())}
    return out


@case("mini-batch GDRegressor, partial_fit, warm start on the GPU")
def incremental(device, n, d):
    X, y = data(n, d, 1, device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mb = gradlm.GDRegressor(batch_size=256, epochs=3, seed=0, device=device).fit(X, y[:, 0])
        est = gradlm.GDRegressor(seed=0, lr=0.01, device=device)
        for start in range(0, n, n // 4):
            est.partial_fit(X[start : start + n // 4], y[start : start + n // 4, 0])
        warm = gradlm.GDRegressor(warm_start=True, device=device).fit(X, y[:, 0])
        again = warm.fit(X, y[:, 0])
    exact = gradlm.lstsq(X.cpu().double(), y.cpu().double()).weight[0]
    return {"mini_batch_err": float(np.abs(mb.coef_ - exact).max()),
            "partial_fit_err": float(np.abs(est.coef_ - exact).max()),
            "warm_start_epochs_again": again.n_iter_, "warm_converged": again.converged_}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--small", action="store_true", help="sizes for a CPU try-out")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    device = torch.device(args.device)
    small = args.small
    print(f"torch {torch.__version__}, device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""), flush=True)
    big_n, big_d = (200_000, 50) if small else (10_000_000, 100)
    bandwidth(device, big_n, big_d)
    bw = RESULTS["read bandwidth"].get("GB_per_s", 1.0) * 1e9
    moments(device, big_n, big_d, bw)
    full_batch(device, 100_000 if small else 10_000_000, big_d, bw)
    mini_batch(device, 100_000 if small else 1_000_000, bw)
    estimator(device, 100_000 if small else 2_000_000, 20)
    penalties(device, 20_000 if small else 1_000_000, 20)
    incremental(device, 20_000 if small else 400_000, 10)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "gpu.json").write_text(json.dumps(RESULTS, indent=1, default=str))


if __name__ == "__main__":
    main()
