"""Seed 002, NumPy vs PyTorch: hand-written NumPy gradients, autograd with a manual
update, and torch.optim.SGD with nn.MSELoss agree step by step."""

import numpy as np
import pytest
import torch

import gradlm
from gradlm.numpy_gd import gradients

EPOCHS = 200
LR = 0.001


def tutorial_numpy_loop(w, b, epochs=EPOCHS):
    """The tutorial's NumPy loop as written, recording the error before each update."""
    X, Y = gradlm.datasets.numpy_points()
    errors = []
    for _ in range(epochs):
        y_pred = w * X + b
        error = np.mean((Y - y_pred) ** 2)
        errors.append(error)
        gradient_a = np.mean(-2 * X * (Y - y_pred))
        gradient_b = np.mean(-2 * (Y - y_pred))
        w -= LR * gradient_a
        b -= LR * gradient_b
    return np.array(errors), w, b


def three_variants(dtype):
    X, Y = gradlm.datasets.numpy_points()
    rng = np.random.RandomState(2)
    w0, b0 = rng.randn(), rng.randn()
    hand = gradlm.numpy_gd(X, Y, epochs=EPOCHS, lr=LR, weight=[[w0]], bias=[b0], dtype=dtype)
    torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
    manual = gradlm.fit(
        gradlm.LinearModel.from_params([[w0]], [b0], dtype=torch_dtype), X, Y, epochs=EPOCHS, lr=LR, update="manual"
    )
    sgd = gradlm.fit(gradlm.LinearModel.from_params([[w0]], [b0], dtype=torch_dtype), X, Y, epochs=EPOCHS, lr=LR)
    return (w0, b0), hand, manual, sgd


def test_numpy_gd_is_the_tutorials_numpy_loop():
    (w0, b0), hand, _, _ = three_variants(np.float64)
    errors, w, b = tutorial_numpy_loop(w0, b0)
    np.testing.assert_allclose(hand.loss, errors, rtol=1e-13)
    np.testing.assert_allclose(hand.weight[0, 0], w, rtol=1e-13)
    np.testing.assert_allclose(hand.bias[0], b, rtol=1e-13)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-11), (np.float32, 2e-5)])
def test_three_variants_agree_step_by_step(dtype, rtol):
    _, hand, manual, sgd = three_variants(dtype)
    for other in (manual, sgd):
        np.testing.assert_allclose(other.loss, hand.loss, rtol=rtol)
        np.testing.assert_allclose(other.weight_path, hand.weight_path, rtol=rtol)
        np.testing.assert_allclose(other.bias_path, hand.bias_path, rtol=rtol)
    assert hand.loss[-1] < hand.loss[0]


def test_sgd_variant_equals_nn_mseloss_and_torch_sgd_as_written():
    """The tutorial's third variant: torch.optim.SGD over [w, b] with nn.MSELoss."""
    X, Y = gradlm.datasets.numpy_points()
    X_t, Y_t = torch.from_numpy(X).double(), torch.from_numpy(Y).double()
    w = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([-0.7], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=LR)
    loss_fn = torch.nn.MSELoss(reduction="mean")
    errors = []
    for _ in range(EPOCHS):
        y_pred = w * X_t + b
        error = loss_fn(Y_t, y_pred)
        errors.append(error.item())
        optimizer.zero_grad()
        error.backward()
        optimizer.step()
    model = gradlm.LinearModel.from_params([[0.3]], [-0.7], dtype=torch.float64)
    history = gradlm.fit(model, X, Y, epochs=EPOCHS, lr=LR)
    np.testing.assert_allclose(history.loss, errors, rtol=1e-12)
    np.testing.assert_allclose(history.weight[0, 0], w.item(), rtol=1e-12)


@pytest.mark.parametrize("shape", [(7, 1, 1), (20, 4, 3), (50, 10, 2)])
def test_hand_gradients_equal_autograd(shape):
    n, d, out = shape
    rng = np.random.default_rng(n)
    X, y = rng.normal(size=(n, d)), rng.normal(size=(n, out))
    W, b = rng.normal(size=(out, d)), rng.normal(size=out)
    loss, dW, db = gradients(X, y, W, b)
    Wt = torch.tensor(W, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    ref = gradlm.mse(gradlm.linear(torch.tensor(X), Wt, bt), torch.tensor(y))
    ref.backward()
    np.testing.assert_allclose(loss, ref.item(), rtol=1e-13)
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_numpy_gd_seed_draws_as_the_tutorial_after_np_random_seed():
    X, Y = gradlm.datasets.numpy_points()
    np.random.seed(11)
    w, b = np.random.randn(), np.random.randn()
    history = gradlm.numpy_gd(X, Y, epochs=1, lr=LR, seed=11)
    assert history.weight_path[0, 0, 0] == w and history.bias_path[0, 0] == b
    np.random.seed(11)
    unseeded = gradlm.numpy_gd(X, Y, epochs=1, lr=LR)
    assert unseeded.weight_path[0, 0, 0] == w
