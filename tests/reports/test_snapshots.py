"""Snapshots of the Markdown and JUnit reports of the demo fixture.

Volatile parts (absolute paths, the tool version) are normalised. After an intended change, refresh them with
``UPDATE_SNAPSHOTS=1 pytest tests/reports/test_snapshots.py`` and review the diff.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import maskaudit
from maskaudit.checks.base import Family
from maskaudit.checks.registry import all_checks
from maskaudit.cli import run
from tests.reports.conftest import DEMO

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def normalise(text: str, out: Path) -> str:
    text = text.replace(str(out), "<out>").replace(str(DEMO), "<demo>")
    text = text.replace(f"maskaudit {maskaudit.__version__}", "maskaudit <version>")
    return re.sub(r"\b[0-9a-f]{32}\b", "<hash>", text)


def check_snapshot(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if not path.exists() and os.environ.get("UPDATE_SNAPSHOTS") != "1":
            pytest.fail(f"snapshot {path.name} is missing; create it with UPDATE_SNAPSHOTS=1")
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} changed; review, then refresh with UPDATE_SNAPSHOTS=1"


@pytest.mark.parametrize(("fmt", "name"), [("md", "demo.report.md"), ("junit", "demo.report.junit.xml")])
def test_rendered_report_matches_snapshot(demo_out: Path, fmt: str, name: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["report", str(demo_out / "report.json"), "--format", fmt]) == 0
    rendered = capsys.readouterr().out
    check_snapshot(name, normalise(rendered, demo_out))


def test_scan_writes_the_same_text_as_re_rendering(demo_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt, written in (("md", "report.md"), ("junit", "report.junit.xml"), ("html", "report.html"),
                         ("json", "report.json")):
        assert run(["report", str(demo_out / "report.json"), "--format", fmt]) == 0
        assert capsys.readouterr().out == (demo_out / written).read_text(encoding="utf-8"), fmt


def test_normalised_snapshots_hold_no_machine_paths() -> None:
    for path in SNAPSHOTS.glob("demo.*"):
        text = path.read_text(encoding="utf-8")
        assert str(DEMO) not in text and "/tmp/" not in text, path.name


def test_junit_is_valid_xml_with_one_case_per_check(demo_out: Path) -> None:
    root = ET.parse(demo_out / "report.junit.xml").getroot()
    cases = root.findall("./testsuite/testcase")
    expected = [c for c in all_checks() if c.family not in (Family.PIPELINE, Family.ANNOTATIONS)]
    assert [c.get("name") for c in cases] == [f"{c.code} {c.name}" for c in expected]
    failed = {c.get("classname") for c in cases if c.find("failure") is not None}
    assert root.get("failures") == str(len(failed))
    assert "maskaudit.shape-mismatch" in failed and "maskaudit.empty-mask" not in failed
