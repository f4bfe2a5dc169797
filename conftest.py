"""Shared test set-up: a headless matplotlib backend, no progress bars, and R embedded through rpy2."""

import os
import shutil

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("CI", "1")  # no progress bars in tests


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def R():
    """R's evaluator, embedded through rpy2 (R alone: no Python objects cross into it)."""
    if shutil.which("R") is None:
        pytest.skip("R is not installed")
    before = dict(os.environ)
    from rpy2 import robjects

    # rpy2 puts R's library folders (and the system's, with another libpython)
    # on LD_LIBRARY_PATH for this process; later subprocesses (Python, Rscript)
    # must not inherit that. R is loaded already and no longer needs it.
    if "LD_LIBRARY_PATH" in before:
        os.environ["LD_LIBRARY_PATH"] = before["LD_LIBRARY_PATH"]
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)
    return robjects.r
