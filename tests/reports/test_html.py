"""The HTML report: self-contained, escaped, pictures inline, robust to missing files and replay data."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from maskaudit.cli import run
from maskaudit.cli.report_command import load_report
from maskaudit.replay.facts import ValueHistogram
from maskaudit.replay.section import PipelineSection
from maskaudit.reporters.html import render_html
from tests.replay.records import ZSCORED, replayed, shifted, transform
from tests.reports.tiny_dataset import Row, make_dataset, write_png

HOSTILE = "<script>alert(1)</script>.png"


def test_demo_report_is_self_contained(demo_out: Path) -> None:
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert "http://" not in html and "https://" not in html
    sources = re.findall(r'src="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/") for s in sources)


def test_demo_report_has_verdict_counts_and_a_section_per_check(demo_out: Path) -> None:
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    report = json.loads((demo_out / "report.json").read_text())
    assert f'<p id="verdict" class="verdict fail">{report["summary"]["verdict"]}</p>' in html
    assert "47: 30 kept, 17 dropped" in html
    for name, entry in report["summary"]["by_check"].items():
        assert f'id="check-{name}"' in html
        assert f'{entry["count"]} finding(s)' in html
    assert "Why it breaks training" in html and "How to fix" in html


def test_demo_report_has_charts_per_split(demo_out: Path) -> None:
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    report = json.loads((demo_out / "report.json").read_text())
    assert "Empty-mask share per split" in html and "Label histogram" in html
    for split, stats in report["splits"].items():
        if stats["masks"]:
            assert f"Foreground share per mask: {split}" in html
        else:
            assert stats["rows_kept"] == 0 and f"Foreground share per mask: {split}" not in html
        if stats["image_mean_histogram"]["counts"]:
            assert f"Image mean intensity: {split}" in html


def test_thumbnails_are_stored_in_the_report_and_notes_explain_missing_files(demo_out: Path) -> None:
    report = json.loads((demo_out / "report.json").read_text())
    thumbs = report["thumbnails"]
    by_check: dict[str, list[dict[str, object]]] = {}
    for thumb in thumbs.values():
        by_check.setdefault(thumb["check"], []).append(thumb)
    assert max(len(v) for v in by_check.values()) <= 3
    mismatch = by_check["shape-mismatch"][0]
    labels = [p["label"] for p in mismatch["pictures"]]  # type: ignore[attr-defined]
    assert labels[0].startswith("image ") and labels[1].startswith("mask ") and labels[0] != labels[1]
    assert all(p["label"].startswith("image") for t in by_check["empty-mask"] for p in t["pictures"])  # type: ignore[attr-defined]
    assert "unreadable" in str(by_check["mask-unreadable"][0]["note"])
    assert "not found" in str(by_check["image-not-found"][0]["note"])
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    assert "image + mask" in html and "image file not found" in html


def hostile_dataset(tmp_path: Path) -> Path:
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b"), Row("c", empty=True, image_path=f"images/{HOSTILE}",
                                                                          mask_path=f"masks/{HOSTILE}")])
    return manifest


def test_names_from_the_manifest_are_escaped(tmp_path: Path) -> None:
    manifest = hostile_dataset(tmp_path)
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.png" in html
    assert "<script" not in html.lower()


def test_corrupt_and_missing_files_never_break_the_report(tmp_path: Path) -> None:
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b", empty=True), Row("c")])
    (tmp_path / "data" / "images" / "b.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    (tmp_path / "data" / "masks" / "c.png").unlink()
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'id="check-image-unreadable"' in html and 'id="check-mask-not-found"' in html
    assert "mask file not found" in html and "image unreadable" in html


def test_odd_arrays_get_thumbnails(tmp_path: Path) -> None:
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b"), Row("c", empty=True)])
    gradient = np.linspace(0, 60000, 40 * 8 * 3).reshape(40, 8, 3).astype(np.uint16)
    write_png(tmp_path / "data" / "images" / "c.png", gradient)
    np.save(tmp_path / "data" / "masks" / "c.npy", np.zeros((40, 8), dtype=np.float32))
    text = manifest.read_text().replace("masks/c.png", "masks/c.npy")
    manifest.write_text(text)
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    thumbs = json.loads((tmp_path / "out" / "report.json").read_text())["thumbnails"]
    assert thumbs["2"]["pictures"][0]["src"].startswith("data:image/jpeg;base64,")


PIPELINE = PipelineSection(replayed(
    transform("HorizontalFlip", 0.5, "dual", "nearest"),
    transform("Normalize", 1.0, index=1, image_out=shifted(-120.5, 0.02),
              histogram_before=ValueHistogram((0, 64, 128, 192, 256), (1, 5, 9, 2)),
              histogram_after=ValueHistogram((-2, -1, 0, 1, 2), (3, 8, 5, 1))),
    transform("<b>Evil</b>", 0.1, index=2, image_out=replace(ZSCORED, nan_share=0.25)),
))
SAMPLES = {"replay:0": {"check": "replay", "row_id": "case-000", "note": None, "pictures": [
    {"label": "before", "src": "data:image/png;base64,iVBORw0KGgo="},
    {"label": "after", "src": "https://example.com/x.png"}]}}


def test_replay_section_renders_what_it_finds(demo_out: Path) -> None:
    report = replace(load_report(demo_out / "report.json"), pipeline=PIPELINE, thumbnails=SAMPLES)
    html = render_html(report)
    assert '<section id="pipeline">' in html
    for title in ("mean shift (input std) per transform", "std ratio per transform", "NaN share after per transform"):
        assert title in html
    assert "Largest change: 1:Normalize" in html
    assert "Intensity before 1:Normalize" in html and "Intensity after 1:Normalize" in html
    assert "&lt;b&gt;Evil&lt;/b&gt;" in html and "<b>Evil" not in html
    assert "Samples before and after augmentation" in html
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html
    assert "picture not inline, left out" in html and "https://" not in html


def test_report_command_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["report", str(tmp_path / "none.json")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert run(["report", str(bad)]) == 2
    assert run(["report", str(bad), "--format", "pdf"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "not a maskaudit report" in err and "Traceback" not in err


def test_report_command_writes_a_file(demo_out: Path, tmp_path: Path) -> None:
    target = tmp_path / "again.html"
    assert run(["report", str(demo_out / "report.json"), "--format", "html", "--out", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == (demo_out / "report.html").read_text(encoding="utf-8")


def test_github_step_summary_is_appended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b", empty=True)])
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n## maskaudit\n") and "| empty-mask | M002 | warning | 1 |" in text


def test_clean_dataset_reports_a_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b")])
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out")]) == 0
    assert f"html report: {tmp_path / 'out' / 'report.html'}" in capsys.readouterr().out
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert '<p id="verdict" class="verdict pass">PASS: no findings</p>' in html
    assert "No check fired." in html and 'class="check"' not in html


def test_long_tables_are_capped_with_a_pointer_to_the_findings_file(demo_out: Path) -> None:
    from maskaudit.findings import Finding, Severity
    from maskaudit.report import LISTED_PER_CHECK

    report = load_report(demo_out / "report.json")
    many = tuple(Finding("M002", "empty-mask", Severity.WARNING, f"empty {i}", row=i, row_id=f"id-{i}")
                 for i in range(LISTED_PER_CHECK + 7))
    html = render_html(report.with_findings(many))
    section = html.split('id="check-empty-mask"', 1)[1]
    assert section.count("<td>row ") == LISTED_PER_CHECK
    assert f"{LISTED_PER_CHECK + 7} finding(s)" in section
    assert "7 more: see <code>findings.parquet</code>" in section
