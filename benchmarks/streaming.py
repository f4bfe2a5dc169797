"""The streaming and distributed cases of `make bench` (called by run.py).

- data read from .npy memory maps against the same data in memory: one
  full-batch moments pass, one mini-batch epoch;
- `gradlm fit` in 1 and in 2 processes (torch.distributed, gloo, this
  machine), wall time including the processes' start;
- the peak memory of a streamed moments pass at n, 10 n and 100 n rows, each
  in a fresh process (it must stay flat).

    python benchmarks/streaming.py --peak N FOLDER   (one memory measurement)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

import gradlm
from gradlm.analytic import SufficientStatistics
from gradlm.streaming import stream

CHUNK_ROWS = 65_536


def write_npy(folder: Path, n: int, d: int, k: int) -> tuple:
    """X (n, d) and y (n, k) float32 .npy files, written block by block (never whole in memory)."""
    x_path, y_path = folder / f"X{n}.npy", folder / f"y{n}.npy"
    if x_path.exists():
        return x_path, y_path
    X = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.float32, shape=(n, d))
    y = np.lib.format.open_memmap(y_path, mode="w+", dtype=np.float32, shape=(n, k))
    for a in range(0, n, 500_000):
        b = min(a + 500_000, n)
        block = np.random.default_rng(a).normal(size=(b - a, d)).astype(np.float32)
        X[a:b] = block
        y[a:b] = block[:, :k] * 2 + 1
    X.flush()
    y.flush()
    return x_path, y_path


def peak_child(n: int, folder: str, what: str = "moments") -> None:
    """In a fresh process: MB of peak memory above the start, for one streamed moments pass over n rows, or
    (``what="minibatch"``) one streamed mini-batch epoch (batch 1024, a given lr: no moments pass)."""
    x_path, y_path = Path(folder) / f"X{n}.npy", Path(folder) / f"y{n}.npy"
    data = stream(x_path, target=str(y_path), chunk_rows=CHUNK_ROWS)
    SufficientStatistics(torch.zeros(10, 2), torch.zeros(10, 1))  # warm-up: imports, first allocations
    d, k = data.n_features, data.n_outputs
    gradlm.fit(gradlm.LinearModel(d, k), torch.zeros(2048, d), torch.zeros(2048, k), epochs=1, lr=0.01,
               batch_size=1024)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    start = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    if what == "minibatch":
        gradlm.fit(gradlm.LinearModel(d, k), data, epochs=1, lr=0.01, batch_size=1024, seed=0, tol=None,
                   history="loss")
    else:
        data.statistics()
    with open("/proc/self/status") as fh:
        peak = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:"))
    # page cache of the memory-mapped file counts in RSS while mapped: measured as it is
    print(json.dumps({"peak_mb": (peak - start) / 2**20}))


def run(X: torch.Tensor, y: torch.Tensor, batch_size: int, quick: bool, median) -> dict:
    """The cases, timed with ``median(fn, repeats)`` (run.py's ``median_time``)."""
    n, d = X.shape
    k = y.shape[1]
    out: dict = {"times": {}, "peak_mb": {}, "peak_mb_minibatch": {}}
    t = out["times"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        x_path, y_path = folder / "X.npy", folder / "y.npy"
        np.save(x_path, X.numpy())
        np.save(y_path, y.numpy())
        data = stream(x_path, target=str(y_path), chunk_rows=CHUNK_ROWS)
        reps = 3
        t["moments_in_memory"] = median(lambda: SufficientStatistics(X, y), reps)
        t["moments_streamed"] = median(data.statistics, reps)

        def epoch(source, target):
            gradlm.fit(gradlm.LinearModel(d, k), source, target, epochs=1, lr=0.01, batch_size=batch_size, seed=0)

        t["minibatch_epoch_in_memory"] = median(lambda: epoch(X, y), reps)
        t["minibatch_epoch_streamed"] = median(lambda: epoch(data, None), reps)
        cli = [sys.executable, "-m", "gradlm", "fit", str(x_path), "--target", str(y_path), "--epochs", "100",
               "--lr", "0.5", "--standardize", "--json"]
        env = dict(os.environ, OMP_NUM_THREADS="1")
        for procs in (1, 2):
            extra = ["--nproc", str(procs)] if procs > 1 else []
            t[f"cli_full_batch_{procs}_process"] = median(
                lambda: subprocess.run(cli + extra, check=True, capture_output=True, env=env), 1 if quick else 3)
        sizes = [n // 100, n // 10, n] if quick else [n // 10, n, n * 10]
        for size in sizes:
            write_npy(folder, size, d, k)
            for what, key in (("moments", "peak_mb"), ("minibatch", "peak_mb_minibatch")):
                result = subprocess.run([sys.executable, __file__, "--peak", str(size), str(folder), what],
                                        capture_output=True, text=True, timeout=1800)
                out[key][size] = json.loads(result.stdout)["peak_mb"] if result.returncode == 0 else None
                print(f"streamed {what}, n={size:,}: peak {out[key][size]} MB", file=sys.stderr)
    return out


def markdown(res: dict) -> list:
    t = res["times"]
    lines = ["", "| streaming and processes | value |", "| --- | ---: |",
             f"| moments pass: streamed from .npy / in memory (time ratio) | "
             f"{t['moments_streamed'] / t['moments_in_memory']:.2f} |",
             f"| mini-batch epoch: streamed from .npy / in memory (time ratio) | "
             f"{t['minibatch_epoch_streamed'] / t['minibatch_epoch_in_memory']:.2f} |",
             f"| `gradlm fit` 100 full-batch epochs, 1 process (s, with start-up) | "
             f"{t['cli_full_batch_1_process']:.2f} |",
             f"| `gradlm fit` 100 full-batch epochs, 2 processes (s, with start-up) | "
             f"{t['cli_full_batch_2_process']:.2f} |"]
    lines += ["", "| rows streamed | peak memory of a moments pass (MB) | of a mini-batch epoch (MB) |",
              "| ---: | ---: | ---: |"]
    shown = lambda mb: "n/a" if mb is None else f"{mb:.1f}"  # noqa: E731
    lines += [f"| {int(size):,} | {shown(mb)} | {shown(res.get('peak_mb_minibatch', {}).get(size))} |"
              for size, mb in res["peak_mb"].items()]
    return lines


if __name__ == "__main__":
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--peak":
        peak_child(int(sys.argv[2]), sys.argv[3], *sys.argv[4:])
