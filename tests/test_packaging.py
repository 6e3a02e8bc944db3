"""The install pins the one torch build these machines hold on disk, in requirements.txt and pyproject.toml alike."""
import tomllib
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
