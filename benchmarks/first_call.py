"""The first call's latency, in a fresh process (a part of `make bench`, called by run.py).

A user's first ``gd_lm()`` in a new R session, or first ``GDRegressor().fit``
in a new Python, pays for loading Python, torch and gradlm's own imports
before any arithmetic. Each case runs in a fresh process, three times
(medians); the parts are taken in the same process, one after the other, so
that each is the time it adds: importing torch, importing gradlm, the first
fit (which imports what torch.optim needs), and a second identical fit (the
arithmetic alone). The R row is the same with ``library(gradlm)`` and
``gd_lm(mpg ~ wt + hp, data = mtcars)``.

Before the work of issue 14 (the same machine, one run): library 1.9 s, first
``gd_lm`` 4.2 to 5.8 s.

    python benchmarks/first_call.py      (this part alone)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

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
    return {part: float(np.median([r[part] for r in runs])) for part in runs[0]}


def run() -> dict:
    out = {"python": _median_parts([sys.executable, "-c", PYTHON_PARTS])}
    if shutil.which("Rscript") is not None:
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "first_call.R"
            script.write_text(R_PARTS)
            env = dict(os.environ)
            env.setdefault("R_LIBS_USER", str(ROOT / ".rlib"))
            env.setdefault("GRADLM_PYTHON", sys.executable)
            out["r"] = _median_parts(["Rscript", str(script)], env=env)
    return out


def markdown(res: dict) -> list:
    lines = ["", "| first call in a fresh process (median of 3) | seconds |", "| --- | ---: |"]
    for language, parts in res.items():
        lines += [f"| {language}: {part} | {seconds:.2f} |" for part, seconds in parts.items()]
    return lines


if __name__ == "__main__":
    print("\n".join(markdown(run())))
