"""Run the registered checks and decide which rows are kept.

Row checks run in the map, one partition at a time (``judge_rows``); the reduce (``judge``) runs the checks
across rows, decides the kept rows from every error (and --drop), then judges the splits over the kept rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from maskaudit.checks.base import Check, Kind
from maskaudit.checks.context import Context
from maskaudit.checks.registry import all_checks
from maskaudit.data_root import DataRoot
from maskaudit.facts import RowFacts
from maskaudit.findings import Finding, Hit, Severity
from maskaudit.settings import Settings


@dataclass(frozen=True)
class Judgement:
    findings: tuple[Finding, ...]
    dropped: frozenset[int]
    context: Context


def active_checks(settings: Settings, checks: Iterable[Check] | None = None) -> list[Check]:
    chosen = []
    for check in checks if checks is not None else all_checks():
        keys = {check.name, check.code}
        if settings.select is not None and not keys & settings.select:
            continue
        if keys & settings.ignore:
            continue
        chosen.append(check)
    return chosen


def stamp(check: Check, hit: Hit, settings: Settings) -> Finding:
    severity = settings.severities.get(check.name) or hit.severity or check.severity
    return Finding(
        code=check.code, check=check.name, severity=severity, message=hit.message, row=hit.row,
        split=hit.split, path=hit.path, details=hit.details, transform=hit.transform,
    )


def _run(checks: Iterable[Check], kind: Kind, context: Context, settings: Settings) -> list[Finding]:
    found: list[Finding] = []
    for check in (c for c in checks if c.kind is kind):
        options = check.resolved_options(settings.thresholds)
        found.extend(stamp(check, hit, settings) for hit in check.evaluate(context, options))
    return found


def _identified(findings: list[Finding], rows: Sequence[RowFacts]) -> list[Finding]:
    identities = {r.row: r.identity for r in rows}
    return [replace(f, row_id=identities.get(f.row)) if f.row is not None else f for f in findings]


def judge_rows(rows: Sequence[RowFacts], settings: Settings, has_splits: bool) -> list[Finding]:
    """The findings of every check that needs only its own row, over some rows of a manifest."""
    context = Context(rows, settings, has_splits)
    return _identified(_run(active_checks(settings), Kind.ROW, context, settings), rows)


def judge(rows: Sequence[RowFacts], settings: Settings, has_splits: bool, root: DataRoot | None = None,
          row_findings: Sequence[Finding] | None = None) -> Judgement:
    """Checks across rows, then the kept rows (dropped: every row with an error, and --drop), then the split
    checks over those. ``row_findings`` are judge_rows' findings over every row; without them they are made
    here."""
    context = Context(rows, settings, has_splits, root=root)
    checks = active_checks(settings)
    findings = list(row_findings) if row_findings is not None else judge_rows(rows, settings, has_splits)
    findings.extend(_identified(_run(checks, Kind.KEYS, context, settings), rows))
    dropped = frozenset(
        f.row for f in findings
        if f.row is not None and (f.severity is Severity.ERROR or f.check in settings.drop)
    )
    kept = frozenset(r.row for r in rows) - dropped
    context = context.with_kept(kept)
    findings.extend(_identified(_run(checks, Kind.SPLIT, context, settings), rows))
    findings.sort(key=sort_key)
    return Judgement(tuple(findings), dropped, context)


def sort_key(finding: Finding) -> tuple[int, int, str, str]:
    return (-finding.severity, finding.row if finding.row is not None else -1, finding.code, finding.message)
