"""The closed-form gradient paths of fit() against autograd, the reference."""

import numpy as np
import pytest
import torch

import gradlm
from gradlm.analytic import SufficientStatistics, batch_loss_and_grads
from gradlm.fit import FAST_MIN_ROWS


def data(n=3000, d=6, k=2, offset=0.0, seed=0, dtype=torch.float64):
    rs = np.random.default_rng(seed)
    X = rs.normal(size=(n, d)) * rs.uniform(0.5, 3, size=d) + offset
    y = X @ rs.normal(size=(k, d)).T + rs.normal(size=k) + 0.3 * rs.normal(size=(n, k))
    return torch.tensor(X, dtype=dtype), torch.tensor(y, dtype=dtype)


def run(fast, X, y, **kw):
    torch.manual_seed(1)
    model = gradlm.LinearModel(X.shape[1], y.shape[1], dtype=X.dtype)
    return gradlm.fit(model, X, y, fast=fast, **kw)


@pytest.mark.parametrize("kw", [
    dict(lr=0.01),
    dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-3),
    dict(lr=0.01, optimizer="adam"),
])
def test_minibatch_analytic_equals_autograd(kw):
    X, y = data()
    fast = run(True, X, y, epochs=5, batch_size=64, seed=3, **kw)
    slow = run(False, X, y, epochs=5, batch_size=64, seed=3, **kw)
    assert fast.settings["gradients"] == "analytic" and slow.settings["gradients"] == "autograd"
    np.testing.assert_allclose(fast.loss, slow.loss, rtol=1e-10)
    np.testing.assert_allclose(fast.weight_path, slow.weight_path, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.weight, slow.weight, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("offset", [0.0, 1e3])
@pytest.mark.parametrize("kw", [dict(lr=0.01), dict(lr=0.01, optimizer="adam")])
def test_full_batch_sufficient_statistics_equal_the_plain_loop(offset, kw):
    X, y = data(offset=offset)
    lr = kw["lr"] / (1 + offset**2) if kw.get("optimizer") != "adam" else kw["lr"]
    kw = dict(kw, lr=lr)
    fast = run(True, X, y, epochs=40, **kw)
    slow = run(False, X, y, epochs=40, **kw)
    assert fast.settings["gradients"] == "sufficient statistics"
    np.testing.assert_allclose(fast.loss, slow.loss, rtol=1e-9)
    np.testing.assert_allclose(fast.weight_path, slow.weight_path, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(fast.bias, slow.bias, rtol=1e-8, atol=1e-12)


def test_float32_fast_paths_stay_within_float_rounding():
    X, y = data(dtype=torch.float32)
    for batch_size in (None, 128):
        fast = run(True, X, y, epochs=30, lr=0.01, batch_size=batch_size, seed=2)
        slow = run(False, X, y, epochs=30, lr=0.01, batch_size=batch_size, seed=2)
        np.testing.assert_allclose(fast.loss, slow.loss, rtol=2e-5)
        np.testing.assert_allclose(fast.weight, slow.weight, rtol=2e-5, atol=1e-6)


def test_the_nn_linear_table_through_the_fast_path_is_within_the_tolerance():
    from test_tutorial_linear_model import printed_table

    X, y = gradlm.datasets.line()
    torch.manual_seed(59)
    history = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=50, lr=0.001, fast=True)
    table = printed_table()
    np.testing.assert_allclose(history.loss, table[:, 1], rtol=2e-6)
    np.testing.assert_allclose(history.weight_path[:, 0, 0], table[:, 2], rtol=2e-6)
    np.testing.assert_allclose(history.bias_path[:, 0], table[:, 3], rtol=2e-6)


def test_automatic_choice_and_where_autograd_stays():
    X, y = data(n=FAST_MIN_ROWS)
    assert run(None, X, y, epochs=1, lr=0.01).settings["gradients"] == "sufficient statistics"
    assert run(None, X[:100], y[:100], epochs=1, lr=0.01).settings["gradients"] == "autograd"
    assert run(True, X, y, epochs=1, lr=0.01, update="manual").settings["gradients"] == "autograd"

    class Doubled(gradlm.LinearModel):
        def forward(self, X):
            return 2 * super().forward(X)

    history = gradlm.fit(Doubled(6, 2, dtype=torch.float64), X, y, epochs=1, lr=0.01, fast=True)
    assert history.settings["gradients"] == "autograd"


def test_batch_gradients_equal_autograd_and_statistics_do_not_depend_on_chunks():
    X, y = data(n=500)
    W = torch.randn(2, 6, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)
    loss = gradlm.mse(gradlm.linear(X, W, b), y)
    loss.backward()
    fast_loss, dW, db = batch_loss_and_grads(X, y, W.detach(), b.detach())
    assert fast_loss.item() == pytest.approx(loss.item(), rel=1e-12)
    torch.testing.assert_close(dW, W.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(db, b.grad, rtol=1e-10, atol=1e-12)
    whole = SufficientStatistics(X, y).loss_and_grads(W.detach(), b.detach())
    chunked = SufficientStatistics(X, y, chunk_rows=37).loss_and_grads(W.detach(), b.detach())
    for a, c, ref in zip(whole, chunked, (loss, W.grad, b.grad)):
        torch.testing.assert_close(a, c, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(a.to(ref.dtype), ref.detach(), rtol=1e-10, atol=1e-10)


def test_fit_on_sufficient_statistics_equals_fit_on_the_data():
    X, y = data()
    stats = SufficientStatistics(X, y)
    a = run(True, X, y, epochs=30, lr=0.01)
    torch.manual_seed(1)
    b = gradlm.fit(gradlm.LinearModel(6, 2, dtype=torch.float64), stats, None, epochs=30, lr=0.01)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.weight, b.weight)
    with pytest.raises(ValueError, match="train full batch with the closed-form gradients"):
        gradlm.fit(gradlm.LinearModel(6, 2), stats, None, epochs=1, lr=0.01, batch_size=10)
    with pytest.raises(ValueError, match="the statistics are of 6 feature\\(s\\) and 2 output\\(s\\)"):
        gradlm.fit(gradlm.LinearModel(5, 2), stats, None, epochs=1, lr=0.01)


def test_gdregressor_on_moments_equals_gdregressor_on_converted_data():
    X, y = data(n=2000, offset=5.0, dtype=torch.float64)
    for standardize in (False, True):
        lr = 0.3 if standardize else 0.0005
        moments = gradlm.GDRegressor(epochs=300, lr=lr, standardize=standardize, seed=0, fast=True,
                                     dtype="float64").fit(X, y)
        converted = gradlm.GDRegressor(epochs=300, lr=lr, standardize=standardize, seed=0, fast=False,
                                       dtype="float64").fit(X, y)
        assert moments.history_.settings["gradients"] == "sufficient statistics"
        assert converted.history_.settings["gradients"] == "autograd"
        np.testing.assert_allclose(moments.coef_, converted.coef_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(moments.intercept_, converted.intercept_, rtol=1e-8, atol=1e-10)
    weight, bias = gradlm.lstsq(X, y)
    np.testing.assert_allclose(moments.coef_, weight, rtol=1e-6)
