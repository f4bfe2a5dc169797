"""Shared test set-up: a headless matplotlib backend and the tutorials' printed numbers."""

import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("CI", "1")  # no progress bars in tests


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
