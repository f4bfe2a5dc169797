"""Data streamed from disk against the same data in memory; bounded memory; two processes against one."""

import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

import gradlm
from gradlm.streaming import stream

N, D = 40_000, 4


@pytest.fixture(scope="module")
def data():
    return gradlm.datasets.make_regression(N, D, outputs=2, noise=0.5, seed=3)


@pytest.fixture(scope="module")
def parquet_folder(tmp_path_factory, data):
    """Three Parquet files of uneven sizes, several row groups each."""
    X, y = data
    folder = tmp_path_factory.mktemp("parquet")
    bounds = [0, 9_000, 25_000, N]
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        table = pa.table({**{f"x{j}": X[a:b, j].numpy() for j in range(D)},
                          "label": pa.array(["r"] * (b - a)),  # a text column, left out of the features
                          "y1": y[a:b, 0].numpy(), "y2": y[a:b, 1].numpy()})
        pq.write_table(table, folder / f"part-{i}.parquet", row_group_size=4_000)
    return folder


@pytest.fixture(scope="module")
def npy_pair(tmp_path_factory, data):
    X, y = data
    folder = tmp_path_factory.mktemp("npy")
    np.save(folder / "X.npy", X.numpy())
    np.save(folder / "y.npy", y.numpy())
    return folder / "X.npy", folder / "y.npy"


def test_stream_reads_the_same_rows(parquet_folder, npy_pair, data):
    X, y = data
    for s in (stream(parquet_folder, target=["y1", "y2"], chunk_rows=1500),
              stream(npy_pair[0], target=str(npy_pair[1]), chunk_rows=1500)):
        assert s.n == N and s.n_features == D and s.n_outputs == 2
        chunks = list(s.chunks(dtype=torch.float32))
        assert max(c[0].shape[0] for c in chunks) <= 1500
        np.testing.assert_array_equal(torch.cat([c[0] for c in chunks]).numpy(), X.numpy())
        np.testing.assert_array_equal(torch.cat([c[1] for c in chunks]).numpy(), y.numpy())
    assert stream(parquet_folder, target=["y1", "y2"]).feature_names == [f"x{j}" for j in range(D)]


def test_full_batch_from_disk_equals_the_in_memory_fit(parquet_folder, npy_pair, data):
    X, y = data
    ref = gradlm.GDRegressor(epochs=200, lr=0.5, standardize=True, seed=0, fast=True).fit(X.double(), y.double())
    exact = gradlm.lstsq(X, y)
    for s in (stream(parquet_folder, target=["y1", "y2"], chunk_rows=3000),
              stream(npy_pair[0], target=str(npy_pair[1]), chunk_rows=3000)):
        est = gradlm.GDRegressor(epochs=200, lr=0.5, standardize=True, seed=0).fit(s, None)
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(est.history_.loss, ref.history_.loss, rtol=1e-12)
        w, b = gradlm.lstsq(None, None, statistics=s.statistics())
        np.testing.assert_allclose(w, exact.weight, rtol=1e-10)
        np.testing.assert_allclose(b, exact.bias, rtol=1e-10, atol=1e-12)


def test_mini_batches_cover_every_row_once_per_epoch_shuffled_across_units(npy_pair, data):
    X, _ = data
    s = stream(npy_pair[0], target=str(npy_pair[1]), chunk_rows=2000)
    g = torch.Generator().manual_seed(0)
    epoch = list(s.batches(256, g, dtype=torch.float64))
    assert all(b[0].shape[0] == 256 for b in epoch[:-1]) and len(epoch) == s.batch_count(256)
    rows = torch.cat([b[0] for b in epoch])
    # every row once: the same multiset of rows
    np.testing.assert_array_equal(np.sort(rows[:, 0].numpy()), np.sort(X[:, 0].double().numpy()))
    # shuffled: not the file's order, and a batch mixes rows of several units
    assert not torch.equal(rows[:, 0], X[:, 0].double())
    where = {float(v): i // 2000 for i, v in enumerate(X[:, 0].double())}
    assert len({where[float(v)] for v in epoch[0][0][:, 0]}) > 1
    # and the same seed gives the same epoch
    again = list(s.batches(256, torch.Generator().manual_seed(0), dtype=torch.float64))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(epoch, again))


