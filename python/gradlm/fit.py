"""The gradient-descent loops: full batch or mini-batch, torch optimizers or the tutorial's manual step.

``fit`` is a short composition: :func:`gradlm.plan.make_plan` settles the run,
:func:`gradlm.steps.epoch_function` gives the engine's epoch, and
:class:`gradlm.loop.Loop` runs the epochs with its rules and builds the
History with its report.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, Union

import torch

from .distributed import all_reduce_max, all_reduce_sum, broadcast_parameters
from .history import History
from .interrupts import Deferred, warm_torch_optim
from .loop import HISTORIES, Loop
from .loss import mse
from .plan import FAST_MIN_ROWS, make_plan  # noqa: F401 (FAST_MIN_ROWS: documented here)
from .schedules import scheduler_step
from .steps import epoch_function, manual_step
from .validation import check_choice, check_X_y


def _optimizer(model: Any, optimizer: Any, plan: Any) -> Any:
    """The torch optimizer of the plan (an instance is used as given, checked to hold the model's parameters)."""
    if isinstance(optimizer, torch.optim.Optimizer):
        mine = {id(p) for p in model.parameters()}
        theirs = {id(p) for group in optimizer.param_groups for p in group["params"]}
        if mine != theirs:
            raise ValueError(
                "the optimizer instance does not hold this model's parameters; build it with "
                "torch.optim.SGD(model.parameters(), ...)."
            )
        return optimizer
    s = plan.settings
    if optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=plan.lr, momentum=plan.momentum, nesterov=s["nesterov"],
                               weight_decay=s["weight_decay"])
    return torch.optim.Adam(model.parameters(), lr=plan.lr, weight_decay=s["weight_decay"])


