"""The benchmarks' R side: one environment for Rscript (this project's Python and R library) and one way to run
a script and say why it gave nothing."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def r_env() -> dict:
    """The environment Rscript runs in: gradlm's Python (this one unless GRADLM_PYTHON says), .rlib."""
    env = dict(os.environ, GRADLM_PYTHON=os.environ.get("GRADLM_PYTHON", sys.executable))
    env.setdefault("RETICULATE_PYTHON", env["GRADLM_PYTHON"])
    env.setdefault("R_LIBS_USER", str(ROOT / ".rlib"))
    return env


def rscript(script: str, *args, timeout: int = 600) -> tuple:
    """Run ``benchmarks/<script> args...``: ``(result, None)``, or ``(None, why not)`` (no Rscript, a timeout, a
    failure, whose stderr's end is printed)."""
    if shutil.which("Rscript") is None:
        return None, "Rscript not found"
    try:
        result = subprocess.run(["Rscript", str(ROOT / "benchmarks" / script), *map(str, args)],
                                capture_output=True, text=True, env=r_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"{script} took over {timeout} s"
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        return None, f"{script} failed (exit {result.returncode}; its stderr above)"
    return result, None


def results(folder: Path) -> list:
    """The rows an R script wrote to ``folder/r_results.csv``."""
    with open(folder / "r_results.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def notes(folder: Path) -> list:
    """The lines an R script wrote to ``folder/r_notes.txt`` (none if it wrote none)."""
    path = folder / "r_notes.txt"
    return path.read_text().splitlines() if path.exists() else []
