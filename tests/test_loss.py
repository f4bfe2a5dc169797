"""mse: equal to nn.MSELoss, differentiable, and never broadcasting mismatched shapes."""

import numpy as np
import pytest
import torch

import gradlm


@pytest.mark.parametrize("shape", [(5, 1), (15, 2), (100, 7)])
def test_mse_equals_nn_mseloss(shape):
    g = torch.Generator().manual_seed(0)
    pred, target = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    torch.testing.assert_close(gradlm.mse(pred, target), torch.nn.MSELoss()(pred, target), rtol=1e-6, atol=0)
    expected = np.mean((pred.double().numpy() - target.double().numpy()) ** 2)
    assert abs(gradlm.mse(pred.double(), target.double()).item() - expected) < 1e-12


def test_mse_gradient_is_autograd_of_the_definition():
    pred = torch.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    target = torch.tensor([[0.0, 2.0], [1.0, 1.0]])
    gradlm.mse(pred, target).backward()
    torch.testing.assert_close(pred.grad, 2 * (pred.detach() - target) / 4)


def test_a_1d_target_against_column_predictions_is_refused():
    pred = torch.zeros(4, 1)
    with pytest.raises(ValueError, match=r"pred has shape \(4, 1\) but target has shape \(4,\)"):
        gradlm.mse(pred, torch.zeros(4))


def test_array_likes_are_converted():
    assert gradlm.mse([[1.0], [3.0]], [[0.0], [1.0]]).item() == 2.5
    assert gradlm.mse(torch.tensor([1.0, 3.0]), np.array([0.0, 1.0])).dtype == torch.float32


def test_loss_at_is_the_float64_mse_of_parameters():
    X, y = gradlm.datasets.crops()
    W, b = np.ones((2, 3)), np.array([1.0, -1.0])
    expected = np.mean((X.double().numpy() @ W.T + b - y.double().numpy()) ** 2)
    assert gradlm.loss_at(W, b, X, y) == pytest.approx(expected, rel=1e-14)
