"""The README's Python quick start runs, and prints what its comments say."""

import contextlib
import io
import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_quick_start_runs_and_matches_its_comments():
    """The printed tutorial numbers match the comments at 1e-6 relative: torch's float32 kernels differ in the
    7th digit between CPUs (AVX2, AVX-512), so the digits themselves are not compared."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has a Python quick start"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0], "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("converged in ") and "of least squares" in lines[0]
    numbers = lambda text: [float(v) for v in re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", text)]  # noqa: E731
    first = next(i for i, line in enumerate(lines) if line.startswith("[3"))
    differences = numbers(" ".join(lines[1:first]))
    assert len(differences) == 10 and max(abs(v) for v in differences) < 1e-6
    np.testing.assert_allclose(numbers(lines[first]), [3057.2168, 1588.5311, 830.3003], rtol=1e-6)
    np.testing.assert_allclose(numbers(lines[first + 1]), [1.9838191, 1.0557516], rtol=1e-6)
    assert lines[first + 2].startswith("did not converge (ran all 50 epochs)")


def test_r_quick_start_runs(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    import pytest

    if shutil.which("Rscript") is None:
        pytest.skip("R is not installed")
    blocks = re.findall(r"```r\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has an R quick start"
    script = tmp_path / "quick_start.R"
    script.write_text(blocks[0] + '\ncat("table rows:", nrow(as.data.frame(history)), "\\n")\n')
    env = dict(os.environ)
    env.setdefault("R_LIBS_USER", str(README.parent / ".rlib"))
    env.setdefault("GRADLM_PYTHON", sys.executable)
    result = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "table rows: 50" in result.stdout