def test_mini_batch_training_from_disk_converges(parquet_folder, data):
    X, y = data
    s = stream(parquet_folder, target=["y1", "y2"], chunk_rows=2000)
    est = gradlm.GDRegressor(epochs=3, lr=0.05, batch_size=128, standardize=True, seed=0).fit(s, None)
    assert est.history_.settings["gradients"] == "analytic"
    exact = gradlm.lstsq(X, y)
    np.testing.assert_allclose(est.coef_, exact.weight, atol=0.05)
    assert est.optimality_gap(X, y) < 0.01


def test_bad_data_on_disk_is_named(tmp_path, data):
    X, y = data
    Xb = X[:3000].numpy().astype(np.float64)
    Xb[2500, 1] = np.nan
    np.save(tmp_path / "X.npy", Xb)
    np.save(tmp_path / "y.npy", y[:3000].numpy())
    s = stream(tmp_path / "X.npy", target=str(tmp_path / "y.npy"), chunk_rows=1000)
    with pytest.raises(ValueError, match="X contains NaN or infinite values, the first in row 2500"):
        gradlm.fit(gradlm.LinearModel(D, 2), s, None, epochs=1, lr=0.1)
    pq.write_table(pa.table({"a": [1.0, 2.0], "y": [1.0, 2.0]}), tmp_path / "t.parquet")
    with pytest.raises(ValueError, match="column 'nope' is not in"):
        stream(tmp_path / "t.parquet", target="nope")
    with pytest.raises(ValueError, match="with a Stream as X, pass y=None"):
        gradlm.fit(gradlm.LinearModel(D, 2), s, y, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="neither a .parquet file"):
        stream(tmp_path / "data.csv", target="y")


def test_rows_are_numbered_in_the_whole_data_in_a_shard(tmp_path, data):
    X, y = data
    Xb = X[:1000].numpy().astype(np.float64)
    Xb[310, 2] = np.inf
    np.save(tmp_path / "X.npy", Xb)
    np.save(tmp_path / "y.npy", y[:1000].numpy())
    s = stream(tmp_path / "X.npy", target=str(tmp_path / "y.npy"), chunk_rows=100)
    with pytest.raises(ValueError, match="the first in row 310 of"):
        s.shard(1, 2).statistics()  # units 1, 3, 5, ...: row 310 is in unit 3


def test_mini_batch_pools_hold_a_few_chunks_not_whole_row_groups(tmp_path, data):
    X, y = data
    pq.write_table(pa.table({"a": X[:, 0].numpy(), "y": y[:, 0].numpy()}), tmp_path / "big.parquet",
                   row_group_size=N)  # one row group of all rows
    s = stream(tmp_path / "big.parquet", target="y", chunk_rows=500)
    batches = list(s.batches(64, torch.Generator().manual_seed(0), dtype=torch.float64))
    assert len(batches) == s.batch_count(64)
    # training's batches are views of the pool's buffer: four chunks and a carried remainder, never the row group
    pooled = {Xb.untyped_storage().nbytes() // (8 * Xb.shape[1])
              for Xb, _ in s.batches(64, torch.Generator().manual_seed(0), dtype=torch.float64, copy=False)}
    assert max(pooled) <= 4 * 500 + 64


def test_mini_batch_buffers_are_reused_across_pools(npy_pair):
    """A fresh pair of tensors per pool let the C allocator keep each freed pool: the memory of a streamed epoch
    grew with the rows (27 MB at 2e5 rows, 104 MB at 6e6). Every batch is now a view of one buffer."""
    s = stream(npy_pair[0], target=str(npy_pair[1]), chunk_rows=300)
    pointers = {Xb.untyped_storage().data_ptr()
                for Xb, _ in s.batches(50, torch.Generator().manual_seed(0), copy=False)}
    assert len(pointers) == 1 and len(s.units) > 8


