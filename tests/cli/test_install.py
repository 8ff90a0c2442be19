"""The install and the gates the README documents: a built wheel runs, the hook runs when data changes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "fixtures" / "demo" / "train.parquet"
README = (REPO / "README.md").read_text(encoding="utf-8")


def setuptools_can_build() -> bool:
    """setuptools new enough for pyproject.toml's build requirement (the dev extra installs it)."""
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


@pytest.mark.skipif(not setuptools_can_build(), reason="needs setuptools>=77: pip install -e '.[dev]'")
def test_built_wheel_installs_offline_and_scans_the_demo(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(REPO / "maskaudit", source / "maskaudit", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels),
                    str(source)], check=True, capture_output=True)
    (wheel,) = wheels.glob("maskaudit-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    script = target / "bin" / "maskaudit"

    def maskaudit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(script), *args], env=env, cwd=tmp_path, text=True,
                              capture_output=True)

    located = subprocess.run([sys.executable, "-c", "import maskaudit; print(maskaudit.__file__)"], env=env,
                             cwd=tmp_path, text=True, capture_output=True, check=True)
    assert Path(located.stdout.strip()).is_relative_to(target)
    version = maskaudit("--version")
    assert version.returncode == 0 and re.fullmatch(r"maskaudit \d+\.\d+\.\d+\S*\n", version.stdout)
    scan = maskaudit("scan", str(DEMO), "--out", str(tmp_path / "out"))
    assert scan.returncode == 1, scan.stderr
    assert scan.stdout.startswith("FAIL:") and (tmp_path / "out" / "report.json").is_file()


def test_ci_snippets_install_from_this_repository() -> None:
    snippets = re.findall(r"```yaml\n(.*?)```", README, flags=re.DOTALL)
    installs = [line for snippet in snippets for line in snippet.splitlines() if "pip install" in line]
    assert installs, "the README's CI snippets install maskaudit"
    for line in installs:
        assert re.search(r'pip install "maskaudit @ git\+https://\S+@v\d+\.\d+\.\d+"', line), line


def test_pre_commit_hook_runs_when_data_changes_and_shows_why_it_failed() -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    files = re.compile(hook["files"])
    for changed in ("data/train.parquet", "lists/val.csv", "maskaudit.toml", "masks/a.png", "images/b.JPG",
                    "images/c.jpeg", "x/d.tif", "x/e.tiff", "f.bmp", "g.webp", "h.npy", "i.npz", "j.nii",
                    "k.nii.gz"):
        assert files.search(changed), changed
    for unrelated in ("README.md", "train.py", "notes.txt", "archive.gz"):
        assert not files.search(unrelated), unrelated
    assert "--quiet" not in hook["entry"] and "--quiet" not in hook.get("args", [])
    example = README[README.index("## Pre-commit hook"):]
    assert "args: [--out, .maskaudit," in example and "args: [--quiet" not in example
