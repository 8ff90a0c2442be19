"""JUnit XML: one test case per check, failed where new findings reach the fail-on severity.

GitLab, Jenkins and GitHub test views read this format, so findings show up where CI results live.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from maskaudit.checks.base import Check, Family
from maskaudit.checks.registry import all_checks
from maskaudit.findings import Finding, Severity
from maskaudit.report import Report

LISTED = 50
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    """Text XML 1.0 can hold: control characters become "?"."""
    return NOT_XML.sub("?", text)


def ran_checks(report: Report) -> list[Check]:
    """The checks this report's settings selected (pipeline checks only when a replay ran)."""
    select = report.settings.get("select")
    ignore = set(report.settings.get("ignore") or ())
    chosen = []
    for check in all_checks():
        keys = {check.name, check.code}
        if select is not None and not keys & set(select):
            continue
        if keys & ignore or (check.family is Family.PIPELINE and report.pipeline is None):
            continue
        chosen.append(check)
    return chosen


def _line(finding: Finding) -> str:
    where = (f"transform {finding.transform}" if finding.transform is not None
             else f"row {finding.row}" if finding.row is not None
             else f"split {finding.split}" if finding.split is not None else "dataset")
    ident = f" [{finding.row_id}]" if finding.row_id else ""
    path = f" {finding.path}" if finding.path else ""
    tag = " (baselined)" if finding.baselined else ""
    return f"{finding.severity.label}: {where}{ident}{path}: {finding.message}{tag}"


def _listing(findings: Sequence[Finding]) -> str:
    lines = [_line(f) for f in findings[:LISTED]]
    if len(findings) > LISTED:
        lines.append(f"... {len(findings) - LISTED} more in report.json")
    return clean("\n".join(lines))


def _split(findings: Sequence[Finding], threshold: Severity | None) -> tuple[list[Finding], list[Finding]]:
    """The new findings at or above the threshold, and the rest; one pass, order kept."""
    blocking: list[Finding] = []
    others: list[Finding] = []
    for finding in findings:
        fails = threshold is not None and not finding.baselined and finding.severity >= threshold
        (blocking if fails else others).append(finding)
    return blocking, others


def render_junit(report: Report) -> str:
    threshold = {"error": Severity.ERROR, "warning": Severity.WARNING}.get(report.fail_on)
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        grouped[finding.check].append(finding)
    checks = ran_checks(report)
    names = {c.name for c in checks}
    extra = [name for name in grouped if name not in names]  # findings of checks no longer registered
    cases, failures = [], 0
    for code, name in [(c.code, c.name) for c in checks] + [(grouped[n][0].code, n) for n in extra]:
        findings = grouped.get(name, [])
        blocking, others = _split(findings, threshold)
        attrs = f"classname={quoteattr('maskaudit.' + name)} name={quoteattr(f'{code} {name}')}"
        if blocking:
            failures += 1
            message = f"{len(blocking)} new finding(s) at or above {report.fail_on}"
            cases.append(f"    <testcase {attrs}>\n      <failure message={quoteattr(message)} "
                         f"type={quoteattr(blocking[0].severity.label)}>{escape(_listing(blocking))}</failure>\n"
                         + (f"      <system-out>{escape(_listing(others))}</system-out>\n" if others else "")
                         + "    </testcase>")
        elif findings:
            cases.append(f"    <testcase {attrs}>\n      <system-out>{escape(_listing(findings))}</system-out>\n"
                         "    </testcase>")
        else:
            cases.append(f"    <testcase {attrs}/>")
    suite = (f"  <testsuite name={quoteattr(clean('maskaudit ' + report.manifest.path))} tests=\"{len(cases)}\" "
             f'failures="{failures}" errors="0" skipped="0">')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="maskaudit" tests="{len(cases)}" failures="{failures}" errors="0">\n'
            f"{suite}\n" + "\n".join(cases) + "\n  </testsuite>\n</testsuites>\n")