def test_peak_memory_is_set_by_the_chunk_not_the_rows(tmp_path):
    """Full-batch moments of 100x more rows in the same memory (a fresh process measures its own peak)."""
    code = r"""
import sys, numpy as np, gradlm, resource
from gradlm.streaming import stream
n = int(sys.argv[2])
X = np.lib.format.open_memmap(sys.argv[1] + f"/X{n}.npy", mode="w+", dtype=np.float32, shape=(n, 8))
y = np.lib.format.open_memmap(sys.argv[1] + f"/y{n}.npy", mode="w+", dtype=np.float32, shape=(n, 1))
for a in range(0, n, 50_000):
    b = min(a + 50_000, n)
    X[a:b] = np.random.default_rng(a).normal(size=(b - a, 8)); y[a:b] = X[a:b, :1] * 2 + 1
X.flush(); y.flush(); del X, y
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
def reset():
    open("/proc/self/clear_refs", "w").write("5")
def peak():
    return next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM"))
s = stream(sys.argv[1] + f"/X{n}.npy", target=sys.argv[1] + f"/y{n}.npy", chunk_rows=20_000)
s.statistics()
reset(); start = rss()
stats = s.statistics()
assert abs(float(stats.C[0, 0] / stats.G[0, 0]) - 2) < 1e-6
print(peak() - start)
"""
    peaks = {}
    for n in (20_000, 2_000_000):
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path), str(n)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        peaks[n] = int(out.stdout.strip())
    # the data grow 100x (64 MB of float32 at the larger size); the peak stays within a few chunks' size
    assert peaks[2_000_000] < 16 * 2**20, peaks


