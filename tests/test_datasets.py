"""The built-in data: the tutorials' recipes, the caller's RNG left alone, synthetic data."""

import numpy as np
import torch

import gradlm


def test_line_is_the_nn_linear_tutorials_recipe():
    X = torch.linspace(1, 50, 50).reshape(-1, 1)
    torch.manual_seed(71)
    e = torch.randint(-8, 9, (50, 1), dtype=torch.float)
    assert e.sum().item() == 0.0  # the tutorial prints tensor(0.)
    data = gradlm.datasets.line()
    assert torch.equal(data.X, X)
    assert torch.equal(data.y, 2 * X + 1 + e)
    assert data.X.shape == data.y.shape == (50, 1)


def test_line_leaves_the_global_rng_alone():
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    gradlm.datasets.line()
    assert torch.equal(torch.rand(4), expected)


def test_numpy_points_are_the_tutorials():
    X, Y = gradlm.datasets.numpy_points()
    assert X.tolist() == [1, 2, 4, 6, 8, 10, 12, 13, 14, 16, 16, 18, 20, 22, 24]
    assert Y.tolist() == [39, 42, 43, 46, 47, 56, 60, 59, 64, 66, 68, 72, 71, 75, 80]


def test_make_regression_is_reproducible_and_recoverable():
    a = gradlm.datasets.make_regression(2000, 5, outputs=3, noise=0.01, seed=7)
    b = gradlm.datasets.make_regression(2000, 5, outputs=3, noise=0.01, seed=7)
    assert torch.equal(a.X, b.X) and torch.equal(a.y, b.y)
    weight, bias = gradlm.lstsq(a.X, a.y)
    np.testing.assert_allclose(weight, a.coef.numpy(), atol=2e-3)
    np.testing.assert_allclose(bias, a.intercept.numpy(), atol=2e-3)
    assert a.feature_names == ["x1", "x2", "x3", "x4", "x5"] and a.target_names == ["y1", "y2", "y3"]


def test_crops_frame_has_the_regions():
    frame = gradlm.datasets.crops().to_frame()
    assert list(frame.columns) == ["region", "temperature", "rainfall", "humidity", "mangoes", "oranges"]
    assert frame["region"].tolist()[:3] == ["A", "B", "C"]
    assert frame["oranges"].iloc[-1] == 120
