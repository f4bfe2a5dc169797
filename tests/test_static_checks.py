"""The habits of a typed package: ruff lints the core and the tests, mypy type-checks the core.

Both are pinned in requirements-dev.txt and configured in pyproject.toml ([tool.ruff], [tool.mypy]);
mypy runs in this environment, so that torch's and numpy's own types are used.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed (requirements-dev.txt)")
def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", "python/gradlm", "tests")
    assert result.returncode == 0, f"ruff check python/gradlm tests:\n{result.stdout}{result.stderr}"


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (requirements-dev.txt)")
def test_mypy_finds_nothing():
    result = _run("mypy")  # files and settings: [tool.mypy] in pyproject.toml
    assert result.returncode == 0, f"mypy:\n{result.stdout}{result.stderr}"
