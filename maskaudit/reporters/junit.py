"""JUnit XML: one test case per check, failed where new findings reach the fail-on severity.

GitLab, Jenkins and GitHub test views read this format, so findings show up where CI results live.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath
from xml.sax.saxutils import escape, quoteattr

from maskaudit.findings import Finding, Severity
from maskaudit.report import Report

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    """Text XML 1.0 can hold: control characters become "?"."""
    return NOT_XML.sub("?", text)


def _line(finding: Finding) -> str:
    ident = f" [{finding.row_id}]" if finding.row_id else ""
    path = f" {finding.path}" if finding.path else ""
    tag = " (baselined)" if finding.baselined else ""
    return f"{finding.severity.label}: {finding.location}{ident}{path}: {finding.message}{tag}"


def _listing(findings: Sequence[Finding], total: int, report: Report) -> str:
    """The first findings of a group of ``total``, and where the rest are."""
    shown = findings[:report.listed_per_check]
    lines = [_line(f) for f in shown]
    if total > len(shown):
        lines.append(f"... {total - len(shown)} more in {PurePath(report.findings_file).name}")
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
    threshold = report.threshold
    tallies = {t.check: t for t in report.tallies}
    ran = {c.name for c in report.ran}
    extra = [(t.code, t.check) for t in report.tallies if t.check not in ran]  # fired, but not among those that ran
    cases_of = [(c.code, c.name) for c in report.ran] + extra
    cases, failures = [], 0
    for code, name in cases_of:
        tally = tallies.get(name)
        attrs = f"classname={quoteattr('maskaudit.' + name)} name={quoteattr(f'{code} {name}')}"
        if tally is None:
            cases.append(f"    <testcase {attrs}/>")
            continue
        blocking, others = _split(report.examples_for(name), threshold)
        failing = tally.blocking(threshold)
        if failing:
            failures += 1
            message = f"{failing} new finding(s) at or above {report.fail_on.value}"
            worst = max(s for s, n in tally.new.items() if n and threshold is not None and s >= threshold)
            rest = tally.count - failing
            cases.append(f"    <testcase {attrs}>\n      <failure message={quoteattr(message)} "
                         f"type={quoteattr(worst.label)}>{escape(_listing(blocking, failing, report))}</failure>\n"
                         + (f"      <system-out>{escape(_listing(others, rest, report))}</system-out>\n"
                            if rest else "")
                         + "    </testcase>")
        else:
            cases.append(f"    <testcase {attrs}>\n      <system-out>"
                         f"{escape(_listing(others, tally.count, report))}</system-out>\n    </testcase>")
    suite = (f"  <testsuite name={quoteattr(clean('maskaudit ' + report.manifest.path))} tests=\"{len(cases)}\" "
             f'failures="{failures}" errors="0" skipped="0">')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="maskaudit" tests="{len(cases)}" failures="{failures}" errors="0">\n'
            f"{suite}\n" + "\n".join(cases) + "\n  </testsuite>\n</testsuites>\n")
