"""Configuration files through the real CLI: discovery, precedence (flags win), and errors that exit 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from maskaudit.checks.registry import all_checks
from maskaudit.cli import run
from maskaudit.cli.init_command import starter_config
from maskaudit.config import ScanConfig, find_config, load_config, parse_config
from maskaudit.findings import Severity
from maskaudit.settings import FailOn
from tests.reports.tiny_dataset import Row, make_dataset, write_manifest

ROWS = [Row("a"), Row("b", empty=True), Row("c")]


def scan(manifest: Path, out: Path, *extra: str) -> int:
    return run(["scan", str(manifest), "--out", str(out), "--quiet", *extra])


def report(out: Path) -> dict[str, object]:
    return json.loads((out / "report.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture()
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A dataset in project/data, scanned from project/data: discovery starts at the working directory."""
    path = make_dataset(tmp_path / "project" / "data", ROWS)
    monkeypatch.chdir(path.parent)
    return path


def test_file_found_walking_up_and_flags_win(manifest: Path, tmp_path: Path) -> None:
    (tmp_path / "project" / "maskaudit.toml").write_text('fail_on = "warning"\n')
    assert scan(manifest, tmp_path / "out") == 1
    assert report(tmp_path / "out")["settings"]["fail_on"] == "warning"  # type: ignore[index]
    assert scan(manifest, tmp_path / "out", "--fail-on", "error") == 0


def test_pyproject_table_is_read_and_pyproject_without_it_is_skipped(manifest: Path, tmp_path: Path) -> None:
    (tmp_path / "project" / "pyproject.toml").write_text('[tool.maskaudit]\nfail_on = "warning"\n')
    (tmp_path / "project" / "data" / "pyproject.toml").write_text('[project]\nname = "other"\n')
    assert find_config(manifest.parent) == (tmp_path / "project" / "pyproject.toml").resolve()
    assert scan(manifest, tmp_path / "out") == 1


def test_maskaudit_toml_wins_over_pyproject_in_the_same_folder(manifest: Path, tmp_path: Path) -> None:
    folder = manifest.parent
    (folder / "pyproject.toml").write_text('[tool.maskaudit]\nfail_on = "warning"\n')
    (folder / "maskaudit.toml").write_text('fail_on = "never"\n')
    assert find_config(folder) == (folder / "maskaudit.toml").resolve()


