"""LinearModel: the initial draws against torch's own, shapes, dtypes, from_params."""

import numpy as np
import pytest
import torch
from torch import nn

import gradlm


@pytest.mark.parametrize("seed, shape", [(0, (1, 1)), (59, (1, 1)), (7, (3, 2)), (123, (20, 5))])
def test_torch_init_draws_what_nn_linear_draws(seed, shape):
    in_features, out_features = shape
    torch.manual_seed(seed)
    reference = nn.Linear(in_features, out_features)
    torch.manual_seed(seed)
    model = gradlm.LinearModel(in_features, out_features)
    assert torch.equal(model.weight, reference.weight)
    assert torch.equal(model.bias, reference.bias)
    # and leaves the global RNG where nn.Linear leaves it
    assert torch.equal(torch.rand(3), (torch.manual_seed(seed), nn.Linear(*shape), torch.rand(3))[2])


def test_randn_init_draws_what_the_tutorial_draws():
    torch.manual_seed(4)
    w = torch.randn(2, 3)
    b = torch.randn(2)
    torch.manual_seed(4)
    model = gradlm.LinearModel(3, 2, init="randn")
    assert torch.equal(model.weight, w) and torch.equal(model.bias, b)


def test_same_seed_same_start_in_float64():
    torch.manual_seed(1)
    m32 = gradlm.LinearModel(4, 2)
    torch.manual_seed(1)
    m64 = gradlm.LinearModel(4, 2, dtype="float64")
    assert m64.weight.dtype == torch.float64
    assert torch.equal(m64.weight.float(), m32.weight)


def test_zeros_init_and_forward_is_x_wt_plus_b():
    model = gradlm.LinearModel(3, 2, init="zeros")
    assert not model.weight.any() and not model.bias.any()
    W = torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
    b = torch.tensor([0.5, -2.0])
    model = gradlm.LinearModel.from_params(W, b)
    X = torch.tensor([[1.0, 1.0, 1.0], [2.0, 0.0, -2.0]])
    expected = np.array(X) @ np.array(W).T + np.array(b)
    np.testing.assert_allclose(model(X).detach().numpy(), expected)
    np.testing.assert_allclose(gradlm.linear(X, W, b).numpy(), expected)
    np.testing.assert_allclose(model.predict(X.numpy()).numpy(), expected)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="init must be one of 'torch', 'randn', 'zeros'; got 'xavier'"):
        gradlm.LinearModel(2, 1, init="xavier")
    with pytest.raises(ValueError, match="in_features must be >= 1"):
        gradlm.LinearModel(0, 1)
    with pytest.raises(TypeError, match="out_features must be a whole number"):
        gradlm.LinearModel(2, 1.5)
    assert gradlm.LinearModel(2.0, 3.0).weight.shape == (3, 2)  # R's whole-number doubles
    with pytest.raises(ValueError, match="X has 3 feature\\(s\\), but the model expects 2"):
        gradlm.LinearModel(2, 1).predict(np.ones((4, 3)))
    with pytest.raises(ValueError, match="weight must be \\(out, in\\) and bias \\(out,\\)"):
        gradlm.LinearModel.from_params(np.ones((2, 3)), np.ones(3))
