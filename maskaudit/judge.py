"""Run the registered checks over a manifest's facts and decide which rows are kept."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from maskaudit.checks.base import Check, Stage
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


def judge(rows: Sequence[RowFacts], settings: Settings, has_splits: bool, root: DataRoot | None = None) -> Judgement:
    """Row checks first; their errors (and --drop) decide the kept rows; split checks judge those."""
    context = Context(rows, settings, has_splits, root=root)
    checks = [c for c in active_checks(settings) if c.stage < Stage.PIPELINE]
    findings: list[Finding] = []
    for check in (c for c in checks if c.stage == Stage.ROWS):
        options = check.resolved_options(settings.thresholds)
        findings.extend(stamp(check, hit, settings) for hit in check.evaluate(context, options))
    dropped = frozenset(
        f.row for f in findings
        if f.row is not None and (f.severity is Severity.ERROR or f.check in settings.drop)
    )
    kept = frozenset(r.row for r in rows) - dropped
    context = context.with_kept(kept)
    for check in (c for c in checks if c.stage == Stage.KEPT):
        options = check.resolved_options(settings.thresholds)
        findings.extend(stamp(check, hit, settings) for hit in check.evaluate(context, options))
    identities = {r.row: r.identity for r in rows}
    findings = [replace(f, row_id=identities.get(f.row)) if f.row is not None else f for f in findings]
    findings.sort(key=sort_key)
    return Judgement(tuple(findings), dropped, context)


def sort_key(finding: Finding) -> tuple[int, int, str, str]:
    return (-finding.severity, finding.row if finding.row is not None else -1, finding.code, finding.message)