def test_explicit_config_file(manifest: Path, tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('fail_on = "warning"\n')
    assert scan(manifest, tmp_path / "out", "--config", str(config)) == 1
    assert scan(manifest, tmp_path / "out", "--config", str(tmp_path / "missing.toml")) == 2


def test_per_check_severity_and_threshold(manifest: Path, tmp_path: Path) -> None:
    config = tmp_path / "project" / "maskaudit.toml"
    config.write_text('[checks.empty-mask]\nseverity = "error"\n')
    assert scan(manifest, tmp_path / "out") == 1
    data = report(tmp_path / "out")
    assert [(f["check"], f["severity"]) for f in data["findings"]] == [("empty-mask", "error")]  # type: ignore[attr-defined]
    assert data["summary"]["rows_dropped"] == 1  # type: ignore[index]

    make_dataset(manifest.parent, [Row("a"), Row("b", empty=True), Row("c", empty=True)])
    config.write_text("")
    assert scan(manifest, tmp_path / "out") == 0
    assert "high-empty-fraction" in {f["check"] for f in report(tmp_path / "out")["findings"]}  # type: ignore[attr-defined]
    config.write_text("[checks.S002]\nmax-empty-share = 0.9\n")
    assert scan(manifest, tmp_path / "out") == 0
    data = report(tmp_path / "out")
    assert "high-empty-fraction" not in {f["check"] for f in data["findings"]}  # type: ignore[attr-defined]
    assert data["settings"]["thresholds"] == {"high-empty-fraction": {"max_empty_share": 0.9}}  # type: ignore[index]


def test_select_and_ignore_from_file_and_flag_override(manifest: Path, tmp_path: Path) -> None:
    config = tmp_path / "project" / "maskaudit.toml"
    config.write_text('ignore = ["empty-mask"]\nfail_on = "warning"\n')
    assert scan(manifest, tmp_path / "out") == 0
    assert report(tmp_path / "out")["findings"] == []
    assert scan(manifest, tmp_path / "out", "--ignore", "full-mask") == 1


def test_columns_and_root_from_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    manifest = make_dataset(data, ROWS)
    frame = pd.read_csv(manifest).rename(columns={"image_path": "picture", "mask_path": "target"})
    moved = tmp_path / "lists" / "train.csv"
    moved.parent.mkdir()
    write_manifest(moved, frame.to_dict("records"))
    monkeypatch.chdir(moved.parent)
    assert scan(moved, tmp_path / "out") == 2
    (tmp_path / "lists" / "maskaudit.toml").write_text(
        'root = "../data"\n[columns]\nimage = "picture"\nmask = "target"\n')
    assert scan(moved, tmp_path / "out") == 0
    columns = report(tmp_path / "out")["manifest"]["columns"]  # type: ignore[index]
    assert columns["image"] == "picture" and columns["mask"] == "target"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("colour = 1\n", "unknown key 'colour'; allowed keys: columns, root, labels"),
        ('fail_on = "sometimes"\n', "fail_on = 'sometimes' is not allowed; use one of: error, warning, never"),
        ("[checks.no-such-check]\nseverity = \"error\"\n", "unknown key 'checks.no-such-check'; allowed keys: "),
        ("[checks.empty-mask]\nlimit = 3\n", "unknown key 'checks.empty-mask.limit'; allowed keys: severity"),
        ('[checks.empty-mask]\nseverity = "fatal"\n', "use one of: info, warning, error"),
        ('[checks.high-empty-fraction]\nmax_empty_share = "half"\n', "is not allowed; use a number"),
        ('select = ["empty-mask", "M999"]\n', "select = 'M999' is not allowed"),
        ("[columns]\npicture = \"x\"\n", "unknown key 'columns.picture'; allowed keys: image, mask, split"),
        ("replay_samples = 0\n", "replay_samples = 0 is not allowed; use an integer >= 1"),
        ("labels = true\n", "labels = True is not allowed"),
        ("fail_on = \n", "is not valid TOML"),
    ],
)
def test_bad_config_exits_2_naming_key_and_allowed_values(
    manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    (tmp_path / "project" / "maskaudit.toml").write_text(text)
    assert scan(manifest, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err


def test_pyproject_named_explicitly_needs_the_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n')
    with pytest.raises(Exception, match=r"no \[tool.maskaudit\] table"):
        load_config(path)


def test_pipeline_and_replay_keys_are_accepted(tmp_path: Path) -> None:
    config = parse_config({"pipeline": "aug.yaml", "preprocess": "zscore", "replay-samples": 8,
                           "replay_repeats": 2, "seed": 7, "workers": 2}, tmp_path / "maskaudit.toml")
    assert config.pipeline == str(tmp_path / "aug.yaml") and config.preprocess == "zscore"
    source = tmp_path / "maskaudit.toml"
    assert parse_config({"pipeline": "lib/aug.py:build"}, source).pipeline == f"{tmp_path / 'lib/aug.py'}:build"
    assert parse_config({"pipeline": "mypkg.augment:build"}, source).pipeline == "mypkg.augment:build"
    assert (config.replay_samples, config.replay_repeats, config.seed, config.workers) == (8, 2, 7, 2)
    merged = config.merged_with(replay_samples=16, seed=None)
    assert (merged.replay_samples, merged.seed) == (16, 7)


def test_labels_accept_lists_and_text(tmp_path: Path) -> None:
    source = tmp_path / "maskaudit.toml"
    assert parse_config({"labels": [0, 1]}, source).labels == "0,1"
    assert parse_config({"labels": ["background", "tumor"]}, source).labels == "background,tumor"
    assert parse_config({"labels": "0=bg,1=tumor"}, source).labels == "0=bg,1=tumor"


def test_starter_config_lists_every_check_and_threshold_at_its_default() -> None:
    text = starter_config()
    for check in all_checks():
        assert f"# [checks.{check.name}]" in text
        assert f'# severity = "{check.severity.label}"' in text
        for key, value in check.options.items():
            assert f"# {key} = {value:g}" in text
    assert parse_config({}, Path("maskaudit.toml")) == ScanConfig(source=Path("maskaudit.toml"))


def test_starter_config_uncommented_is_valid_and_equals_the_defaults(tmp_path: Path) -> None:
    text = starter_config()
    per_check = text[text.index("\n", text.index("# Per-check severity")):]
    uncommented = "\n".join(re.sub(r"^# (?=\[checks\.|severity =|\w+ = )", "", line)
                            for line in per_check.splitlines())
    path = tmp_path / "maskaudit.toml"
    path.write_text(uncommented)
    config = load_config(path)
    assert config.severities == {c.name: c.severity for c in all_checks()}
    assert config.thresholds == {c.name: dict(c.options) for c in all_checks() if c.options}
    assert all(isinstance(s, Severity) for s in config.severities.values())


def test_init_writes_a_file_that_loads_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "maskaudit.toml"
    assert run(["init", str(target)]) == 0
    assert load_config(target).fail_on is None
    assert run(["init", str(target)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    target.write_text("junk")
    assert run(["init", str(target), "--force"]) == 0
    assert target.read_text() == starter_config()


def test_defaults_when_no_file(manifest: Path, tmp_path: Path) -> None:
    assert scan(manifest, tmp_path / "out") == 0
    assert report(tmp_path / "out")["settings"]["fail_on"] == FailOn.ERROR.value  # type: ignore[index]
