"""One epoch per gradient engine: autograd, closed form per mini-batch, the moments, fused plain SGD.

:func:`epoch_function` returns ``epoch() -> loss`` for a :class:`~gradlm.plan.Plan`.
Full batch: the loss before the epoch's step. Mini-batch: the mean of the
epoch's batch losses. Distributed training wraps the gradient (an all-reduce
of the per-process sums), not the loop.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import torch

from .analytic import batch_loss_and_grads, sgd_epoch
from .batches import BatchOrder
from .distributed import all_reduce_max, all_reduce_sum
from .loss import mse


def manual_step(params: list, lr: float) -> Callable:
    """The tutorial's update: ``p -= p.grad * lr`` under no_grad, then zero the gradient."""

    def step():
        with torch.no_grad():
            for p in params:
                p -= p.grad * lr
                p.grad.zero_()

    return step


def epoch_function(plan: Any, model: Any, step: Callable, zero_grad: Callable, *, shuffle: bool,
                   seed: Optional[int], lr: Optional[Callable[[], float]] = None) -> Callable[[], float]:
    """The epoch of ``plan.engine`` (see the module's docstring).

    With a penalty (``plan.penalty``), each step adds the ridge part's gradient
    and follows the optimizer's step with the L1 part's proximal step at the
    step size ``lr()``; the recorded loss includes the penalty. Full batch on
    the moments with an L1 part (``settings["optimizer"] == "fista"``), each
    epoch is one step of accelerated proximal gradient.
    """
    penalty = plan.penalty
    lr = lr if lr is not None else (lambda: plan.lr)
    weight, bias = model.weight, model.bias
    like = {"dtype": weight.dtype, "device": weight.device}
    X, y, source, n = plan.X, plan.y, plan.source, plan.n
    batch_size = plan.settings["batch_size"]
    engine = plan.engine
    stats = plan.statistics if engine == "sufficient statistics" else None
    order = None
    if batch_size is not None and source is None:
        order = BatchOrder(n, batch_size, shuffle, seed, device=X.device)
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    opt = plan.settings
    fused_sgd = (engine == "analytic" and opt["optimizer"] == "sgd" and penalty is None
                 and not (plan.momentum or opt["nesterov"] or opt["weight_decay"]))

    def penalized_step(loss):
        """The optimizer's step with the penalty's parts; the loss with its term (before the step)."""
        if penalty is None:
            step()
            return loss
        loss = loss + penalty.loss_term(weight)
        penalty.add_gradient_(weight)
        step()
        penalty.prox_(weight, lr())
        return loss

    def train_step(Xb, yb):
        if engine == "autograd":
            loss = mse(model(Xb), yb)
            zero_grad()
            loss.backward()
            return penalized_step(loss.detach())
        if stats is not None:
            loss, weight.grad, bias.grad = stats.loss_and_grads(weight.detach(), bias.detach())
        else:
            loss, weight.grad, bias.grad = batch_loss_and_grads(Xb, yb, weight, bias)
        return penalized_step(loss)

    fista = {"t": 1.0, "previous": None}

    def fista_epoch():
        """One step of FISTA with adaptive restart (O'Donoghue and Candes' gradient scheme) on the moments:
        the gradient at the extrapolated point, then the proximal step; the model holds the iterate."""
        assert stats is not None and penalty is not None
        with torch.no_grad():
            x = torch.cat([weight, bias[:, None]], dim=1)
            previous = fista["previous"] if fista["previous"] is not None else x
            loss = stats.loss_and_grads(weight, bias)[0] + penalty.loss_term(weight)
            t = fista["t"]
            t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
            point = x + ((t - 1.0) / t_next) * (x - previous)
            _, dW, db = stats.loss_and_grads(point[:, :-1], point[:, -1])
            ridge = penalty.gradient(point[:, :-1])
            if ridge is not None:
                dW = dW + ridge
            step_size = lr()
            new = point - step_size * torch.cat([dW, db[:, None]], dim=1)
            penalty.prox_(new[:, :-1], step_size)
            # restart when the step goes against the momentum (the objective would rise)
            fista["t"] = 1.0 if float(((point - new) * (new - x)).sum()) > 0 else t_next
            fista["previous"] = x
            weight.copy_(new[:, :-1])
            bias.copy_(new[:, -1])
        return float(loss)

    def local_batches():
        if source is not None:
            yield from source.batches(batch_size, generator, shuffle, copy=False, **like)  # (used at once)
            return
        for rows in order.blocks():
            if isinstance(rows, slice):
                Xblock, yblock = X[rows], y[rows]
            else:
                Xblock, yblock = X.index_select(0, rows), y.index_select(0, rows)
            for start in range(0, Xblock.shape[0], batch_size):
                yield Xblock[start : start + batch_size], yblock[start : start + batch_size]

    def distributed_epoch():
        """One epoch of steps on the mean gradient over every process's batch (see gradlm.distributed)."""
        steps = all_reduce_max(math.ceil(n / batch_size), device=weight.device)
        batches = local_batches()
        sizes = (weight.numel(), bias.numel())
        losses = []
        for _ in range(steps):
            batch = next(batches, None)
            sums = torch.zeros(sizes[0] + sizes[1] + 2, dtype=torch.float64, device=weight.device)
            if batch is not None:
                loss, dW, db = batch_loss_and_grads(batch[0], batch[1], weight.detach(), bias.detach())
                m = batch[1].numel()
                sums[: sizes[0]] = dW.reshape(-1) * m
                sums[sizes[0] : -2] = db * m
                sums[-2], sums[-1] = loss * m, m
            all_reduce_sum(sums)
            weight.grad = (sums[: sizes[0]] / sums[-1]).reshape(weight.shape).to(weight.dtype)
            bias.grad = (sums[sizes[0] : -2] / sums[-1]).to(bias.dtype)
            losses.append(penalized_step(sums[-2] / sums[-1]))
        return float(torch.stack(losses).mean())

    def mini_batch_epoch():
        if "processes" in opt:  # distributed
            return distributed_epoch()
        if fused_sgd and source is None:
            return sgd_epoch(X, y, weight, bias, order.blocks(), batch_size, lr())  # (lr(): as scheduled)
        total = torch.zeros((), dtype=torch.float64, device=weight.device)
        count = 0
        for Xb, yb in local_batches():
            total += train_step(Xb, yb)
            count += 1
        return float(total) / count

    if batch_size is None:
        if opt["optimizer"] == "fista":
            return fista_epoch
        return lambda: float(train_step(X, y))
    return mini_batch_epoch
