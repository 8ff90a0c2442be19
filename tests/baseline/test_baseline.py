"""Baselines through the real CLI: accepted findings pass, new ones fail, row order never matters."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from maskaudit.baseline import apply_baseline, load_baseline, render_baseline
from maskaudit.cli import run
from maskaudit.errors import UsageError
from maskaudit.findings import Finding, Severity
from tests.reports.tiny_dataset import Row, make_dataset, write_manifest

ROWS = [Row("a"), Row("b", empty=True), Row("c"), Row("d")]


def scan(manifest: Path, out: Path, *extra: str) -> int:
    return run(["scan", str(manifest), "--out", str(out), "--quiet", "--fail-on", "warning", *extra])


def findings(out: Path) -> list[dict[str, object]]:
    return json.loads((out / "report.json").read_text())["findings"]  # type: ignore[no-any-return]


@pytest.fixture()
def dataset(tmp_path: Path) -> tuple[Path, Path]:
    manifest = make_dataset(tmp_path / "data", ROWS)
    baseline = tmp_path / "maskaudit-baseline.json"
    assert scan(manifest, tmp_path / "first", "--write-baseline", str(baseline)) == 0
    return manifest, baseline


def test_without_a_baseline_the_warning_fails(tmp_path: Path) -> None:
    manifest = make_dataset(tmp_path / "data", ROWS)
    assert scan(manifest, tmp_path / "out") == 1
    assert [f["check"] for f in findings(tmp_path / "out")] == ["empty-mask"]


def test_write_baseline_records_findings_by_identity(dataset: tuple[Path, Path]) -> None:
    _, baseline = dataset
    data = json.loads(baseline.read_text())
    assert data["schema_version"] == 1
    assert data["findings"] == [{"check": "empty-mask", "code": "M002", "row_id": "b", "severity": "warning",
                                 "message": "mask has no foreground pixel"}]


def test_accepted_finding_passes(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    manifest, baseline = dataset
    assert scan(manifest, tmp_path / "out", "--baseline", str(baseline)) == 0
    found = findings(tmp_path / "out")
    assert [(f["check"], f["row_id"], f.get("baselined")) for f in found] == [("empty-mask", "b", True)]
    summary = json.loads((tmp_path / "out" / "report.json").read_text())["summary"]
    assert summary["failed"] is False and summary["baselined"] == 1
    assert "(baselined)" in (tmp_path / "out" / "report.md").read_text()


def test_new_finding_fails(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    manifest, baseline = dataset
    make_dataset(manifest.parent, [*ROWS, Row("e", empty=True)])
    assert scan(manifest, tmp_path / "out", "--baseline", str(baseline)) == 1
    status = {f["row_id"]: f.get("baselined", False) for f in findings(tmp_path / "out")}
    assert status == {"b": True, "e": False}
    html = (tmp_path / "out" / "report.html").read_text()
    assert "1 new, 1 baselined" in html


def test_reordered_manifest_still_matches(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    manifest, baseline = dataset
    frame = pd.read_csv(manifest)
    write_manifest(manifest, frame.iloc[::-1].to_dict("records"))
    assert scan(manifest, tmp_path / "out", "--baseline", str(baseline)) == 0
    found = findings(tmp_path / "out")
    assert [(f["row"], f["row_id"], f.get("baselined")) for f in found] == [(2, "b", True)]


def test_without_an_id_column_the_image_path_is_the_identity(tmp_path: Path) -> None:
    manifest = make_dataset(tmp_path / "data", ROWS)
    frame = pd.read_csv(manifest).drop(columns=["id"])
    write_manifest(manifest, frame.to_dict("records"))
    baseline = tmp_path / "bl.json"
    assert scan(manifest, tmp_path / "first", "--write-baseline", str(baseline)) == 0
    assert json.loads(baseline.read_text())["findings"][0]["row_id"] == "images/b.png"
    write_manifest(manifest, frame.iloc[[3, 1, 0, 2]].to_dict("records"))
    assert scan(manifest, tmp_path / "out", "--baseline", str(baseline)) == 0


def test_baseline_file_is_stable_across_row_order(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    manifest, _ = dataset
    make_dataset(manifest.parent, [Row("z", empty=True), *ROWS, Row("e", empty=True)])
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    assert scan(manifest, tmp_path / "o1", "--write-baseline", str(first)) == 0
    write_manifest(manifest, pd.read_csv(manifest).iloc[::-1].to_dict("records"))
    assert scan(manifest, tmp_path / "o2", "--write-baseline", str(second)) == 0
    assert first.read_bytes() == second.read_bytes()
    assert [f["row_id"] for f in json.loads(first.read_text())["findings"]] == ["b", "e", "z"]


def test_dataset_findings_match_by_check_and_split(tmp_path: Path) -> None:
    rows = [Row("a", split="val", empty=True), Row("b", split="val", empty=True), Row("c", split="val"),
            Row("t", split="train")]
    manifest = make_dataset(tmp_path / "data", rows)
    baseline = tmp_path / "bl.json"
    assert scan(manifest, tmp_path / "first", "--write-baseline", str(baseline)) == 0
    entries = json.loads(baseline.read_text())["findings"]
    assert {"check": "high-empty-fraction", "split": "val"}.items() <= next(
        e for e in entries if e["check"] == "high-empty-fraction").items()
    assert scan(manifest, tmp_path / "out", "--baseline", str(baseline)) == 0


def test_missing_or_broken_baseline_exits_2(dataset: tuple[Path, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    manifest, _ = dataset
    assert scan(manifest, tmp_path / "out", "--baseline", str(tmp_path / "nope.json")) == 2
    assert "does not exist" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert scan(manifest, tmp_path / "out", "--baseline", str(broken)) == 2
    assert "not readable JSON" in capsys.readouterr().err
    broken.write_text(json.dumps({"schema_version": 99, "findings": []}))
    assert scan(manifest, tmp_path / "out", "--baseline", str(broken)) == 2
    assert "schema_version 99" in capsys.readouterr().err


def test_apply_baseline_ignores_row_position_and_message(tmp_path: Path) -> None:
    old = Finding("M002", "empty-mask", Severity.WARNING, "old text", row=5, split="train", row_id="x")
    moved = Finding("M002", "empty-mask", Severity.WARNING, "new text", row=0, split="train", row_id="x")
    other_check = Finding("M003", "full-mask", Severity.WARNING, "full", row=0, split="train", row_id="x")
    path = tmp_path / "bl.json"
    path.write_text(render_baseline([old]))
    marked = apply_baseline([moved, other_check], load_baseline(path))
    assert [f.baselined for f in marked] == [True, False]


def test_entry_without_check_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bl.json"
    path.write_text(json.dumps({"schema_version": 1, "findings": [{"row_id": "x"}]}))
    with pytest.raises(UsageError, match="without a check name"):
        load_baseline(path)
