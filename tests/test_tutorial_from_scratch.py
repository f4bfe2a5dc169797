"""Seeds 000/001, linear regression from scratch: the crop data, DataLoader batches of 3,
randn weights, the manual update with lr 1e-6 for 50 epochs.

The tutorial prints no fixed numbers past its data table (its batches are
random), so gradlm is held to the tutorial's own code run under the same seed:
the same batches, the same updates, bit for bit.
"""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import gradlm

CROP_TABLE = """
A 73 67 43 56 70
B 91 88 64 81 101
C 87 134 58 119 133
D 102 43 37 22 37
E 69 96 70 103 119
F 74 66 43 57 69
G 91 87 65 80 102
H 88 134 59 118 132
I 101 44 37 21 38
J 68 96 71 104 118
K 73 66 44 57 69
L 92 87 64 82 100
M 87 135 57 118 134
N 103 43 36 20 38
O 68 97 70 102 120
"""


def test_crop_data_is_the_tutorials_table():
    rows = [line.split() for line in CROP_TABLE.strip().splitlines()]
    data = gradlm.datasets.crops()
    inputs, targets = data
    assert data.row_names == [r[0] for r in rows]
    expected = np.array([r[1:] for r in rows], dtype=np.float32)
    np.testing.assert_array_equal(inputs.numpy(), expected[:, :3])
    np.testing.assert_array_equal(targets.numpy(), expected[:, 3:])
    assert inputs.dtype == targets.dtype == torch.float32
    assert data.feature_names == ["temperature", "rainfall", "humidity"]
    assert data.target_names == ["mangoes", "oranges"]


def tutorial_loop(seed, generator_seed=None, epochs=50):
    """The tutorial's code as written (mse_loss, model, manual update), recording batch losses."""
    inputs, targets = gradlm.datasets.crops()
    torch.manual_seed(seed)
    w = torch.randn(2, 3, requires_grad=True)
    b = torch.randn(2, requires_grad=True)
    generator = None if generator_seed is None else torch.Generator().manual_seed(generator_seed)
    train_loader = DataLoader(TensorDataset(inputs, targets), batch_size=3, shuffle=True, generator=generator)

    def model(X):
        return X @ w.t() + b

    def mse_loss(predictions, targets):
        difference = predictions - targets
        return torch.sum(difference * difference) / difference.numel()

    epoch_means = []
    for _ in range(epochs):
        batch_losses = []
        for x, y in train_loader:
            preds = model(x)
            loss = mse_loss(preds, y)
            loss.backward()
            with torch.no_grad():
                w -= w.grad * 1e-6
                b -= b.grad * 1e-6
                w.grad.zero_()
                b.grad.zero_()
            batch_losses.append(loss.item())
        epoch_means.append(np.mean(batch_losses))
    return np.array(epoch_means), w.detach().numpy(), b.detach().numpy()


def gradlm_run(seed, fit_seed=None, epochs=50):
    inputs, targets = gradlm.datasets.crops()
    torch.manual_seed(seed)
    model = gradlm.LinearModel(3, 2, init="randn")
    return gradlm.fit(model, inputs, targets, epochs=epochs, lr=1e-6, batch_size=3, update="manual", seed=fit_seed)


@pytest.mark.parametrize("seed", [0, 42])
def test_fit_reproduces_the_tutorial_loop_with_the_global_rng(seed):
    losses, w, b = tutorial_loop(seed)
    history = gradlm_run(seed)
    np.testing.assert_array_equal(history.weight, w)
    np.testing.assert_array_equal(history.bias, b)
    np.testing.assert_allclose(history.loss, losses, rtol=1e-12)


def test_fit_seed_reproduces_a_dataloader_with_a_seeded_generator():
    losses, w, b = tutorial_loop(seed=3, generator_seed=123)
    history = gradlm_run(seed=3, fit_seed=123)
    np.testing.assert_array_equal(history.weight, w)
    np.testing.assert_array_equal(history.bias, b)


def test_loss_decreases_under_the_tutorials_settings():
    history = gradlm_run(seed=1)
    assert history.loss[-1] < 0.5 * history.loss[0]
    # a smoothed curve goes down: each 10-epoch mean below the one before
    means = history.loss.reshape(5, 10).mean(axis=1)
    assert np.all(np.diff(means) < 0)


def test_the_same_workflow_through_numpy_gd():
    inputs, targets = gradlm.datasets.crops()
    history = gradlm.numpy_gd(inputs, targets, epochs=50, lr=1e-6, batch_size=3, seed=1)
    assert history.weight.shape == (2, 3)
    assert history.loss[-1] < 0.5 * history.loss[0]
    means = history.loss.reshape(5, 10).mean(axis=1)
    assert np.all(np.diff(means) < 0)


def test_numpy_gd_minibatch_equals_fit_manual_on_the_same_batches():
    """Same start, same row order (no shuffle), float64: hand gradients == autograd updates."""
    inputs, targets = gradlm.datasets.crops()
    torch.manual_seed(5)
    model = gradlm.LinearModel(3, 2, init="randn", dtype=torch.float64)
    start_w, start_b = model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()
    h_torch = gradlm.fit(model, inputs, targets, epochs=20, lr=1e-6, batch_size=4, shuffle=False, update="manual")
    h_numpy = gradlm.numpy_gd(
        inputs, targets, epochs=20, lr=1e-6, batch_size=4, shuffle=False, weight=start_w, bias=start_b
    )
    np.testing.assert_allclose(h_numpy.loss, h_torch.loss, rtol=1e-12)
    np.testing.assert_allclose(h_numpy.weight, h_torch.weight, rtol=1e-12)
    np.testing.assert_allclose(h_numpy.bias, h_torch.bias, rtol=1e-12)
