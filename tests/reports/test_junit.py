"""JUnit output: failures follow fail-on and the baseline; the XML survives any text a finding holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from maskaudit.checks.registry import find_check
from maskaudit.cli.report_command import load_report
from maskaudit.findings import Finding, Severity
from maskaudit.report import LISTED_PER_CHECK as LISTED
from maskaudit.report import ManifestInfo, Report, checks_ran
from maskaudit.reporters.junit import render_junit
from maskaudit.settings import FailOn, Settings


def failures(xml: str) -> list[str]:
    root = ET.fromstring(xml)
    return [str(c.get("classname")) for c in root.iter("testcase") if c.find("failure") is not None]


def test_fail_on_decides_which_cases_fail(demo_out: Path) -> None:
    report = load_report(demo_out / "report.json")
    on_error = failures(render_junit(report))
    on_warning = failures(render_junit(replace(report, fail_on=FailOn.WARNING)))
    assert set(on_error) < set(on_warning) and "maskaudit.empty-mask" in on_warning
    assert failures(render_junit(replace(report, fail_on=FailOn.NEVER))) == []
    assert len(on_error) == len({f.check for f in report.examples if f.severity.label == "error"})


def test_baselined_findings_do_not_fail_their_case(demo_out: Path) -> None:
    report = load_report(demo_out / "report.json")
    accepted = tuple(replace(f, baselined=f.check == "shape-mismatch") for f in report.examples)
    xml = render_junit(report.with_findings(accepted))
    assert "maskaudit.shape-mismatch" not in failures(xml)
    assert "(baselined)" in xml


def test_control_characters_and_markup_in_messages_stay_valid_xml(demo_out: Path) -> None:
    report = load_report(demo_out / "report.json")
    odd = tuple(replace(f, message="bad \x00\x1b <tag> & \"quote\"") for f in report.examples)
    root = ET.fromstring(render_junit(report.with_findings(odd)))
    texts = [e.text or "" for e in root.iter("failure")]
    assert texts and all("<tag> & \"quote\"" in t and "\x00" not in t for t in texts)


def test_selected_checks_only(demo_out: Path) -> None:
    report = load_report(demo_out / "report.json")
    ran = checks_ran(Settings(select=frozenset({"empty-mask", "shape-mismatch"})), pipeline=False)
    findings = tuple(f for f in report.examples if f.check in {"empty-mask", "shape-mismatch"})
    root = ET.fromstring(render_junit(replace(report, ran=ran).with_findings(findings)))
    assert [c.get("name") for c in root.iter("testcase")] == ["M002 empty-mask", "M005 shape-mismatch"]


def test_many_findings_keep_counts_listing_and_failures() -> None:
    empty, mismatch, tiny = (find_check(name) for name in ("empty-mask", "shape-mismatch", "tiny-foreground"))
    assert empty is not None and mismatch is not None and tiny is not None
    rows = 6000
    findings = tuple(
        Finding(code=check.code, check=check.name, severity=severity, message=f"defect {i}", row=i,
                baselined=i % 4 == 0)
        for i in range(rows)
        for check, severity in [(empty, Severity.WARNING) if i % 2 else (mismatch, Severity.ERROR)]
    ) + tuple(Finding(code=tiny.code, check=tiny.name, severity=Severity.INFO, message=f"small {i}", row=i)
              for i in range(LISTED + 7))
    report = Report(
        manifest=ManifestInfo(path="m.csv", format="csv", rows=rows, content_hash="", columns={}, root="."),
        settings={}, rows_kept=rows, rows_dropped=0, fail_on=FailOn.WARNING,
        ran=checks_ran(Settings(select=frozenset({"empty-mask", "shape-mismatch", "tiny-foreground"})), False),
    ).with_findings(findings)
    root = ET.fromstring(render_junit(report))
    cases = {str(c.get("classname")): c for c in root.iter("testcase")}
    assert root.get("tests") == "3" and root.get("failures") == "2"
    # empty-mask: odd rows, warnings; every fourth row is baselined, and rows i % 4 == 0 are even rows
    empty_failure = cases["maskaudit.empty-mask"].find("failure")
    assert empty_failure is not None
    assert empty_failure.get("message") == f"{rows // 2} new finding(s) at or above warning"
    assert cases["maskaudit.empty-mask"].find("system-out") is None
    # shape-mismatch: even rows, errors; half of them (i % 4 == 0) baselined, listed apart from the failure
    mismatch_case = cases["maskaudit.shape-mismatch"]
    failure, listed = mismatch_case.find("failure"), mismatch_case.find("system-out")
    assert failure is not None and listed is not None
    assert failure.get("message") == f"{rows // 4} new finding(s) at or above warning"
    failure_lines = (failure.text or "").splitlines()
    assert len(failure_lines) == LISTED + 1
    assert failure_lines[-1] == f"... {rows // 4 - LISTED} more in findings.parquet"
    assert all("(baselined)" not in line for line in failure_lines)
    assert failure_lines[0] == "error: row 2: defect 2" and failure_lines[1] == "error: row 6: defect 6"
    listed_lines = (listed.text or "").splitlines()
    assert listed_lines[0] == "error: row 0: defect 0 (baselined)" and listed_lines[1].startswith("error: row 4:")
    assert listed_lines[-1] == f"... {rows // 4 - LISTED} more in findings.parquet"
    # tiny-foreground: info never fails, listing still cut
    tiny_case = cases["maskaudit.tiny-foreground"]
    tiny_out = tiny_case.find("system-out")
    assert tiny_case.find("failure") is None and tiny_out is not None
    assert (tiny_out.text or "").splitlines()[-1] == "... 7 more in findings.parquet"
