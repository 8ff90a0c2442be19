"""Nothing that comes with the data runs: a discovered configuration may not name code to import."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from maskaudit.cli import run
from tests.reports.tiny_dataset import Row, make_dataset

REPO = Path(__file__).resolve().parents[2]
EVIL = '''\
import pathlib

pathlib.Path(__file__).with_name("marker").write_text("this code ran")


def make():
    import albumentations as A

    return A.Compose([A.HorizontalFlip(p=0.5)])
'''
FIX = "code is imported only from --pipeline/--preprocess or a --config you pass"


def plant(folder: Path, key: str) -> Path:
    """evil.py and a configuration naming it under key; returns the marker evil.py would write."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evil.py").write_text(EVIL)
    (folder / "maskaudit.toml").write_text(f'{key} = "evil.py:make"\nfail_on = "never"\n')
    return folder / "marker"


def scan(manifest: Path, out: Path, *extra: str) -> int:
    return run(["scan", str(manifest), "--out", str(out), "--quiet", *extra])


@pytest.mark.parametrize("key", ["pipeline", "preprocess"])
def test_configuration_beside_the_data_never_runs_its_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    manifest = make_dataset(tmp_path / "download", [Row("a"), Row("b")])
    marker = plant(manifest.parent, key)
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert scan(manifest, tmp_path / "out") == 0  # the data's folder is not where configuration is found
    assert json.loads((tmp_path / "out" / "report.json").read_text())["manifest"]["config"] is None

    monkeypatch.chdir(manifest.parent)  # even when the audit runs inside the downloaded folder
    capsys.readouterr()
    assert scan(manifest, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(manifest.parent / "maskaudit.toml") in err and f"{key} = " in err and FIX in err
    assert not marker.exists()


@pytest.mark.parametrize("key", ["pipeline", "preprocess"])
def test_configuration_in_a_parent_of_the_working_directory_never_runs_its_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b")])
    marker = plant(tmp_path / "parent", key)
    child = tmp_path / "parent" / "child"
    child.mkdir()
    monkeypatch.chdir(child)
    assert scan(manifest, tmp_path / "out") == 2
    assert FIX in capsys.readouterr().err
    assert not marker.exists()


def test_a_flag_replaces_the_discovered_code_without_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b"), Row("c")])
    marker = plant(manifest.parent, "pipeline")
    monkeypatch.chdir(manifest.parent)
    pipeline = str(REPO / "fixtures" / "pipelines" / "clean.yaml")
    assert scan(manifest, tmp_path / "out", "--pipeline", pipeline, "--replay-samples", "2",
                "--replay-repeats", "1") == 0
    assert not marker.exists()
    assert "pipeline" in json.loads((tmp_path / "out" / "report.json").read_text())


def test_saved_pipelines_and_builtin_preprocessing_are_data_allowed_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b"), Row("c")])
    shutil.copy(REPO / "fixtures" / "pipelines" / "clean.yaml", manifest.parent / "augment.yaml")
    (manifest.parent / "maskaudit.toml").write_text(
        'pipeline = "augment.yaml"\npreprocess = "zscore"\nreplay_samples = 2\nreplay_repeats = 1\n')
    monkeypatch.chdir(manifest.parent)
    assert scan(manifest, tmp_path / "out") == 0
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["pipeline"]["preprocess"] == "zscore"
    assert saved["manifest"]["config"] == str((manifest.parent / "maskaudit.toml").resolve())


def test_a_config_the_user_passes_may_name_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b"), Row("c")])
    marker = plant(tmp_path / "mine", "pipeline")
    monkeypatch.chdir(tmp_path)
    assert scan(manifest, tmp_path / "out", "--config", str(tmp_path / "mine" / "maskaudit.toml"),
                "--replay-samples", "2", "--replay-repeats", "1") == 0
    assert marker.read_text() == "this code ran"
