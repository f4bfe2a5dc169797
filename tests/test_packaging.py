"""The Python distribution as users get it: the wheel and sdist built from the project's files, their contents, and
the installed wheel's command without its optional dependencies (matplotlib, pyarrow: the plot and parquet extras)."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import gradlm

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.name for p in (ROOT / "python" / "gradlm").glob("*.py"))
EXTRAS = {"plot": "matplotlib", "progress": "tqdm", "parquet": "pyarrow"}
# what a checkout holds besides its sources: environments, build outputs, caches (a copy of the tree without them is
# what the packages are built from, so that nothing here is written to or read from build/)
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", ".rlib", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".hypothesis", "gradlm-demo")


def _check(command, **kw):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kw)
    assert result.returncode == 0, f"{' '.join(map(str, command))}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The sdist and the wheel, built as ``python -m build --sdist`` and ``pip wheel .`` build them (without build
    isolation: the pinned setuptools of requirements-dev.txt, no network)."""
    try:
        import build  # noqa: F401
    except ImportError:
        pytest.fail("the sdist is built with `build`, a development requirement: pip install -r requirements-dev.txt")
    tmp = tmp_path_factory.mktemp("dist")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    out = tmp / "dist"
    _check([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out), str(source)])
    _check([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
            "--quiet", "--wheel-dir", str(out), str(source)])
    (sdist,) = out.glob("gradlm-*.tar.gz")
    (wheel,) = out.glob("gradlm-*.whl")
    return sdist, wheel


def test_wheel_has_the_core_the_license_and_py_typed_and_nothing_else(dist):
    _, wheel = dist
    assert wheel.name == f"gradlm-{gradlm.__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    info = f"gradlm-{gradlm.__version__}.dist-info"
    assert sorted(n.split("/")[1] for n in names if n.startswith("gradlm/") and n.endswith(".py")) == MODULES
    assert "gradlm/py.typed" in names
    assert f"{info}/licenses/LICENSE" in names
    assert {n.split("/")[0] for n in names} == {"gradlm", info}  # no tests/, R/, python/ or R's copy of the core
    meta = email.message_from_bytes(zipfile.ZipFile(wheel).read(f"{info}/METADATA"))
    assert meta["Version"] == gradlm.__version__
    assert meta["License-Expression"] == "MIT"
    assert not [c for c in meta.get_all("Classifier") if c.startswith("License ::")]  # (the SPDX string says it)
    assert "Typing :: Typed" in meta.get_all("Classifier")
    assert set(meta.get_all("Provides-Extra")) == set(EXTRAS) | {"all"}
    requires = meta.get_all("Requires-Dist")
    for extra, package in EXTRAS.items():
        assert any(r.startswith(package) and f'extra == "{extra}"' in r for r in requires), (extra, requires)
        assert any(r.startswith(package) and 'extra == "all"' in r for r in requires), (package, requires)
    assert not [r for r in requires if r.startswith("gradlm")]  # (no requirement a resolver could look up by name)
    entry_points = zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()
    assert re.search(r"^gradlm = gradlm\.cli:main$", entry_points, re.M)


def test_sdist_has_the_sources_and_the_license(dist):
    sdist, _ = dist
    top = f"gradlm-{gradlm.__version__}"
    names = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    for name in ["LICENSE", "README.md", "pyproject.toml", "python/gradlm/py.typed",
                 *(f"python/gradlm/{m}" for m in MODULES)]:
        assert name in names, name
    assert not [n for n in names if n.split("/")[0] in ("R", "tests", "vignettes", "benchmarks")]
    assert not [n for n in names if "/inst/" in n or "__pycache__" in n]
    license_text = tarfile.open(sdist).extractfile(f"{top}/LICENSE").read().decode()
    assert license_text.startswith("MIT License") and "gradlm developers" in license_text


def test_version_is_one_number_in_python_and_r():
    description = (ROOT / "R" / "DESCRIPTION").read_text()
    (r_version,) = re.findall(r"^Version:\s*(\S+)", description, re.M)
    assert gradlm.__version__ == r_version


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory):
    """The wheel installed into a folder of its own, first on PYTHONPATH, with matplotlib and pyarrow made
    missing: a package of each name whose import fails as a missing one does (ModuleNotFoundError)."""
    _, wheel = dist
    tmp = tmp_path_factory.mktemp("installed")
    site = tmp / "site"
    _check([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--disable-pip-version-check",
            "--quiet", "--target", str(site), str(wheel)])
    missing = tmp / "missing"
    for package in ("matplotlib", "pyarrow"):
        (missing / package).mkdir(parents=True)
        (missing / package / "__init__.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{package}'\", name={package!r})\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(missing), str(site)]), MPLBACKEND="Agg")
    env.pop("PYTHONSTARTUP", None)
    where = _check([sys.executable, "-c", "import gradlm; print(gradlm.__file__)"], env=env).stdout
    assert Path(where.strip()).is_relative_to(site)  # the wheel's gradlm, not the checkout's
    return site, env, tmp


def test_version_of_the_installed_command(installed):
    site, env, tmp = installed
    for command in ([str(site / "bin" / "gradlm"), "--version"], [sys.executable, "-m", "gradlm", "--version"]):
        assert _check(command, env=env, cwd=tmp).stdout.strip() == f"gradlm {gradlm.__version__}"


def test_demo_without_matplotlib_prints_its_results_and_how_to_get_the_plot(installed):
    site, env, tmp = installed
    result = _check([str(site / "bin" / "gradlm"), "demo", "--epochs", "50"], env=env, cwd=tmp)
    assert "mangoes (gd)" in result.stdout and "mangoes (lstsq)" in result.stdout  # the results, all printed
    assert 'no loss plot: plots need matplotlib, which is not installed: pip install "gradlm[plot]"' in result.stdout
    assert "Traceback" not in result.stderr
    assert not (tmp / "gradlm-demo").exists()


def test_fit_with_a_plot_asked_for_without_matplotlib_fails_after_its_results(installed, tmp_path):
    site, env, _ = installed
    path = tmp_path / "line.csv"
    path.write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(10)))
    result = subprocess.run([str(site / "bin" / "gradlm"), "fit", str(path), "--target", "y", "--plot",
                             str(tmp_path / "loss.png")], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "(bias)" in result.stdout
    assert 'gradlm: error: no loss plot: plots need matplotlib' in result.stderr and "gradlm[plot]" in result.stderr
    assert "Traceback" not in result.stderr


def test_parquet_without_pyarrow_names_the_parquet_extra(installed, tmp_path):
    site, env, _ = installed
    result = subprocess.run([str(site / "bin" / "gradlm"), "fit", str(tmp_path / "data.parquet"), "--target", "y"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip() == ('gradlm: error: reading Parquet needs pyarrow, which is not installed: '
                                     'pip install "gradlm[parquet]" (or pip install pyarrow).')


def test_progress_without_tqdm_says_so_and_fits(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = gradlm.datasets.line()
    with pytest.warns(UserWarning, match=r'progress=True needs tqdm, which is not installed: pip install '
                                         r'"gradlm\[progress\]"'):
        history = gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=3, lr=1e-3, progress=True)
    assert history.epochs_run == 3


def test_import_gradlm_reaches_plot_and_io_without_importing_matplotlib():
    code = ("import sys, gradlm; assert 'matplotlib' not in sys.modules; "
            "assert callable(gradlm.plot.plot_loss) and callable(gradlm.io.read_csv); "
            "assert 'matplotlib' not in sys.modules; assert {'plot', 'io'} <= set(dir(gradlm)); print('ok')")
    assert _check([sys.executable, "-c", code]).stdout.strip() == "ok"
