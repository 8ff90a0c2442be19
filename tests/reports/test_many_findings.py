"""A scan with 50,000 findings in a check: reports hold counts and N examples, the findings file holds them all,
and `maskaudit report` and the baseline read the full list from it."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from maskaudit.cli import run
from maskaudit.findings import Finding, Severity
from maskaudit.report import DEFAULT_EXAMPLES, LISTED_PER_CHECK, ManifestInfo, Report

ROWS = 50_000
EXAMPLES = 40


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A manifest of 50,000 rows whose files are all missing (two findings a row), scanned once keeping 40
    examples per check, with a baseline written."""
    folder = tmp_path_factory.mktemp("big")
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["image_path", "mask_path", "id"])
        writer.writerows([f"images/{i}.png", f"masks/{i}.png", f"case-{i}"] for i in range(ROWS))
    baseline = folder / "baseline.json"
    assert run(["scan", str(manifest), "--out", str(folder / "out"), "--quiet", "--id-col", "id",
                "--examples", str(EXAMPLES), "--write-baseline", str(baseline)]) == 0
    return manifest, folder / "out", baseline


def test_report_json_holds_counts_and_exactly_n_examples(big: tuple[Path, Path, Path]) -> None:
    _, out, _ = big
    report = json.loads((out / "report.json").read_text())
    by_check = report["summary"]["by_check"]
    assert by_check["image-not-found"]["count"] == ROWS and by_check["mask-not-found"]["count"] == ROWS
    assert by_check["image-not-found"]["by_severity"] == {"error": ROWS}
    assert report["summary"]["findings"] == 2 * ROWS + 1  # and no-usable-rows
    assert report["examples_per_check"] == EXAMPLES
    listed: dict[str, int] = {}
    for finding in report["findings"]:
        listed[finding["check"]] = listed.get(finding["check"], 0) + 1
    assert listed == {"image-not-found": EXAMPLES, "mask-not-found": EXAMPLES, "no-usable-rows": 1}
    assert report["outputs"]["findings"] == str(out / "findings.parquet")


def test_findings_file_holds_every_finding(big: tuple[Path, Path, Path]) -> None:
    _, out, _ = big
    table = pq.read_table(out / "findings.parquet", columns=["check", "row", "row_id", "baselined"])
    assert table.num_rows == 2 * ROWS + 1
    image_rows = [r for c, r in zip(table.column("check").to_pylist(), table.column("row").to_pylist(), strict=True)
                  if c == "image-not-found"]
    assert sorted(image_rows) == list(range(ROWS))
    assert set(table.column("baselined").to_pylist()) == {True}  # the run that wrote the baseline accepts all


def test_text_reports_list_the_shared_limit_and_point_to_the_findings_file(big: tuple[Path, Path, Path]) -> None:
    _, out, _ = big
    shown = min(EXAMPLES, LISTED_PER_CHECK)
    markdown = (out / "report.md").read_text()
    assert f"| ... | | {ROWS - shown} more in findings.parquet |" in markdown
    html = (out / "report.html").read_text()
    assert f"{ROWS - shown} more: see <code>findings.parquet</code>" in html
    root = ET.parse(out / "report.junit.xml").getroot()
    case = next(c for c in root.iter("testcase") if c.get("classname") == "maskaudit.image-not-found")
    lines = (case.findtext("system-out") or "").splitlines()
    assert len(lines) == shown + 1 and lines[-1] == f"... {ROWS - shown} more in findings.parquet"


def test_report_command_reads_the_full_list_from_the_findings_file(big: tuple[Path, Path, Path],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = big
    assert run(["report", str(out / "report.json"), "--format", "json", "--examples", str(ROWS)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sum(1 for f in data["findings"] if f["check"] == "mask-not-found") == ROWS
    assert data["summary"]["by_check"]["mask-not-found"]["count"] == ROWS
    assert run(["report", str(out / "report.json"), "--format", "json"]) == 0
    assert capsys.readouterr().out == (out / "report.json").read_text()


def test_baseline_from_a_big_run_matches_on_the_next(big: tuple[Path, Path, Path], tmp_path: Path) -> None:
    manifest, out, baseline = big
    entries = json.loads(baseline.read_text())["findings"]
    assert len(entries) == 2 * ROWS + 1
    for accepted in (baseline, out / "findings.parquet", out / "report.json"):
        target = tmp_path / accepted.name
        assert run(["scan", str(manifest), "--out", str(target), "--quiet", "--id-col", "id",
                    "--examples", "3", "--baseline", str(accepted)]) == 0, accepted
        summary = json.loads((target / "report.json").read_text())["summary"]
        assert summary["baselined"] == 2 * ROWS + 1 and not summary["failed"]
        assert summary["verdict"] == f"PASS: 0 new finding(s); {2 * ROWS + 1} baselined finding(s) accepted"


def synthetic(count: int) -> tuple[Report, list[Finding]]:
    findings = [Finding(code="M002", check="empty-mask", severity=Severity.WARNING, message=f"empty {i}", row=i,
                        baselined=i % 3 == 0) for i in range(count)]
    report = Report(manifest=ManifestInfo(path="m.csv", format="csv", rows=count, content_hash="", columns={},
                                          root="."), settings={}, rows_kept=count, rows_dropped=0)
    return report.with_findings(findings), findings


def test_report_counts_new_and_baselined_and_keeps_the_default_examples() -> None:
    report, findings = synthetic(ROWS)
    (tally,) = report.tallies
    assert report.examples == tuple(findings[:DEFAULT_EXAMPLES])
    assert (tally.count, tally.baselined_count, tally.new_count) == (ROWS, 16_667, ROWS - 16_667)
    again = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.tallies == report.tallies and again.examples == report.examples
    assert again.verdict == report.verdict and again.failed() == report.failed()


def test_report_json_of_the_old_kind_is_counted_from_its_full_list() -> None:
    report, findings = synthetic(30)
    old = report.to_dict()
    del old["examples_per_check"], old["checks_ran"]
    for entry in old["summary"]["by_check"].values():
        del entry["by_severity"], entry["baselined_by_severity"]
    again = Report.from_dict(old)
    assert again.tallies == report.tallies and again.examples == tuple(findings)
    assert [(c.code, c.name) for c in again.ran] == [("M002", "empty-mask")]
