"""The mini-batch orders and their cost: DataLoader's exact shuffle, contiguous batches shuffled, no shuffle.

Part of ``make bench`` (run.py calls :func:`run`). For each ``shuffle`` of
:func:`gradlm.fit`: the median epoch time, and the distance to least squares
after a few epochs on the data as drawn (rows in a random order) and on the
same data sorted by the first response (where batches of neighbouring rows
are alike).
"""

from __future__ import annotations

import numpy as np
import torch

import gradlm

ORDERS = (True, "batches", False)
EPOCHS = 5


def run(X: torch.Tensor, y: torch.Tensor, batch_size: int, median) -> dict:
    k, d = y.shape[1], X.shape[1]
    exact = gradlm.lstsq(X, y)
    order = torch.argsort(y[:, 0])
    sorted_data = (X[order].contiguous(), y[order].contiguous())
    out: dict = {}
    for shuffle in ORDERS:
        def epochs(data=(X, y), count=1, shuffle=shuffle):
            model = gradlm.LinearModel(d, k)
            gradlm.fit(model, *data, epochs=count, lr=0.01, batch_size=batch_size, seed=0, shuffle=shuffle,
                       tol=None, history="loss")
            return model

        errors = {}
        for name, data in (("drawn", (X, y)), ("sorted by y", sorted_data)):
            torch.manual_seed(0)
            model = epochs(data, EPOCHS)
            W = model.weight.detach().double().numpy()
            errors[name] = float(np.abs(W - exact.weight).max() / np.abs(exact.weight).max())
        out[str(shuffle)] = {"epoch_seconds": median(epochs, 3), "error_after": errors}
    return out


def markdown(res: dict) -> list:
    base = res["True"]["epoch_seconds"]
    lines = ["", f"| `shuffle` | epoch (s) | time vs `True` | coefficient error after {EPOCHS} epochs: rows as drawn "
             "| rows sorted by y |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, v in res.items():
        e = v["error_after"]
        lines.append(f"| `{name}` | {v['epoch_seconds']:.3f} | {v['epoch_seconds'] / base:.2f} | "
                     f"{e['drawn']:.1e} | {e['sorted by y']:.1e} |")
    return lines
