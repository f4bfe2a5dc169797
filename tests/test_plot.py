"""The plots draw what they say: the loss values, the fitted line, predicted vs actual."""

import numpy as np
import pytest
import torch

import gradlm
from gradlm.plot import plot_fit, plot_loss, plot_predicted


def test_loss_curve_plots_the_history():
    X, y = gradlm.datasets.line()
    history = gradlm.fit(gradlm.LinearModel(1, 1), X[:40], y[:40], epochs=10, lr=1e-3, validation=(X[40:], y[40:]))
    ax = plot_loss(history, log=True)
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_array_equal(lines[0].get_ydata(), history.loss)
    np.testing.assert_array_equal(lines[1].get_ydata(), history.val_loss)
    assert ax.get_yscale() == "log"


def test_fit_plot_draws_the_line_through_the_ends(tmp_path):
    X, y = gradlm.datasets.line()
    ax = plot_fit(X, y, [[2.0]], [1.0], title="Current Model")
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), [1.0, 50.0])
    np.testing.assert_allclose(line.get_ydata(), [3.0, 101.0])
    assert ax.get_title() == "Current Model"
    ax.figure.savefig(tmp_path / "fit.png")
    assert (tmp_path / "fit.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="plot_fit shows one feature; X has 3"):
        plot_fit(torch.ones(4, 3), torch.ones(4, 1), [[1.0, 1.0, 1.0]], [0.0])


def test_predicted_vs_actual_one_series_per_output():
    X, y = gradlm.datasets.crops()
    est = gradlm.GDRegressor(epochs=100, lr=0.5, standardize=True, seed=0).fit(X, y)
    ax = plot_predicted(y, est.predict(X), ["mangoes", "oranges"])
    assert len(ax.collections) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["mangoes", "oranges"]
    with pytest.raises(ValueError, match="y_true has shape"):
        plot_predicted(y, est.predict(X)[:, :1])
