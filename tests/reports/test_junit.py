"""JUnit output: failures follow fail-on and the baseline; the XML survives any text a finding holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from maskaudit.cli.report_command import load_report
from maskaudit.reporters.junit import render_junit


def failures(xml: str) -> list[str]:
    root = ET.fromstring(xml)
    return [str(c.get("classname")) for c in root.iter("testcase") if c.find("failure") is not None]


def test_fail_on_decides_which_cases_fail(demo_out: Path) -> None:
    report = load_report(demo_out / "report.json")
    on_error = failures(render_junit(report))
    on_warning = failures(render_junit(replace(report, fail_on="warning")))
    assert set(on_error) < set(on_warning) and "maskaudit.empty-mask" in on_warning
    assert failures(render_junit(replace(report, fail_on="never"))) == []
    assert len(on_error) == len({f.check for f in report.findings if f.severity.label == "error"})


def test_baselined_findings_do_not_fail_their_case(demo_out: Path) -> None:
    report = load_report(demo_out / "report.json")
    accepted = tuple(replace(f, baselined=f.check == "shape-mismatch") for f in report.findings)
    xml = render_junit(replace(report, findings=accepted))
    assert "maskaudit.shape-mismatch" not in failures(xml)
    assert "(baselined)" in xml


def test_control_characters_and_markup_in_messages_stay_valid_xml(demo_out: Path) -> None:
    report = load_report(demo_out / "report.json")
    odd = tuple(replace(f, message="bad \x00\x1b <tag> & \"quote\"") for f in report.findings)
    root = ET.fromstring(render_junit(replace(report, findings=odd)))
    texts = [e.text or "" for e in root.iter("failure")]
    assert texts and all("<tag> & \"quote\"" in t and "\x00" not in t for t in texts)


def test_selected_checks_only(demo_out: Path) -> None:
    report = load_report(demo_out / "report.json")
    settings = {**report.settings, "select": ["empty-mask", "shape-mismatch"]}
    findings = tuple(f for f in report.findings if f.check in {"empty-mask", "shape-mismatch"})
    root = ET.fromstring(render_junit(replace(report, settings=settings, findings=findings)))
    assert [c.get("name") for c in root.iter("testcase")] == ["M002 empty-mask", "M005 shape-mismatch"]
