"""Learning-rate schedules: ``lr_schedule``'s names, their check, and torch's scheduler stepped each epoch.

``fit(..., lr_schedule=)`` takes a name or a function of the optimizer
(see :func:`gradlm.fit`); :func:`gradlm.plan.make_plan` checks it with
:func:`check_schedule`, and ``fit`` steps it with :func:`scheduler_step`.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Optional

import torch

# lr_schedule by name (see gradlm.fit); a callable builds any other torch scheduler.
SCHEDULES = ("constant", "step", "cosine", "invscaling")
# scikit-learn's invscaling: lr / t ** power_t, its power_t's default
INVSCALING_POWER = 0.25


def scheduler_step(opt: Any, lr_schedule: Any, epochs: int) -> Optional[Callable[[float], None]]:
    """The step of ``lr_schedule``'s torch scheduler on ``opt``, called after each epoch with the monitored loss
    (only ReduceLROnPlateau reads it); None for ``"constant"``."""
    schedulers = torch.optim.lr_scheduler
    if lr_schedule == "constant":
        return None
    scheduler: Any  # (ReduceLROnPlateau's step takes the loss; the others' none)
    if lr_schedule == "step":
        scheduler = schedulers.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.1)
    elif lr_schedule == "cosine":
        scheduler = schedulers.CosineAnnealingLR(opt, T_max=epochs)
    elif lr_schedule == "invscaling":  # epoch t (from 1) steps at lr / t ** 0.25
        scheduler = schedulers.LambdaLR(opt, lambda epoch: (epoch + 1) ** -INVSCALING_POWER)
    else:
        scheduler = lr_schedule(opt)
        if not isinstance(scheduler, (schedulers.LRScheduler, schedulers.ReduceLROnPlateau)):
            raise TypeError("lr_schedule(optimizer) must return a torch.optim.lr_scheduler.LRScheduler; got "
                            f"{type(scheduler).__name__}.")
        if scheduler.optimizer is not opt:
            raise ValueError("lr_schedule(optimizer) returned a scheduler of another optimizer; build it on the "
                             "optimizer it is given.")
    plateau = isinstance(scheduler, schedulers.ReduceLROnPlateau)
    started = False

    def step(monitored: float) -> None:
        nonlocal started
        if plateau:
            scheduler.step(monitored)
        elif started:
            scheduler.step()
        else:
            started = True
            with warnings.catch_warnings():
                # the closed-form engines update without opt.step(), which torch takes for steps in the wrong order
                warnings.filterwarnings("ignore", "Detected call of `lr_scheduler.step\\(\\)` before", UserWarning)
                scheduler.step()

    return step


def check_schedule(lr_schedule: Any) -> str:
    """``lr_schedule``'s name as recorded in the settings: one of :data:`SCHEDULES`, or ``"callable"``."""
    if isinstance(lr_schedule, str) and lr_schedule in SCHEDULES:
        return lr_schedule
    if isinstance(lr_schedule, torch.optim.lr_scheduler.LRScheduler):
        raise TypeError("lr_schedule must be a name or a function of the optimizer, not a scheduler already built "
                        "(it holds another optimizer): pass lambda optimizer: torch.optim.lr_scheduler.StepLR("
                        "optimizer, 10), say.")
    if callable(lr_schedule):
        return "callable"
    valid = ", ".join(repr(name) for name in SCHEDULES)
    raise ValueError(f"lr_schedule must be one of {valid}, or a function taking the optimizer and returning a "
                     f"torch.optim.lr_scheduler.LRScheduler; got {lr_schedule!r}.")
