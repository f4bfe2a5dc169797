"""Data-parallel training on torch.distributed: ``fit(..., distributed=True)``.

Run one process per worker under ``torchrun`` (or ``gradlm fit ... --nproc N``,
which launches it on this machine). Each process reads its own shard: a
:class:`~gradlm.streaming.Stream` is split by unit (process ``r`` of ``w``
reads units ``r, r + w, ...``); arrays given to ``fit`` are taken to be this
process's shard already. What is synchronised:

- **at the start**, the model's parameters, broadcast from rank 0, so every
  process starts alike whatever its seed;
- **full batch**: once, the sufficient statistics (n, means, centred
  ``X'X``, ``X'y``, ``y'y``): each process's are gathered and merged in rank
  order, identically everywhere (:meth:`SufficientStatistics.merge`). The
  epochs then run on the merged moments with no more communication, and the
  result equals the single-process fit to float64 rounding;
- **mini-batch**: at every step, the sums of the closed-form gradients and of
  the batch sizes (one all-reduce of a few numbers per step). Each process
  takes a batch of ``batch_size`` rows of its shard, so a step uses the mean
  gradient over up to ``world x batch_size`` rows: the same expected update
  as one process with that batch size, not the same sequence of batches.
  Processes whose shard is used up for the epoch contribute nothing to the
  remaining steps;
- **every epoch**, the stopping decision: the validation loss is taken over
  every process's validation rows, and a callback that stops one process
  stops them all, so no process waits for a step the others never take.

Interrupting a run started by torchrun interrupts every process (torchrun
passes the signal on); each keeps its whole-epoch parameters, but processes
interrupted at different steps can leave one waiting in a collective until
torchrun stops it: rerun rather than rely on an interrupted distributed fit.

A worker script ends with :func:`shutdown`. Even then, gloo's threads can
abort the interpreter's finalization now and then ("terminate called without
an active exception", about one run in 30), which torchrun reports as a
failed run: a script whose results are written can end with
``os._exit(0)`` after ``shutdown()``, as the CLI's workers do.

Every process ends with the same parameters and History; by convention rank
0 alone writes (``is_main_process()``): the CLI prints and saves only there.
The backend is gloo on the CPU and nccl for CUDA models.

Several machines: start the same command on each with torchrun's
rendezvous flags, e.g. on each of 2 nodes with 4 processes each::

    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d \\
        --rdzv-endpoint HOST:29500 --rdzv-id gradlm-job \\
        -m gradlm fit data/ --target y --distributed --json
"""

from __future__ import annotations

import atexit
import os
from typing import Any

import torch
import torch.distributed as dist

from .analytic import SufficientStatistics


def setup(device: Any = None) -> tuple:
    """Join the process group (from torchrun's environment) if not joined yet; return ``(rank, world)``."""
    if not dist.is_available():
        raise RuntimeError("this torch has no torch.distributed; distributed=True cannot run.")
    if not dist.is_initialized():
        if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
            raise RuntimeError(
                "distributed=True needs a process group: launch with torchrun (or `gradlm fit ... --nproc N`), "
                "or call torch.distributed.init_process_group first."
            )
        cuda = device is not None and torch.device(device).type == "cuda"
        dist.init_process_group(backend="nccl" if cuda else "gloo")
        # Joined here, left here: a group still up at exit aborts the process
        # ("terminate called without an active exception", from gloo's threads).
        atexit.register(shutdown, wait=False)
    return dist.get_rank(), dist.get_world_size()


def shutdown(wait: bool = True) -> None:
    """Leave the process group; with ``wait``, once every process is done with it.

    (After an error in one process, the others may never reach the barrier: don't wait then.)
    """
    if dist.is_available() and dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def is_main_process() -> bool:
    """True outside distributed training, and on rank 0 within it."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def broadcast_parameters(model: torch.nn.Module) -> None:
    """Give every process rank 0's parameters."""
    with torch.no_grad():
        for p in model.parameters():
            dist.broadcast(p.data, src=0)


def merge_statistics(local: Any) -> SufficientStatistics:
    """Every process's statistics (None for an empty shard), merged in rank order: the same on all ranks."""
    payload = None
    if local is not None:
        payload = {k: getattr(local, k).cpu() for k in ("mx", "my", "G", "C", "yy")}
        payload.update({key: getattr(local, key) for key in SufficientStatistics.SCALARS})
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, payload)
    total = None
    for part in gathered:
        if part is None:
            continue
        stats = object.__new__(SufficientStatistics)
        for key, value in part.items():
            setattr(stats, key, value)
        stats.origin = None
        total = stats if total is None else total.merge(stats)
    if total is None:
        raise ValueError("the data have 0 rows in every process; pass at least one row of data.")
    return total


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    """The sum over processes, in place (float64, on the values' device)."""
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def all_reduce_max(value: int, device: Any = None) -> int:
    t = torch.tensor([value], dtype=torch.int64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return int(t.item())
