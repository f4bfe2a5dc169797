"""The README's Python quick start runs, and prints what its comments say."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_quick_start_runs_and_matches_its_comments():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has a Python quick start"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0], "README.md", "exec"), {})
    printed = out.getvalue()
    assert "[3057.2167" in printed and "1588.531" in printed and "830.300" in printed
    assert "[[1.9838191]] [1.0557516]" in printed


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