def fit(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    epochs: Any = "auto",
    lr: Any = "auto",
    batch_size: Optional[int] = None,
    shuffle: bool = True,
    optimizer: Union[str, torch.optim.Optimizer] = "sgd",
    momentum: Any = "auto",
    nesterov: bool = False,
    weight_decay: float = 0.0,
    update: str = "optimizer",
    seed: Optional[int] = None,
    validation: Optional[tuple] = None,
    tol: Any = "auto",
    patience: Optional[int] = None,
    callbacks: Iterable[Callable] = (),
    progress: Optional[bool] = None,
    fast: Optional[bool] = None,
    on_divergence: str = "raise",
    distributed: bool = False,
    statistics: Any = None,
    sample_weight: Any = None,
    alpha: Any = 0.0,
    l1_ratio: Any = 0.0,
    history: str = "full",
    lr_schedule: Any = "constant",
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
    epochs : int or "auto"
        The budget. ``"auto"``: about twice the epochs the step needs to reach
        ``tol`` (from the Hessian's condition number; at least 100, at most
        100,000 on the moments), 1,000 for other full-batch runs, 100 for
        mini-batches.
    lr : float or "auto"
        Learning rate. ``"auto"`` (the default) chooses it from the data's
        curvature (see :mod:`gradlm.stability`): full batch, Polyak's heavy
        ball (with ``momentum="auto"``); mini-batch, a safe fraction of the
        stable bound. A number keeps it, as the tutorials' loops do. Leave it
        unset when ``optimizer`` is an instance.
    batch_size : int, optional
        None is full batch: each epoch is one step on all rows. Otherwise
        mini-batches, the last one smaller when ``n`` is not a multiple; a
        ``batch_size`` above ``n`` gives one batch of all rows.
    shuffle : bool or "batches"
        Reshuffle the rows every epoch (mini-batch only), in the order
        ``DataLoader(..., shuffle=True)`` draws (see :mod:`gradlm.batches`).
        ``"batches"``: contiguous batches, cut once, visited in a random order
        each epoch: no rows gathered (about an unshuffled epoch's cost), but
        each batch holds the same neighbouring rows every epoch.
    optimizer : {"sgd", "adam"} or torch.optim.Optimizer
    momentum : float or "auto"
        SGD (heavy-ball) momentum. ``"auto"``: chosen with ``lr="auto"`` from
        the Hessian's condition number for full batch; 0 otherwise.
    nesterov, weight_decay : SGD settings (``weight_decay`` also for Adam).
    update : {"optimizer", "manual"}
        ``"manual"`` is the tutorials' step: ``p -= p.grad * lr`` under
        ``torch.no_grad()``, then ``p.grad.zero_()``; plain SGD only.
    seed : int, optional
        Seeds the batch order; None draws it from the global torch RNG.
    validation : (X_val, y_val), optional
        Its loss is recorded after each epoch, and monitored by ``tol`` instead
        of the training loss.
    tol : float, "auto" or None
        Certified stopping: stop when every coefficient is within ``tol`` of
        the least-squares one, in its own units (see :mod:`gradlm.report`);
        ``stop_reason`` is then ``"converged"``. When ``epochs`` run out first,
        a :class:`~gradlm.ConvergenceWarning` gives the distance, the gap and
        the fix. ``"auto"``: the dtype's tolerance (float64 1e-10, float32
        1e-6, looser on ill-conditioned data) when ``lr`` or ``epochs`` is
        ``"auto"``; with both given, as the tutorials' loops, no stopping rule
        and no warning. Either way ``history.report`` holds the verdict.
    patience : int, optional
        Early stopping: stop when the monitored loss (the validation loss if
        given, else the training loss) has not improved for ``patience``
        epochs; the model goes back to the best epoch's parameters. With
        ``lr="auto"`` and ``momentum="auto"``, full batch then takes plain
        gradient steps (momentum 0): their loss falls every epoch, where heavy
        ball's rises for a while first, which a short patience would take for
        the end.
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
    on_divergence : {"raise", "warn", "ignore"}
        The divergence guard (see :class:`gradlm.callbacks.DivergenceGuard`):
        a NaN or infinite loss stops training; so does a rising loss where
        it must diverge (full-batch SGD beyond its stable bound) or, where
        theory cannot tell (Adam, mini-batches), one rising 10 epochs in a
        row above the first epoch's. A full-batch SGD run inside its bound is
        never stopped, however momentum makes its loss rise. The model goes
        back to the best parameters seen. "raise" raises
        :class:`~gradlm.DivergenceError` (its ``history`` holds the run), its
        message naming the cause (the step beyond its bound, or a scale the
        dtype cannot hold) and the fix; "warn" warns and returns the History
        (``stop_reason`` ``"diverged"``); "ignore" keeps only the NaN/Inf rule.

    statistics : SufficientStatistics, optional
        The moments of in-memory ``(X, y)``, taken already: they spare the
        pass that ``lr="auto"`` and the certified stop would make.
    distributed : bool
        Data-parallel training on torch.distributed, one process per worker
        (under torchrun; see :mod:`gradlm.distributed`): a Stream is sharded
        by unit, arrays are this process's shard. Needs the closed-form
        gradients (a LinearModel, ``update="optimizer"``, ``fast`` not False).
    sample_weight : array-like (n,), optional
        Weights ``>= 0`` of in-memory rows: weighted least squares, the loss
        ``sum(w r^2) / (sum(w) k)``. Trains full batch on the weighted moments
        (a LinearModel, no ``batch_size``).
    alpha, l1_ratio : float, or one per output
        Elastic-net penalty on the weights (never the bias), as scikit-learn's
        ``ElasticNet``: each output minimises ``1/(2n) ||y - X w - b||^2 +
        alpha (l1_ratio ||w||_1 + (1 - l1_ratio) / 2 ||w||^2)``
        (see :mod:`gradlm.penalty` for glmnet's and ``Ridge``'s scaling).
        ``alpha=0`` (the default) is least squares; ``l1_ratio=0`` ridge, 1
        the lasso. The L1 part takes proximal steps (soft-thresholding): full
        batch on the moments, accelerated proximal gradient (FISTA with
        restart). Certified against the penalized optimum: exact for ridge,
        identified by its KKT conditions with an L1 part.
    history : {"full", "loss"}
        ``"full"`` records the parameters at the start of every epoch
        (``weight_path``, ``bias_path``: the tutorials' tables); ``"loss"``
        records the losses only, and keeps no more than a few parameter sets
        whatever the epochs (the paths are then empty).
    lr_schedule : {"constant", "step", "cosine", "invscaling"} or callable
        How the optimizer's learning rate changes, through
        ``torch.optim.lr_scheduler``, stepped once after each epoch (the
        next epoch runs at the new rate). ``"constant"`` (the default): no
        scheduler. ``"step"``: ``StepLR(step_size=max(1, epochs // 3),
        gamma=0.1)``. ``"cosine"``: ``CosineAnnealingLR(T_max=epochs)``, near 0
        by the last epoch. ``"invscaling"``: scikit-learn's ``lr / t ** 0.25``
        (``LambdaLR``), with ``t`` counted in epochs, from 1 (scikit-learn's
        ``SGDRegressor`` counts samples). A callable ``optimizer ->
        LRScheduler`` builds any other (``ReduceLROnPlateau`` is stepped with
        the monitored loss: the validation loss if given). The schedule scales
        the ``lr`` given, or the one ``lr="auto"`` chooses; ``epochs="auto"``
        is still the constant step's budget, so a decaying schedule may need
        more epochs to be certified. It changes the optimizer's ``lr``, which
        the L1 part's proximal steps read too. Needs a torch optimizer: not
        with ``update="manual"``. ``history.settings["lr_schedule"]`` records
        the name (``"callable"`` for a callable).

    Interrupting (Ctrl-C, or an interrupt in R) returns the History so far,
    ``stop_reason="interrupted"``, with the model at the end of the last
    whole epoch: never a half-updated parameter set.

    Returns
    -------
    History
        With ``history.report`` (:class:`~gradlm.report.FitReport`): the loss
        beside the optimum's, R², converged (certified) and why it stopped.

    Examples
    --------
    By default the step comes from the data and training stops when certified:

    >>> import gradlm
    >>> X, y = gradlm.datasets.line()
    >>> h = gradlm.fit(gradlm.LinearModel(1, 1, dtype=torch.float64), X.double(), y.double())
    >>> h.converged, h.stop_reason, h.epochs_run < 1000
    (True, 'converged', True)

    The nn.Linear tutorial, epoch by epoch:

    >>> import torch, gradlm
    >>> X, y = gradlm.datasets.line()
    >>> _ = torch.manual_seed(59)
    >>> history = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=50, lr=0.001)
    >>> print(f"{history.loss[0]:.4f} {history.loss[-1]:.4f}")
    3057.2168 21.0585
    """
    plan = make_plan(model, X, y, epochs=epochs, lr=lr, batch_size=batch_size, shuffle=shuffle,
                     optimizer=optimizer, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay,
                     update=update, seed=seed, tol=tol, patience=patience, fast=fast, on_divergence=on_divergence,
                     distributed=distributed, statistics=statistics, sample_weight=sample_weight, alpha=alpha,
                     l1_ratio=l1_ratio, lr_schedule=lr_schedule)
    weight, bias = model.weight, model.bias
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("validation must be a pair (X_val, y_val).")
        X_val, y_val = check_X_y(*validation, n_features=weight.shape[1], n_outputs=weight.shape[0],
                                 dtype=weight.dtype, device=weight.device)
    held = Deferred()
    current_lr = schedule_step = None
    if update == "manual":
        for p in (weight, bias):
            p.grad = None
        assert plan.lr is not None  # (make_plan settles it)
        step, zero_grad = manual_step([weight, bias], plan.lr), (lambda: None)  # it zeroes after updating
    else:
        warm_torch_optim(held)  # an interrupt meanwhile reaches the loop below, as any other
        opt = _optimizer(model, optimizer, plan)
        schedule_step = scheduler_step(opt, lr_schedule, plan.epochs)  # (first: it wraps opt.step)
        step, zero_grad = opt.step, opt.zero_grad
        current_lr = lambda: opt.param_groups[0]["lr"]  # noqa: E731 (as the optimizer holds it)
        if plan.lr is None:
            plan.lr = plan.settings["lr"] = opt.param_groups[0].get("lr")
    if distributed:
        broadcast_parameters(model)
    loop = Loop(plan, dtype=weight.dtype, like=weight, patience=patience, callbacks=callbacks, progress=progress,
                model=model, history=check_choice(history, "history", HISTORIES))
    plan.settings["history"] = history
    epoch_loss = epoch_function(plan, model, step, zero_grad, shuffle=shuffle, seed=plan.settings["seed"],
                                lr=current_lr)
    try:
        held.deliver()
        with torch.set_grad_enabled(plan.engine == "autograd"):
            for epoch in loop:
                loop.start_epoch(weight, bias)
                loss = epoch_loss()
                val_loss = None
                if validation is not None:
                    with torch.no_grad():
                        val_loss = float(mse(model(X_val), y_val))
                    if distributed:  # every process's validation rows, so that all stop alike
                        sums = torch.tensor([val_loss * y_val.numel(), y_val.numel()], dtype=torch.float64,
                                            device=weight.device)
                        all_reduce_sum(sums)
                        val_loss = float(sums[0] / sums[1])
                loop.end_epoch(epoch, loss, val_loss, (weight, bias))
                if schedule_step is not None:  # (after the epoch: the next one runs at the new lr)
                    schedule_step(loss if val_loss is None else val_loss)
                if distributed and all_reduce_max(int(loop.stop_reason == "callback"), weight.device):
                    loop.stop_reason = "callback"  # a callback in any process stops them all
    except KeyboardInterrupt:
        loop.interrupt()

    def restore(w, b):
        with torch.no_grad():
            weight.copy_(w)
            bias.copy_(b)

    return loop.finish(weight, bias, restore=restore)
