"""The gradient-descent loops: full batch or mini-batch, torch optimizers or the tutorial's manual step."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Optional, Union

import torch

from .analytic import SufficientStatistics, batch_loss_and_grads, sgd_epoch
from .batches import BatchOrder
from .history import History, Recorder
from .loss import mse
from .distributed import all_reduce_max, all_reduce_sum, broadcast_parameters, merge_statistics, setup
from .model import LinearModel
from .stability import TrainingDiagnostics
from .streaming import Stream
from .validation import check_choice, check_float, check_int, check_X_y

OPTIMIZERS = ("sgd", "adam")
UPDATES = ("optimizer", "manual")
FAST_MIN_ROWS = 10_000


def _optimizer(model, optimizer, *, lr, momentum, nesterov, weight_decay):
    if isinstance(optimizer, torch.optim.Optimizer):
        if lr is not None:
            raise ValueError(
                "lr was given together with an optimizer instance, which has its own lr; "
                "leave lr unset (or pass optimizer='sgd')."
            )
        mine = {id(p) for p in model.parameters()}
        theirs = {id(p) for group in optimizer.param_groups for p in group["params"]}
        if mine != theirs:
            raise ValueError(
                "the optimizer instance does not hold this model's parameters; build it with "
                "torch.optim.SGD(model.parameters(), ...)."
            )
        return optimizer
    name = check_choice(optimizer, "optimizer", OPTIMIZERS)
    if lr is None:
        raise ValueError("lr is required; pass a learning rate such as lr=0.001.")
    if name == "sgd":
        if nesterov and momentum <= 0:
            raise ValueError("nesterov=True needs momentum > 0; set momentum=0.9, say.")
        return torch.optim.SGD(
            model.parameters(), lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
        )
    if momentum or nesterov:
        raise ValueError("momentum and nesterov apply to optimizer='sgd' only; unset them for 'adam'.")
    return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)


def _is_linear_model(model) -> bool:
    """The closed-form gradients hold for LinearModel's own forward, not for a subclass's."""
    return isinstance(model, LinearModel) and type(model).forward is LinearModel.forward


def _manual_step(params, lr):
    """The tutorial's update: ``p -= p.grad * lr`` under no_grad, then zero the gradient."""

    def step():
        with torch.no_grad():
            for p in params:
                p -= p.grad * lr
                p.grad.zero_()

    return step


