"""The install pins the one torch build these machines hold on disk, in requirements.txt and pyproject.toml alike;
the installed package says its version and ships its type information."""
import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH_PIN = "torch==2.13.0"


def requirement_lines(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def test_requirements_and_pyproject_pin_the_same_torch():
    assert TORCH_PIN in requirement_lines("requirements.txt")
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [d for d in dependencies if d.startswith("torch")] == [TORCH_PIN]


def test_the_dev_install_includes_the_runtime_install():
    assert "-r requirements.txt" in requirement_lines("requirements-dev.txt")


def test_version_prints_the_installed_version_on_one_line():
    """`snn --version` and `python -m snn_core --version`: pip's record of this install, one line, exit 0."""
    expected = f"snn-explorer {importlib.metadata.version('snn-explorer')}\n"
    entry_point = Path(sys.executable).with_name("snn")         # the venv's script beside its python
    commands = [[sys.executable, "-m", "snn_core"]] + ([[str(entry_point)]] if entry_point.exists() else [])
    for command in commands:
        done = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert (done.returncode, done.stdout, done.stderr) == (0, expected, ""), command


def test_py_typed_ships_in_the_wheel(tmp_path):
    """PEP 561: the marker sits in the package and a wheel built from the sources carries it (built from a copy,
    so the checkout gets no build/ or egg-info)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("snn_core", "snn_app", "snn_viz"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("snn_explorer-*.whl")
    assert "snn_core/py.typed" in zipfile.ZipFile(wheel).namelist()
