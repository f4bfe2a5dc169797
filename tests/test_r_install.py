"""The R package as a user installs it, outside this repository's set-up.

`make r-tarball` (the README's command) builds the source tarball with the
Python core inside; it is installed into an empty library and used by Rscript
with a fresh HOME and none of the Makefile's variables, only an explicit
RETICULATE_PYTHON. The fit must run on the core the package carries, not on
the copy installed (editable) in the development environment. The known traps
(torch missing, NumPy 2 with reticulate < 1.38) must be clear R errors.
"""

import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    shutil.which("Rscript") is None or shutil.which("make") is None, reason="R (or make) is not installed"
)

DEV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(DEV_PYTHON if DEV_PYTHON.exists() else Path(sys.executable))


def user_env(home, library, python):
    """The environment of a user: a fresh HOME, the package only in `library`."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"GRADLM_PYTHON", "RETICULATE_PYTHON", "R_LIBS", "R_LIBS_USER", "PYTHONPATH",
                        "VIRTUAL_ENV", "WORKON_HOME", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    env.update(HOME=str(home), R_LIBS=str(library), R_LIBS_USER=str(home / "no-user-library"))
    if python is not None:
        env["RETICULATE_PYTHON"] = str(python)
    return env


def rscript(code, env, cwd):
    return subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The tarball from `make r-tarball`, installed into an empty library."""
    folder = tmp_path_factory.mktemp("r-install")
    build = subprocess.run(["make", "-s", "r-tarball", f"R_BUILD_DIR={folder / 'build'}"], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    tarball, = (folder / "build").glob("gradlm_*.tar.gz")
    library, home = folder / "lib", folder / "home"
    library.mkdir()
    home.mkdir()
    env = user_env(home, library, None)
    result = subprocess.run(["R", "CMD", "INSTALL", f"--library={library}", str(tarball)],
                            capture_output=True, text=True, env=env, cwd=folder, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {"folder": folder, "tarball": tarball, "library": library, "home": home}


def test_tarball_carries_the_core(installed):
    with tarfile.open(installed["tarball"]) as tar:
        names = tar.getnames()
        bundled = {Path(n).relative_to("gradlm/inst/python/gradlm").as_posix(): n
                   for n in names if n.startswith("gradlm/inst/python/gradlm/")}
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in bundled)
        core = {p.relative_to(ROOT / "python" / "gradlm").as_posix(): p
                for p in (ROOT / "python" / "gradlm").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}
        assert set(bundled) == set(core)
        for name, path in core.items():
            assert tar.extractfile(bundled[name]).read() == path.read_bytes(), name


def test_installed_package_fits_with_its_bundled_core(installed):
    library = installed["library"]
    code = textwrap.dedent("""
        library(gradlm)
        stopifnot(identical(normalizePath(find.package("gradlm")),
                            normalizePath(file.path(.libPaths()[1], "gradlm"))))
        ok <- gradlm_available()
        if (!ok) stop(attr(ok, "reason"))
        fit <- gd_lm(mpg ~ wt + hp, data = mtcars)
        ref <- coef(lm(mpg ~ wt + hp, data = mtcars))
        stopifnot(max(abs(coef(fit) - ref) / abs(ref)) < 1e-6)
        cat("CORE=", gradlm:::core$`__file__`, "\\n", sep = "")
        cat("BRIDGE=", gradlm:::bridge()$`__file__`, "\\n", sep = "")
    """)
    result = rscript(code, user_env(installed["home"], library, PYTHON), installed["folder"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    found = dict(line.split("=", 1) for line in result.stdout.splitlines() if line.startswith(("CORE=", "BRIDGE=")))
    bundled = (library / "gradlm" / "python" / "gradlm").resolve()
    for name in ("CORE", "BRIDGE"):
        assert Path(found[name]).resolve().parent == bundled, found


def fake_python(folder, numpy_version, torch):
    """A virtual environment (no pip) whose site-packages only pretend to hold
    NumPy `numpy_version` (and torch): enough for the checks made before
    anything is imported."""
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    packages = ["numpy"] + (["torch"] if torch else [])
    for name in packages:
        (site / name).mkdir()
        (site / name / "__init__.py").write_text("raise ImportError('a stand-in for the test')\n")
    info = site / f"numpy-{numpy_version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: numpy\nVersion: {numpy_version}\n")
    return python


def reticulate_version(env, cwd):
    result = rscript('cat(format(packageVersion("reticulate")))', env, cwd)
    return tuple(int(p) for p in result.stdout.strip().split(".")[:2])


@pytest.mark.parametrize("trap", ["no torch", "numpy 2"])
def test_known_traps_are_clear_r_errors(installed, trap):
    folder = installed["folder"] / trap.replace(" ", "-")
    python = fake_python(folder, "2.0.0" if trap == "numpy 2" else "1.26.4", torch=(trap == "numpy 2"))
    env = user_env(installed["home"], installed["library"], python)
    if trap == "numpy 2" and reticulate_version(env, installed["folder"]) >= (1, 38):
        pytest.skip("reticulate 1.38 and later work with NumPy 2")
    code = textwrap.dedent("""
        library(gradlm)                     # loads without a usable Python
        ok <- gradlm_available()
        stopifnot(identical(as.vector(ok), FALSE))
        cat("REASON=", gsub("\\n", " ", attr(ok, "reason")), "\\n", sep = "")
        for (i in 1:2) {                    # the same message on every use
          msg <- tryCatch({ gd_lm(mpg ~ wt, data = mtcars); "no error" }, error = conditionMessage)
          cat("ERROR=", gsub("\\n", " ", msg), "\\n", sep = "")
        }
    """)
    result = rscript(code, env, installed["folder"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = [line.split("=", 1)[1] for line in result.stdout.splitlines() if line.startswith(("REASON=", "ERROR="))]
    assert len(lines) == 3 and len(set(lines)) == 1, lines
    expected = "torch is not installed" if trap == "no torch" else "incompatible NumPy binary version"
    assert expected in lines[0] and "install_gradlm()" in lines[0] and str(python) in lines[0], lines[0]