def fit(
    model: LinearModel,
    X: Any,
    y: Any,
    *,
    epochs: int,
    lr: Optional[float] = None,
    batch_size: Optional[int] = None,
    shuffle: bool = True,
    optimizer: Union[str, torch.optim.Optimizer] = "sgd",
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    update: str = "optimizer",
    seed: Optional[int] = None,
    validation: Optional[tuple] = None,
    tol: Optional[float] = None,
    patience: Optional[int] = None,
    callbacks: Iterable[Callable] = (),
    progress: Optional[bool] = None,
    fast: Optional[bool] = None,
    on_divergence: str = "raise",
    distributed: bool = False,
) -> History:
    """Train ``model`` on ``(X, y)`` by gradient descent on the MSE; return the History.

    Parameters
    ----------
    model : LinearModel
        Trained in place; its dtype and device decide those of the data.
    X : array-like (n, in), Stream, or SufficientStatistics
        Tensor, NumPy array, pandas DataFrame or nested list; a 1-D ``X`` is one feature.
        A :class:`~gradlm.streaming.Stream` (from :func:`gradlm.stream`, with
        ``y=None``) reads data larger than memory from disk, chunk by chunk.
        Full-batch training needs only the data's moments: a
        :class:`~gradlm.analytic.SufficientStatistics` (with ``y=None``)
        trains without another pass over the data.
    y : array-like (n, out)
        A 1-D ``y`` is accepted for a one-output model.
    epochs : int
    lr : float
        Learning rate (leave unset when ``optimizer`` is an instance).
    batch_size : int, optional
        None is full batch: each epoch is one step on all rows. Otherwise
        mini-batches, the last one smaller when ``n`` is not a multiple; a
        ``batch_size`` above ``n`` gives one batch of all rows.
    shuffle : bool
        Reshuffle the rows every epoch (mini-batch only), in the order
        ``DataLoader(..., shuffle=True)`` draws (see :mod:`gradlm.batches`).
    optimizer : {"sgd", "adam"} or torch.optim.Optimizer
    momentum, nesterov, weight_decay : SGD settings (``weight_decay`` also for Adam).
    update : {"optimizer", "manual"}
        ``"manual"`` is the tutorials' step: ``p -= p.grad * lr`` under
        ``torch.no_grad()``, then ``p.grad.zero_()``; plain SGD only.
    seed : int, optional
        Seeds the batch order; None draws it from the global torch RNG.
    validation : (X_val, y_val), optional
        Its loss is recorded after each epoch, and monitored by ``tol`` instead
        of the training loss.
    tol, patience : optional
        Stop when the monitored loss has not improved by more than ``tol`` for
        ``patience`` epochs in a row (defaults: ``patience=5``, ``tol=0``).
        A ConvergenceWarning says when ``epochs`` ran out first.
    callbacks : callables
        Each called with an :class:`EpochInfo` after every epoch; returning True stops.
    progress : bool, optional
        A tqdm progress bar; by default only on an interactive terminal, never under CI.
    fast : bool, optional
        With ``update="optimizer"`` and a :class:`LinearModel`, compute the MSE
        gradients in closed form (see :mod:`gradlm.analytic`): per batch for
        mini-batches, from float64 sufficient statistics for full batch (each
        epoch then costs O(d^2) instead of O(n d)). The iterates equal
        autograd's to float rounding. None (the default) does so from
        ``FAST_MIN_ROWS`` (10,000) rows up; below that autograd costs little
        and reproduces torch's own float32 loop, and so the tutorials' printed
        digits, bit for bit. ``update="manual"`` always runs autograd: it is
        the tutorials' step. ``history.settings["gradients"]`` says which ran.
    on_divergence : {"raise", "warn"}
        When the loss becomes NaN or infinite, or rises 10 epochs in a row
        above the first epoch's, training stops and the model goes back to
        the parameters of the last epoch with a finite loss. "raise" raises
        :class:`~gradlm.DivergenceError` (its ``history`` holds the run), with
        the largest stable learning rate (:func:`gradlm.suggest_lr`) in the
        message; "warn" warns and returns the History (``stop_reason``
        ``"diverged"``).

    distributed : bool
        Data-parallel training on torch.distributed, one process per worker
        (under torchrun; see :mod:`gradlm.distributed`): a Stream is sharded
        by unit, arrays are this process's shard. Needs the closed-form
        gradients (a LinearModel, ``update="optimizer"``, ``fast`` not False).

    Interrupting (Ctrl-C, or an interrupt in R) returns the History so far,
    ``stop_reason="interrupted"``, with the model at the end of the last
    whole epoch: never a half-updated parameter set.

    Returns
    -------
    History

    Examples
    --------
    The nn.Linear tutorial, epoch by epoch:

    >>> import torch, gradlm
    >>> X, y = gradlm.datasets.line()
    >>> _ = torch.manual_seed(59)
    >>> history = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=50, lr=0.001)
    >>> print(f"{history.loss[0]:.4f} {history.loss[-1]:.4f}")
    3057.2168 21.0585
    """
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "weight") or not hasattr(model, "bias"):
        raise TypeError(f"model must be a gradlm.LinearModel; got {type(model).__name__}.")
    update = check_choice(update, "update", UPDATES)
    lr = check_float(lr, "lr", positive=True, allow_none=True)
    momentum = check_float(momentum, "momentum", nonnegative=True)
    weight_decay = check_float(weight_decay, "weight_decay", nonnegative=True)
    batch_size = check_int(batch_size, "batch_size", allow_none=True)
    seed = check_int(seed, "seed", minimum=0, allow_none=True)
    weight, bias = model.weight, model.bias
    like = {"dtype": weight.dtype, "device": weight.device}
    n_out, n_in = weight.shape
    given_stats = X if isinstance(X, SufficientStatistics) else None
    source = X if isinstance(X, Stream) else None
    rank, world = setup(weight.device) if distributed else (0, 1)
    if distributed and (update != "optimizer" or fast is False or not _is_linear_model(model)):
        raise ValueError(
            "distributed=True uses the closed-form gradients: pass a gradlm.LinearModel, "
            "update='optimizer', and leave fast unset."
        )
    if source is not None:
        if y is not None:
            raise ValueError("with a Stream as X, pass y=None: the stream holds the targets.")
        if source.n_features != n_in or source.n_outputs != n_out:
            raise ValueError(
                f"the stream has {source.n_features} feature(s) and {source.n_outputs} output(s); "
                f"the model is gradlm.LinearModel({n_in}, {n_out})."
            )
        if distributed:
            source = source.shard(rank, world)
        if batch_size is None:
            if update != "optimizer" or fast is False or not _is_linear_model(model):
                raise ValueError(
                    "a Stream trains full batch on its sufficient statistics: pass a gradlm.LinearModel, "
                    "update='optimizer', and leave fast unset (or give batch_size for mini-batches)."
                )
            local = source.statistics() if source.units else None
            given_stats = merge_statistics(local) if distributed else local
            n = given_stats.n
        else:
            n = source.n
    elif given_stats is not None:
        if y is not None or batch_size is not None or update != "optimizer" or fast is False:
            raise ValueError(
                "SufficientStatistics in place of X train full batch with the closed-form gradients: "
                "pass y=None and leave batch_size, update and fast unset."
            )
        if not _is_linear_model(model) or given_stats.G.shape[0] != n_in or given_stats.C.shape[1] != n_out:
            raise ValueError(
                f"the statistics are of {given_stats.G.shape[0]} feature(s) and {given_stats.C.shape[1]} "
                f"output(s); the model needs a gradlm.LinearModel({n_in}, {n_out}) with its own forward."
            )
        n = given_stats.n
    else:
        X, y = check_X_y(X, y, n_features=n_in, n_outputs=n_out, **like)
        n = X.shape[0]
        if distributed and batch_size is None:
            given_stats = merge_statistics(SufficientStatistics(X, y))
            n = given_stats.n
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("validation must be a pair (X_val, y_val).")
        X_val, y_val = check_X_y(*validation, n_features=n_in, n_outputs=n_out, **like)

    if update == "manual":
        if not isinstance(optimizer, str) or optimizer != "sgd" or momentum or nesterov or weight_decay:
            raise ValueError(
                "update='manual' is plain SGD; leave optimizer='sgd' and momentum, nesterov, "
                "weight_decay unset."
            )
        if lr is None:
            raise ValueError("lr is required; pass a learning rate such as lr=0.001.")
        params = [weight, bias]
        for p in params:
            p.grad = None
        step = _manual_step(params, lr)
        zero_grad = lambda: None  # noqa: E731 (the manual step zeroes after updating)
        opt_name = "manual"
    else:
        opt = _optimizer(model, optimizer, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
        step, zero_grad = opt.step, opt.zero_grad
        opt_name = optimizer if isinstance(optimizer, str) else type(optimizer).__name__
        lr = lr if lr is not None else opt.param_groups[0].get("lr")

    recorder = Recorder(
        epochs=epochs,
        tol=tol,
        patience=patience,
        callbacks=callbacks,
        progress=progress,
        on_divergence=on_divergence,
        diagnostics=TrainingDiagnostics(X, y, statistics=given_stats, source=source,
                                        merge=merge_statistics if distributed else None),
        settings={
            "lr": lr,
            "batch_size": batch_size,
            "shuffle": bool(shuffle),
            "optimizer": opt_name,
            "momentum": momentum,
            "nesterov": bool(nesterov),
            "weight_decay": weight_decay,
            "seed": seed,
            "n": n,
        },
    )
    if distributed:
        recorder.settings["processes"] = world
        if batch_size is not None:  # n is this process's shard; the record says the whole
            total = torch.tensor([float(n)], dtype=torch.float64, device=weight.device)
            recorder.settings["n"] = int(all_reduce_sum(total).item())
        broadcast_parameters(model)
    order = None
    if batch_size is not None and source is None:
        order = BatchOrder(n, batch_size, bool(shuffle), seed, device=X.device)
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    gradients = "autograd"
    if fast is None:
        fast = given_stats is not None or distributed or n >= FAST_MIN_ROWS
    if fast and update == "optimizer" and _is_linear_model(model):
        gradients = "analytic" if batch_size is not None else "sufficient statistics"
    recorder.settings["gradients"] = gradients
    stats = None
    if gradients == "sufficient statistics":
        stats = given_stats if given_stats is not None else SufficientStatistics(X, y)
        stats = stats.to(weight.device)  # (moments merged or streamed are taken on the CPU)
        recorder.diagnostics = TrainingDiagnostics(statistics=stats)
    # Plain SGD with closed-form gradients: the update fused into one addmm, no optimizer call.
    fused_sgd = gradients == "analytic" and opt_name == "sgd" and not (momentum or nesterov or weight_decay)

    def train_step(Xb, yb):
        if gradients == "autograd":
            loss = mse(model(Xb), yb)
            zero_grad()
            loss.backward()
            step()
            return loss.detach()
        if stats is not None:
            loss, weight.grad, bias.grad = stats.loss_and_grads(weight.detach(), bias.detach())
            step()
            return loss
        loss, weight.grad, bias.grad = batch_loss_and_grads(Xb, yb, weight, bias)
        step()
        return loss

    def local_batches():
        if source is not None:
            yield from source.batches(batch_size, generator, bool(shuffle), **like)
            return
        for rows in order.blocks():
            if isinstance(rows, slice):
                Xblock, yblock = X[rows], y[rows]
            else:
                Xblock, yblock = X.index_select(0, rows), y.index_select(0, rows)
            for start in range(0, Xblock.shape[0], batch_size):
                yield Xblock[start : start + batch_size], yblock[start : start + batch_size]

    def epoch_loss_distributed():
        """One epoch of steps on the mean gradient over every process's batch (see gradlm.distributed)."""
        steps = all_reduce_max(math.ceil(n / batch_size), device=weight.device)
        batches = local_batches()
        sizes = (n_out * n_in, n_out)
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
            step()
            losses.append(sums[-2] / sums[-1])
        return float(torch.stack(losses).mean())

    def epoch_loss_minibatch():
        if distributed:
            return epoch_loss_distributed()
        if fused_sgd and source is None:
            return sgd_epoch(X, y, weight, bias, order.blocks(), batch_size, lr)
        total = torch.zeros((), dtype=torch.float64, device=weight.device)
        count = 0
        for Xb, yb in local_batches():
            total += train_step(Xb, yb)
            count += 1
        return float(total) / count

    try:
        with torch.set_grad_enabled(gradients == "autograd"):
            for epoch in recorder:
                recorder.start_epoch(weight, bias)
                epoch_loss = float(train_step(X, y)) if batch_size is None else epoch_loss_minibatch()
                val_loss = None
                if validation is not None:
                    with torch.no_grad():
                        val_loss = float(mse(model(X_val), y_val))
                    if distributed:  # every process's validation rows, so that all stop alike
                        sums = torch.tensor([val_loss * y_val.numel(), y_val.numel()], dtype=torch.float64,
                                            device=weight.device)
                        all_reduce_sum(sums)
                        val_loss = float(sums[0] / sums[1])
                recorder.end_epoch(epoch, epoch_loss, val_loss, model)
                if distributed and all_reduce_max(int(recorder.stop_reason == "callback"), weight.device):
                    recorder.stop_reason = "callback"  # a callback in any process stops them all
    except KeyboardInterrupt:
        recorder.interrupt()

    def restore(w, b):
        with torch.no_grad():
            weight.copy_(w)
            bias.copy_(b)

    return recorder.history(weight, bias, restore=restore)
