"""The first call's latency, in a fresh process (a part of `make bench`, called by run.py).

A user's first ``gd_lm()`` in a new R session, or first ``GDRegressor().fit``
in a new Python, pays for loading Python, torch and gradlm's own imports
before any arithmetic. Each case runs in a fresh process, three times
(medians); the parts are taken in the same process, one after the other, so
that each is the time it adds: importing torch, importing gradlm, the first
fit (which imports what torch.optim needs), and a second identical fit (the
arithmetic alone). The R row is the same with ``library(gradlm)`` and
``gd_lm(mpg ~ wt + hp, data = mtcars)``.

"Before" is the same measurement, in the same run, of the code as it was
before the first call was made fast (commit ``BEFORE``: ``import gradlm``
imported scikit-learn, and so scipy and pandas), checked out into a
temporary git worktree with its R package installed into a temporary
library; without git or R that column is left out.

    python benchmarks/first_call.py      (this part alone)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "dbfc17ddfa3cc39ff8093e4f1c8b65d28d6199fa"  # the last commit before the first call was made fast

PYTHON_PARTS = """
import json, time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
import gradlm
t2 = time.perf_counter()
X = torch.randn(32, 2, dtype=torch.float64)
y = X @ torch.tensor([1.0, 2.0], dtype=torch.float64) + 3
gradlm.GDRegressor().fit(X, y)
t3 = time.perf_counter()
gradlm.GDRegressor().fit(X, y)
t4 = time.perf_counter()
print(json.dumps({"import torch": t1 - t0, "import gradlm": t2 - t1, "first fit": t3 - t2, "second fit": t4 - t3}))
"""

R_PARTS = """
t0 <- Sys.time(); suppressPackageStartupMessages(library(gradlm)); t1 <- Sys.time()
f <- gd_lm(mpg ~ wt + hp, data = mtcars); t2 <- Sys.time()
g <- gd_lm(mpg ~ wt + hp, data = mtcars); t3 <- Sys.time()
cat(sprintf('{"library(gradlm)": %f, "first gd_lm": %f, "second gd_lm": %f}\\n',
            as.numeric(t1 - t0, units = "secs"), as.numeric(t2 - t1, units = "secs"),
            as.numeric(t3 - t2, units = "secs")))
"""


def _median_parts(command: list, env: Optional[dict] = None, repeats: int = 3) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
            return {}
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    parts = {part: float(np.median([r[part] for r in runs])) for part in runs[0]}
    # to the first answer: all but the second call (the arithmetic alone, shown for comparison)
    parts["total to the first answer"] = float(np.median([sum(v for k, v in r.items() if not k.startswith("second"))
                                                         for r in runs]))
    return parts


def _measure(core: Path, r_library: Optional[Path]) -> dict:
    """The parts, with the Python core at ``core`` and R's gradlm from ``r_library`` (None: R's usual one)."""
    env = dict(os.environ, PYTHONPATH=str(core))
    out = {"python": _median_parts([sys.executable, "-c", PYTHON_PARTS], env=env)}
    if shutil.which("Rscript") is not None:
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "first_call.R"
            script.write_text(R_PARTS)
            env.setdefault("GRADLM_PYTHON", sys.executable)
            env["R_LIBS_USER"] = str(r_library) if r_library else env.get("R_LIBS_USER", str(ROOT / ".rlib"))
            out["r"] = _median_parts(["Rscript", str(script)], env=env)
    return out


@contextlib.contextmanager
def _checkout(rev: str) -> Iterator[Optional[Path]]:
    """``rev`` in a temporary worktree, its R package (with its core) installed in a library there; None when
    git, the commit or R's build is not available."""
    with tempfile.TemporaryDirectory() as tmp:
        tree, library = Path(tmp) / "tree", Path(tmp) / "library"
        made = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                              capture_output=True, text=True)
        if made.returncode != 0:
            yield None
            return
        try:
            shutil.copytree(tree / "python" / "gradlm", tree / "R" / "inst" / "python" / "gradlm")
            library.mkdir()
            built = subprocess.run(["R", "CMD", "INSTALL", "--no-test-load", f"--library={library}", str(tree / "R")],
                                   capture_output=True, text=True) if shutil.which("R") else None
            yield tree if built is not None and built.returncode == 0 else None
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)


def run(before: Optional[str] = BEFORE) -> dict:
    """The parts now ("after") and, when ``before`` can be checked out, as they were then."""
    out = {"after": _measure(ROOT / "python", None)}
    if before:
        with _checkout(before) as tree:
            if tree is not None:
                out["before"] = _measure(tree / "python", tree.parent / "library")
    return out


def markdown(res: dict) -> list:
    after, before = res.get("after", {}), res.get("before")
    head = f"| first call in a fresh process (median of 3) | seconds | before (commit {BEFORE[:7]}) |"
    lines = ["", head if before else head.rsplit(" before", 1)[0], "| --- | ---: |" + (" ---: |" if before else "")]
    for language, parts in after.items():
        for part, seconds in parts.items():
            then = (before or {}).get(language, {}).get(part)
            lines.append(f"| {language}: {part} | {seconds:.2f} |" + ("" if not before else
                                                                     f" {then:.2f} |" if then is not None else " |"))
    return lines


if __name__ == "__main__":
    print("\n".join(markdown(run())))
