"""`--examples` and the `examples` configuration key: how many findings per check report.json keeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maskaudit.cli import run
from tests.reports.tiny_dataset import Row, make_dataset

ROWS = [Row("a"), Row("b", empty=True), Row("c", empty=True), Row("d", empty=True)]


def kept_in(report: dict[str, list[dict[str, str]]]) -> int:
    return sum(1 for f in report["findings"] if f["check"] == "empty-mask")


def kept(out: Path) -> tuple[int, int]:
    report = json.loads((out / "report.json").read_text())
    return kept_in(report), report["summary"]["by_check"]["empty-mask"]["count"]


def test_the_flag_cuts_the_examples_and_keeps_the_counts(tmp_path: Path) -> None:
    manifest = make_dataset(tmp_path / "data", ROWS)
    assert run(["scan", str(manifest), "--out", str(tmp_path / "two"), "-q", "--examples", "2"]) == 0
    assert kept(tmp_path / "two") == (2, 3)
    assert run(["scan", str(manifest), "--out", str(tmp_path / "none"), "-q", "--examples", "0"]) == 0
    assert kept(tmp_path / "none") == (0, 3)
    assert "| empty-mask | M002 | warning | 3 |" in (tmp_path / "none" / "report.md").read_text()


def test_the_configuration_sets_it_and_the_flag_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = make_dataset(tmp_path / "data", ROWS)
    work = tmp_path / "work"
    work.mkdir()
    (work / "maskaudit.toml").write_text("examples = 1\n")
    monkeypatch.chdir(work)
    assert run(["scan", str(manifest), "--out", str(tmp_path / "one"), "-q"]) == 0
    assert kept(tmp_path / "one") == (1, 3)
    assert run(["scan", str(manifest), "--out", str(tmp_path / "flag"), "-q", "--examples", "3"]) == 0
    assert kept(tmp_path / "flag") == (3, 3)


@pytest.mark.parametrize("toml", ["examples = -1\n", 'examples = "many"\n', "examples = true\n"])
def test_a_bad_value_in_the_configuration_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str], toml: str) -> None:
    manifest = make_dataset(tmp_path / "data", ROWS)
    (tmp_path / "maskaudit.toml").write_text(toml)
    monkeypatch.chdir(tmp_path)
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "examples" in err and "Traceback" not in err


def test_a_negative_flag_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = make_dataset(tmp_path / "data", ROWS)
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out"), "-q", "--examples", "-1"]) == 2
    assert "--examples" in capsys.readouterr().err


def test_report_examples_without_the_findings_file_cannot_list_more(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    manifest = make_dataset(tmp_path / "data", ROWS)
    out = tmp_path / "out"
    assert run(["scan", str(manifest), "--out", str(out), "-q", "--examples", "1"]) == 0
    assert run(["report", str(out / "report.json"), "--format", "json", "--examples", "5"]) == 0
    assert kept_in(json.loads(capsys.readouterr().out)) == 3
    (out / "findings.parquet").unlink()
    assert run(["report", str(out / "report.json"), "--format", "json", "--examples", "5"]) == 2
    assert "findings.parquet" in capsys.readouterr().err
    assert run(["report", str(out / "report.json"), "--format", "md"]) == 0
    assert "| ... | | 2 more in findings.parquet |" in capsys.readouterr().out
    baseline_from_report = ["scan", str(manifest), "--out", str(tmp_path / "again"), "-q", "--baseline",
                            str(out / "report.json")]
    assert run(baseline_from_report) == 2
    assert "lists 2 of its 4 findings" in capsys.readouterr().err
