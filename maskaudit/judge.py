"""Run the registered checks and decide which rows are kept.

Row checks run in the map, one partition at a time (``judge_rows``); the reduce (``Reduction``) merges the
partitions' results, runs the checks across rows over their keys, decides the kept rows from every error (and
--drop), then judges the splits over the kept rows. The pipeline checks judge a replay's facts
(``judge_pipeline``), through the same selection and stamping.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from maskaudit.aggregates import Merged
from maskaudit.checks.base import Check, Kind
from maskaudit.checks.context import Context
from maskaudit.checks.registry import all_checks
from maskaudit.data_root import DataRoot
from maskaudit.facts import RowFacts
from maskaudit.facts_columns import FactsStore
from maskaudit.findings import Finding, Hit, Severity
from maskaudit.keys import KeysBuffer
from maskaudit.replay.facts import ReplayFacts
from maskaudit.settings import Settings

if TYPE_CHECKING:
    from maskaudit.partitions import PartitionResult


@dataclass(frozen=True)
class Judgement:
    findings: tuple[Finding, ...]
    dropped: frozenset[int]
    context: Context


@dataclass(frozen=True)
class Reduced:
    """What the reduce decided: the dropped rows' numbers (ascending) and the context the split checks saw."""

    dropped: NDArray[np.int64]
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


def stamp(check: Check, hit: Hit, settings: Settings, row_id: str | None = None) -> Finding:
    severity = settings.severities.get(check.name) or hit.severity or check.severity
    return Finding(
        code=check.code, check=check.name, severity=severity, message=hit.message, row=hit.row,
        split=hit.split, path=hit.path, details=hit.details, transform=hit.transform, row_id=row_id,
    )


def _run(checks: Iterable[Check], kind: Kind, context: Context | ReplayFacts, settings: Settings) -> list[Finding]:
    found: list[Finding] = []
    for check in (c for c in checks if c.kind is kind):
        options = check.resolved_options(settings.thresholds)
        found.extend(stamp(check, hit, settings) for hit in check.evaluate(context, options))
    return found


def judge_rows(rows: Sequence[RowFacts], settings: Settings, has_splits: bool) -> list[Finding]:
    """The findings of every check that needs only its own row, over some rows of a manifest, each stamped with
    its row's identity."""
    context = Context(settings, has_splits, rows=rows)
    by_number: dict[int, RowFacts] | None = None  # made at the first finding on a row
    found: list[Finding] = []
    for check in (c for c in active_checks(settings) if c.kind is Kind.ROW):
        options = check.resolved_options(settings.thresholds)
        for hit in check.evaluate(context, options):
            row_id = None
            if hit.row is not None:
                if by_number is None:
                    by_number = {r.row: r for r in rows}
                row = by_number.get(hit.row)
                row_id = row.identity if row is not None else None
            found.append(stamp(check, hit, settings, row_id))
    return found


def judge_pipeline(replay: ReplayFacts, settings: Settings) -> list[Finding]:
    """The findings of the pipeline checks over what a replay of the training pipeline measured."""
    return sorted(_run(active_checks(settings), Kind.PIPELINE, replay, settings), key=sort_key)


def dropping(finding: Finding, settings: Settings) -> bool:
    """Whether a finding drops its row from the filtered manifest: an error, or a check named by --drop."""
    return finding.severity is Severity.ERROR or finding.check in settings.drop


class Reduction:
    """Partition results merged as they come, in partition order: the keys (with split and image-kind numbers
    made global) and the aggregates. Holds nothing else per row: the partitions' findings go to the run's
    findings stream, not here."""

    def __init__(self, expected_rows: int = 0) -> None:
        self._merged = Merged()
        self._keys = KeysBuffer(expected_rows)

    def add(self, result: PartitionResult) -> None:
        splits, kinds = self._merged.add(result.aggregates)
        self._keys.append(result.keys.renumbered(np.array(splits, np.int32), np.array(kinds, np.int32)))

    def judge(self, settings: Settings, has_splits: bool, root: DataRoot | None, facts: FactsStore,
              emit: Callable[[list[Finding]], None]) -> Reduced:
        """Checks across rows, then the kept rows (dropped: every row with an error, and --drop), then the split
        checks over those; their findings go to ``emit`` a bounded batch at a time, in check order."""
        keys = self._keys.keys()
        context = Context(settings, has_splits, root, keys=keys, aggregates=self._merged.result(), facts=facts)
        checks = active_checks(settings)
        gone = keys.dropped.copy()  # dropped by a check of the row's own in the map
        late: list[int] = []
        for found in _batches(checks, Kind.KEYS, context, settings):
            identities = facts.rows(f.row for f in found if f.row is not None)
            found = [replace(f, row_id=identities[f.row].identity) if f.row is not None else f for f in found]
            late.extend(f.row for f in found if f.row is not None and dropping(f, settings))
            emit(found)
        if late:
            gone |= np.isin(keys.row, np.array(late, np.int64))
        context = context.with_kept(~gone)
        for found in _batches(checks, Kind.SPLIT, context, settings):
            emit(found)
        return Reduced(np.sort(keys.row[gone]).astype(np.int64), context)


EMIT_BATCH = 16_384
"""Findings the reduce hands on at a time: a check across rows may find something on every row."""


def _batches(checks: Iterable[Check], kind: Kind, context: Context, settings: Settings) -> Iterator[list[Finding]]:
    for check in (c for c in checks if c.kind is kind):
        options = check.resolved_options(settings.thresholds)
        hits = iter(check.evaluate(context, options))
        while found := [stamp(check, hit, settings) for hit in itertools.islice(hits, EMIT_BATCH)]:
            yield found


def judge(rows: Sequence[RowFacts], settings: Settings, has_splits: bool, root: DataRoot | None = None) -> Judgement:
    """The map and the reduce over facts already measured, as one partition (rows in ascending row order); every
    finding held and sorted, so only for a few rows."""
    from maskaudit.partitions import judge_partition

    ordered = sorted(rows, key=lambda r: r.row)
    result = judge_partition(ordered, settings, has_splits)
    reduction = Reduction()
    reduction.add(result)
    found = list(result.findings)
    reduced = reduction.judge(settings, has_splits, root, FactsStore.of([result.facts]), found.extend)
    return Judgement(tuple(sorted(found, key=sort_key)), frozenset(reduced.dropped.tolist()), reduced.context)


def stream_order(finding: Finding) -> tuple[int, int, str, str]:
    """The order of a partition's row findings in the findings file: by row, then as ``sort_key``. Partitions
    come in row order, so the file's order does not depend on where they were cut."""
    return (finding.row if finding.row is not None else -1, -finding.severity, finding.code, finding.message)


def sort_key(finding: Finding) -> tuple[int, int, str, str]:
    return (-finding.severity, finding.row if finding.row is not None else -1, finding.code, finding.message)
