"""The habits of a typed package: ruff lints the core and the tests, mypy type-checks the core.

Both are pinned in requirements-dev.txt and configured in pyproject.toml ([tool.ruff], [tool.mypy]);
mypy runs in this environment, so that torch's and numpy's own types are used. Without them the tests fail
("No module named ruff"): pip install -r requirements-dev.txt.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    # (not skipped when a tool is missing: a development install without them is broken, and says so here)
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", "python/gradlm", "tests")
    assert result.returncode == 0, f"ruff check python/gradlm tests:\n{result.stdout}{result.stderr}"


def test_mypy_finds_nothing():
    result = _run("mypy")  # files and settings: [tool.mypy] in pyproject.toml
    assert result.returncode == 0, f"mypy:\n{result.stdout}{result.stderr}"
