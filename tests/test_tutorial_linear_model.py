"""Seed 003, the nn.Linear tutorial: its 50-row table, reproduced from fit's History.

The table was printed in float32; torch 2.13 reproduces it within a relative
8e-7 (summation order), so rows are compared with a relative tolerance of 2e-6.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import gradlm

TABLE = Path(__file__).parent / "data" / "linear_model_table.txt"
ROW = re.compile(r"epoch:\s*(\d+)\s+loss:\s*([\d.]+)\s+weight:\s*([\d.]+)\s+bias:\s*([\d.]+)")


def printed_table():
    rows = [ROW.match(line).groups() for line in TABLE.read_text().splitlines()]
    return np.array(rows, dtype=np.float64)


def tutorial_fit(dtype=torch.float32):
    X, y = gradlm.datasets.line()
    torch.manual_seed(59)
    model = gradlm.LinearModel(1, 1, dtype=dtype)
    return gradlm.fit(model, X, y, epochs=50, lr=0.001)


def test_table_has_fifty_rows():
    table = printed_table()
    assert table.shape == (50, 4)
    assert table[:, 0].tolist() == list(range(1, 51))


def test_initial_parameters_are_nn_linears():
    torch.manual_seed(59)
    model = gradlm.LinearModel(1, 1)
    # The tutorial prints: Weight: 0.10597813129425049, Bias: 0.9637961387634277
    assert model.weight.item() == 0.10597813129425049
    assert model.bias.item() == 0.9637961387634277


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_row_of_the_table(dtype):
    table = printed_table()
    history = tutorial_fit(dtype)
    assert history.epochs_run == 50
    np.testing.assert_allclose(history.loss, table[:, 1], rtol=2e-6)
    np.testing.assert_allclose(history.weight_path[:, 0, 0], table[:, 2], rtol=2e-6)
    np.testing.assert_allclose(history.bias_path[:, 0], table[:, 3], rtol=2e-6)


def test_final_current_weight_and_bias_line():
    history = tutorial_fit()
    # The tutorial prints: Current weight: 1.98381913, Current bias: 1.05575156
    # (to 1e-6 relative: torch's float32 kernels differ in the 7th digit between CPUs, AVX2 or AVX-512)
    np.testing.assert_allclose([history.weight[0, 0], history.bias[0]], [1.98381913, 1.05575156], rtol=1e-6)
    # and the fitted line at x = 1 and 50: [  3.0395708 100.246704 ]
    x1 = np.array([1.0, 50.0], dtype=np.float32)
    np.testing.assert_allclose(x1 * history.weight[0, 0] + history.bias[0], [3.0395708, 100.246704], rtol=1e-6)


def test_fit_matches_the_tutorials_own_loop_bit_for_bit():
    """The tutorial's Model / MSELoss / SGD loop, as written, against gradlm.fit."""
    X, y = gradlm.datasets.line()
    torch.manual_seed(59)
    linear = nn.Linear(1, 1)
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(linear.parameters(), lr=0.001)
    losses, weights = [], []
    for _ in range(50):
        loss = criterion(linear.forward(X), y)
        losses.append(loss.item())
        weights.append(linear.weight.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    history = tutorial_fit()
    np.testing.assert_allclose(history.loss, losses, rtol=1e-6)
    np.testing.assert_array_equal(history.weight_path[:, 0, 0], np.array(weights, dtype=np.float32))
    assert history.weight[0, 0] == linear.weight.item()
    assert history.bias[0] == linear.bias.item()
