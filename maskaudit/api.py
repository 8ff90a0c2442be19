"""The public entry point: ``maskaudit.audit(manifest, ...)`` returns the report."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maskaudit.checks.context import Context
from maskaudit.facts import RowFacts
from maskaudit.judge import judge
from maskaudit.manifest import Columns, Manifest, detect_columns, open_manifest
from maskaudit.report import ManifestInfo, Report
from maskaudit.scan import iter_specs, scan_rows
from maskaudit.settings import FailOn, Settings


@dataclass(frozen=True)
class AuditRun:
    """A finished audit: the report, plus what the CLI needs to write the other outputs."""

    report: Report
    manifest: Manifest
    columns: Columns
    facts: Sequence[RowFacts]
    dropped: frozenset[int]
    context: Context
    replay_thumbnails: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_audit(
    manifest_path: Path,
    settings: Settings | None = None,
    *,
    root: Path | None = None,
    columns: dict[str, str | None] | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> AuditRun:
    settings = settings or Settings()
    manifest = open_manifest(manifest_path)
    chosen = detect_columns(manifest, columns or {})
    base = root if root is not None else (manifest_path if manifest_path.is_dir() else manifest_path.parent)
    facts = scan_rows(iter_specs(manifest, chosen), base, workers or default_workers(), progress=progress,
                      total=manifest.row_count() if progress else None)
    judgement = judge(facts, settings, has_splits=chosen.split is not None)
    stats = {name: s.to_dict() for name, s in judgement.context.by_split_stats().items()}
    for name, kept in judgement.context.kept_stats.items():
        stats[name]["rows_kept"] = kept.rows
    report = Report(
        manifest=ManifestInfo(
            path=str(manifest_path), format=manifest.kind, rows=len(facts),
            content_hash=manifest.content_hash(), columns=chosen.to_dict(), root=str(base),
        ),
        settings=settings.to_dict(),
        findings=judgement.findings,
        rows_kept=len(facts) - len(judgement.dropped),
        rows_dropped=len(judgement.dropped),
        splits=stats,
        fail_on=settings.fail_on.value,
    )
    return AuditRun(report, manifest, chosen, facts, judgement.dropped, judgement.context)


def audit(
    manifest: str | os.PathLike[str],
    *,
    labels: Sequence[int] | None = None,
    ignore_index: int | None = None,
    root: str | os.PathLike[str] | None = None,
    columns: dict[str, str | None] | None = None,
    fail_on: str = "error",
    workers: int | None = None,
    settings: Settings | None = None,
) -> Report:
    """Scan a manifest and the files it points to; return the report. Writes nothing."""
    if settings is None:
        settings = Settings(
            labels=tuple(labels) if labels is not None else None,
            ignore_index=ignore_index,
            fail_on=FailOn(fail_on),
        )
    return run_audit(
        Path(manifest), settings, root=Path(root) if root is not None else None, columns=columns,
        workers=workers,
    ).report
