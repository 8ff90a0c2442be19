"""The public entry point: ``maskaudit.audit(manifest, ...)`` returns the report."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maskaudit import storage
from maskaudit.cache import FactsCache, RunStats
from maskaudit.checks.context import Context
from maskaudit.data_root import DataRoot
from maskaudit.errors import UsageError
from maskaudit.facts import RowFacts
from maskaudit.findings import Finding
from maskaudit.judge import judge
from maskaudit.limits import Limits
from maskaudit.manifest import Columns, Manifest, detect_columns, open_manifest
from maskaudit.report import DEFAULT_EXAMPLES, ManifestInfo, Report, SplitSummary, checks_ran
from maskaudit.scan import iter_specs, scan_rows
from maskaudit.settings import FailOn, Settings, check_mask_value


@dataclass(frozen=True)
class AuditRun:
    """A finished audit: the report, plus what the CLI needs to write the other outputs."""

    report: Report
    findings: tuple[Finding, ...]
    manifest: Manifest
    columns: Columns
    facts: Sequence[RowFacts]
    dropped: frozenset[int]
    context: Context
    replay_thumbnails: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    cache: RunStats | None = None  # what the scan took from the facts cache; None when it ran without one


def default_workers() -> int:
    """The cores this process may use: the most decoding threads a scan starts."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_notes(
    requested: int | None, used: int, chosen: Columns, root: Path | str, config: Path | None
) -> tuple[str, ...]:
    """What the run decided on the user's behalf that changes what was checked."""
    notes = []
    if requested is not None and requested != used:
        notes.append(f"workers: {requested} requested, {used} used (the usable cores)")
    if chosen.split is None:
        columns = ", ".join(f"{key}={name}" for key, name in chosen.to_dict().items() if name is not None)
        notes.append(f"no split column: leakage checks off; columns used: {columns or 'none'}, root: {root}, "
                     f"configuration: {config if config is not None else 'none'}")
    return tuple(notes)


def run_audit(
    manifest_path: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    columns: dict[str, str | None] | None = None,
    workers: int | None = None,
    progress: bool = False,
    limits: Limits = Limits(),
    config: Path | None = None,
    examples: int = DEFAULT_EXAMPLES,
    cache: FactsCache | None = None,
) -> AuditRun:
    """Scan and judge a manifest. Decoding threads are capped at the usable cores; config names the file used;
    the report holds the first ``examples`` findings of each check.

    With a cache, unchanged files are not read again and known content is not decoded again; the facts are the
    same either way, and the judgement is always made afresh.
    """
    settings = settings or Settings()
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise UsageError(f"workers={workers!r}: give a positive number of decoding threads")
    manifest = open_manifest(manifest_path)
    chosen = detect_columns(manifest, columns or {})
    base = os.fspath(root) if root is not None else manifest.base
    used = min(workers or default_workers(), default_workers())
    facts = scan_rows(iter_specs(manifest, chosen), base, used, progress=progress, limits=limits,
                      total=manifest.row_count() if progress else None, cache=cache)
    cache_stats = cache.close() if cache is not None else None
    judgement = judge(facts, settings, has_splits=chosen.split is not None,
                      root=DataRoot(storage.normalise(base) if storage.is_remote(base)
                                    else os.path.normpath(os.path.abspath(base)), declared=root is not None))
    kept = judgement.context.kept_stats
    stats = {name: SplitSummary.of(s, kept[name].rows)
             for name, s in judgement.context.by_split_stats().items()}
    report = Report(
        manifest=ManifestInfo(
            path=os.fspath(manifest_path), format=manifest.kind, rows=len(facts),
            content_hash=manifest.content_hash(), columns=chosen.to_dict(), root=str(base),
            config=str(config) if config is not None else None,
        ),
        settings={**settings.to_dict(), "max_file_bytes": limits.max_file_bytes, "max_pixels": limits.max_pixels,
                  "cache": cache is not None},
        rows_kept=len(facts) - len(judgement.dropped),
        rows_dropped=len(judgement.dropped),
        splits=stats,
        examples_per_check=examples,
        ran=checks_ran(settings, pipeline=False),
        fail_on=settings.fail_on,
        notes=run_notes(workers, used, chosen, base, config),
    ).with_findings(judgement.findings)
    return AuditRun(report, judgement.findings, manifest, chosen, facts, judgement.dropped, judgement.context,
                    limits=limits, cache=cache_stats)


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
    limits: Limits = Limits(),
    cache_dir: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    io_concurrency: int | None = None,
) -> Report:
    """Scan a manifest and the files it points to; return the report. Writes nothing but the facts cache, kept
    only when cache_dir names its folder.

    The manifest, root and row paths may be URLs (s3://, gs://, az://, https://); storage_options go to their
    filesystem (endpoint_url, anon, ...), io_concurrency bounds the requests in flight.

    Bad arguments raise maskaudit.errors.UsageError, a ValueError.
    """
    storage.configure(storage_options, io_concurrency)
    if settings is None:
        settings = Settings(
            labels=tuple(check_mask_value("labels", v) for v in labels) if labels is not None else None,
            ignore_index=check_mask_value("ignore_index", ignore_index) if ignore_index is not None else None,
            fail_on=_fail_on(fail_on),
        )
    return run_audit(
        manifest, settings, root=root, columns=columns,
        workers=workers, limits=limits, cache=FactsCache(Path(cache_dir)) if cache_dir is not None else None,
    ).report


def _fail_on(text: str) -> FailOn:
    try:
        return FailOn(text)
    except ValueError:
        raise UsageError(f"fail_on={text!r}: use one of {', '.join(f.value for f in FailOn)}") from None