def run_cli(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "gradlm", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_two_processes_give_the_single_process_answer(parquet_folder, tmp_path, data):
    """gradlm fit FOLDER --nproc 2: torch.distributed over loopback (gloo), against one process;
    rank 0 alone prints and saves the model."""
    args = ["fit", str(parquet_folder), "--target", "y1,y2", "--epochs", "150", "--lr", "0.5", "--standardize",
            "--json", "--chunk-rows", "3000"]
    one = run_cli(*args)
    two = run_cli(*args, "--nproc", "2", "--save", str(tmp_path / "model.safetensors"))
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = json.loads(one.stdout), json.loads(two.stdout)
    assert b["settings"]["processes"] == 2 and "processes" not in a["settings"]
    np.testing.assert_allclose(b["weight"], a["weight"], rtol=1e-12)
    np.testing.assert_allclose(b["loss"], a["loss"], rtol=1e-12)
    np.testing.assert_allclose(b["lstsq_weight"], a["lstsq_weight"], rtol=1e-10)
    assert a["features"] == [f"x{j}" for j in range(D)] and a["targets"] == ["y1", "y2"]
    assert len(two.stdout.strip().splitlines()) == 1  # one report, from rank 0
    saved = gradlm.load(tmp_path / "model.safetensors")
    assert list(saved.feature_names_in_) == a["features"] and saved.target_names_ == ["y1", "y2"]
    np.testing.assert_array_equal(saved.coef_, b["weight"])
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # and no temporary file left


def test_two_processes_mini_batch_reach_the_optimum(parquet_folder, data):
    """Mini-batch SGD in 2 processes: each step averages both processes' batches (the same expected update)."""
    X, y = data
    two = run_cli("fit", str(parquet_folder), "--target", "y1,y2", "--epochs", "3", "--lr", "0.05",
                  "--batch-size", "128", "--standardize", "--json", "--nproc", "2")
    assert two.returncode == 0, two.stderr[-3000:]
    b = json.loads(two.stdout)
    assert b["settings"]["processes"] == 2 and b["settings"]["n"] == N
    np.testing.assert_allclose(b["weight"], gradlm.lstsq(X, y).weight, atol=0.05)
    assert b["loss"][-1] < b["loss"][0]


def test_distributed_without_a_process_group_says_how_to_launch(data):
    X, y = data
    env_free = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    code = ("import gradlm\nX, y = gradlm.datasets.make_regression(100, 2, seed=0)\n"
            "gradlm.fit(gradlm.LinearModel(2, 1), X, y, epochs=1, lr=0.1, distributed=True)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_free)
    assert out.returncode != 0 and "launch with torchrun" in out.stderr


PROCESSES = r"""
import json, os, sys, warnings, numpy as np, torch, gradlm, gradlm.distributed
from gradlm.streaming import stream
rank = int(os.environ["RANK"])
X, y = gradlm.datasets.make_regression(2000, 3, seed=rank)           # each process its own shard
Xv, yv = gradlm.datasets.make_regression(300, 3, noise=rank, seed=9)   # and its own validation data
torch.manual_seed(rank)
out = {}
h = gradlm.fit(gradlm.LinearModel(3, 1), X, y, epochs=400, lr=0.05, batch_size=64, seed=rank,
               validation=(Xv, yv), tol=1e-3, patience=3, distributed=True)
out["stopped"] = [h.stop_reason, h.epochs_run, h.weight.tolist()]
one_unit = stream(sys.argv[1] + "/X.npy", target=sys.argv[1] + "/y.npy", chunk_rows=10**6)  # rank 1: no data
with warnings.catch_warnings(record=True):
    h = gradlm.fit(gradlm.LinearModel(3, 1), one_unit, None, epochs=3, lr=0.01, batch_size=64, seed=0, tol=1e-12,
                   distributed=True)
out["empty_shard"] = [h.stop_reason, h.epochs_run, h.weight.tolist()]
try:
    gradlm.fit(gradlm.LinearModel(3, 1), one_unit, None, epochs=300, lr=50.0, batch_size=64, distributed=True)
except gradlm.DivergenceError as err:
    out["diverged"] = "stable below" in str(err)
with open(sys.argv[1] + f"/report-{rank}.json", "w") as fh:  # (the processes' stdout would interleave)
    json.dump(out, fh)
gradlm.distributed.shutdown()
# As the CLI's workers do: gloo's threads can still abort interpreter finalization (about 1 run in 30).
sys.stdout.flush(); sys.stderr.flush(); os._exit(0)
"""


def test_processes_stop_together_and_empty_shards_finish(tmp_path, data):
    """Different validation data per process, tol, a process with no data, a divergence: all end alike."""
    X, y = data
    np.save(tmp_path / "X.npy", X[:3000, :3].numpy())
    np.save(tmp_path / "y.npy", y[:3000, :1].numpy())
    script = tmp_path / "processes.py"
    script.write_text(PROCESSES)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                          str(script), str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    reports = [json.loads((tmp_path / f"report-{rank}.json").read_text()) for rank in (0, 1)]
    assert reports[0] == reports[1]  # same stop, same epochs, same parameters in both processes
    assert reports[0]["stopped"][0] in ("converged", "patience") and reports[0]["stopped"][1] < 400
    assert reports[0]["empty_shard"][1] == 3 and reports[0]["diverged"] is True


def test_a_stream_of_zero_rows_is_named(tmp_path):
    """A zero-row Parquet file gave AttributeError: 'NoneType' object has no attribute 'G'."""
    import pandas as pd

    path = tmp_path / "empty.parquet"
    pd.DataFrame({"x": pd.Series([], dtype=float), "y": pd.Series([], dtype=float)}).to_parquet(path)
    s = stream(path, target="y")
    with pytest.raises(ValueError, match="empty.parquet has 0 rows"):
        gradlm.GDRegressor().fit(s, None)
    with pytest.raises(ValueError, match="empty.parquet has 0 rows"):
        gradlm.fit(gradlm.LinearModel(1, 1), s, None)
