"""Ctrl-C: the session goes on, with the model at the last whole epoch (gradlm.interrupts).

Each test runs a fresh process, since what they check happens once a process
(the first fit's imports) or needs a real signal (R under reticulate).
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FIRST_FIT = """
import builtins, os, signal
import numpy as np
import gradlm

real = builtins.__import__
def importer(name, *args, **kwargs):
    if name.startswith("sympy") and not getattr(importer, "sent", False):
        importer.sent = True
        os.kill(os.getpid(), signal.SIGINT)  # acted on at the next bytecode: in the middle of torch's imports
    return real(name, *args, **kwargs)
builtins.__import__ = importer
X = np.random.default_rng(0).normal(size=(50, 3))
y = X @ [1.0, 2.0, 3.0] + 1
first = gradlm.GDRegressor().fit(X, y)
print("first:", importer.sent, first.report_.stop_reason, first.n_iter_)
builtins.__import__ = real
second = gradlm.GDRegressor().fit(X, y)
print("second:", second.report_.stop_reason, second.converged_)
"""


def test_interrupt_during_the_first_fits_imports_leaves_the_session_working():
    """Issue 13: Ctrl-C while the first fit imported torch._dynamo left sympy half imported (every
    later fit failed with AttributeError); now it is an interrupt like any other."""
    result = subprocess.run([sys.executable, "-c", FIRST_FIT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "first: True interrupted 0" in result.stdout
    assert "second: converged True" in result.stdout


LAZY_BASES = """
import builtins, os, signal
import numpy as np
import gradlm

real = builtins.__import__
def importer(name, *args, **kwargs):
    if name.startswith("scipy") or importer.seen:
        importer.seen += 1
        if importer.seen == 41:  # deep in scipy's imports, which scikit-learn's bases make
            os.kill(os.getpid(), signal.SIGINT)
    return real(name, *args, **kwargs)
importer.seen = 0
builtins.__import__ = importer
X = np.random.default_rng(0).normal(size=(50, 3))
y = X @ [1.0, 2.0, 3.0] + 1
try:
    gradlm.GDRegressor().fit(X, y)
    print("first: not interrupted")
except KeyboardInterrupt:
    print("first: KeyboardInterrupt")
builtins.__import__ = real
second = gradlm.GDRegressor().fit(X, y)
print("second:", second.report_.stop_reason)
"""


def test_interrupt_while_gdregressor_imports_scikit_learn_leaves_the_session_working():
    """Issue 13 review: Ctrl-C while gradlm.GDRegressor was first made (its scikit-learn bases import scipy and
    pandas) left modules half made: the next fit failed ("cannot import name 'GDRegressor'", NameError in
    scipy.ndimage). The import is now completed, then the interrupt raised."""
    result = subprocess.run([sys.executable, "-c", LAZY_BASES], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "first: KeyboardInterrupt" in result.stdout
    assert "second: converged" in result.stdout


R_LAYOUT = """
suppressPackageStartupMessages(library(gradlm))
d <- make_regression(20000, 5, seed = 0)
x <- as.matrix(d[, 1:5])
invisible(fit(linear_model(5, 1), x[1:10, ], d$y1[1:10], epochs = 1, lr = 0.01))
train <- function() fit(linear_model(5, 1), x, d$y1, epochs = 1e6, lr = 0.01, batch_size = 8)
cat("training\\n")
h <- train()
cat("fit:", h$stop_reason, length(h$loss) > 0, identical(dim(h$weight_path)[1], length(h$loss)), "\\n")
e <- tryCatch(mse(tensor(c(1, 2)), tensor(c(1, 2, 3))), error = function(e) "an error",
              interrupt = function(e) "an interrupt")
cat("next error:", e, "\\n")
cat("alive:", 1 + 1, "\\n")
"""


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_interrupt_of_fit_called_in_an_r_function_does_not_end_the_script(tmp_path):
    """Issue 13: with fit() called inside an R function, at top level and without tryCatch, Ctrl-C ended
    the script ("Execution halted"): reticulate's handler called back into R, which acted on the
    interrupt there, and Python saw RuntimeError instead of KeyboardInterrupt."""
    script = tmp_path / "layout.R"
    script.write_text(R_LAYOUT)
    env = dict(os.environ)
    env.setdefault("R_LIBS_USER", str(ROOT / ".rlib"))
    env.setdefault("GRADLM_PYTHON", sys.executable)
    proc = subprocess.Popen(["Rscript", str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    assert proc.stdout.readline().strip() == "training", proc.stderr.read()
    time.sleep(3)  # well into the million epochs
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    assert "fit: interrupted TRUE TRUE" in out
    assert "next error: an error" in out and "alive: 2" in out
