"""The public entry point: ``maskaudit.audit(manifest, ...)`` returns the report."""

from __future__ import annotations

import contextlib
import os
import sys
from collections import deque
from collections.abc import Container, Iterator, Mapping, Sequence
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray
from tqdm import tqdm

from maskaudit import storage
from maskaudit.baseline import Key
from maskaudit.cache import FactsCache, RunStats
from maskaudit.checks.context import Context
from maskaudit.data_root import DataRoot
from maskaudit.engines.local import map_ordered
from maskaudit.errors import OutputNotWritten, UsageError, written
from maskaudit.facts_columns import FactsStore, facts_schema
from maskaudit.findings import Finding
from maskaudit.findings_file import FindingsSource, read_findings
from maskaudit.findings_stream import FindingsStream
from maskaudit.judge import Reduction, stream_order
from maskaudit.limits import Limits
from maskaudit.manifest import Columns, Manifest, detect_columns, open_manifest
from maskaudit.partitions import PartitionResult, iter_tasks, known_partition, map_partition, partition_rows
from maskaudit.report import DEFAULT_EXAMPLES, ManifestInfo, Report, SplitSummary, checks_ran
from maskaudit.settings import FailOn, Settings, check_mask_value

if TYPE_CHECKING:
    from maskaudit.replay.run import PreparedReplay

@dataclass(frozen=True)
class AuditRun:
    """A finished audit: the report (counts and the first examples of each check), where every finding is, and
    what the CLI needs to write the other outputs. ``dropped`` holds the dropped rows' numbers, ascending."""

    report: Report
    findings_file: FindingsSource
    manifest: Manifest
    columns: Columns
    facts: FactsStore
    rows: int
    dropped: NDArray[np.int64]
    context: Context
    replay_thumbnails: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    cache: RunStats | None = None  # what the scan took from the facts cache; None when it ran without one

    def iter_findings(self) -> Iterator[Finding]:
        """Every finding of the run, read back from the findings file a batch at a time: row findings by row,
        then the findings across rows, then the split and pipeline findings."""
        return read_findings(self.findings_file)

    def kept(self) -> NDArray[np.bool_]:
        """Whether each row (by number) is kept in the filtered manifest."""
        return kept_rows(self.rows, self.dropped)


def kept_rows(rows: int, dropped: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Whether each of ``rows`` rows (by number) is kept, given the dropped rows' numbers."""
    keep = np.ones(rows, dtype=bool)
    keep[dropped] = False
    return keep


class FactsWriter:
    """Writes partitions' facts to the facts file as they come (or nowhere, without a file), on a thread of its
    own: encoding a batch releases the interpreter, so it overlaps the waiting for the next partition. At most
    WRITES_AHEAD batches wait to be written. Its errors are OutputNotWritten, raised by the next write or at
    the end."""

    def __init__(self, path: Path | None) -> None:
        self._writer = None if path is None else written(
            lambda: pq.ParquetWriter(path, facts_schema(), compression="zstd"))
        self._thread = ThreadPoolExecutor(1, "facts-writer") if self._writer is not None else None
        self._pending: deque[Future[None]] = deque()

    def write(self, batch: pa.RecordBatch) -> None:
        if self._writer is None or self._thread is None:
            return
        writer = self._writer
        self._pending.append(self._thread.submit(written, lambda: writer.write_batch(batch)))
        while len(self._pending) > WRITES_AHEAD or (self._pending and self._pending[0].done()):
            self._pending.popleft().result()

    def __enter__(self) -> FactsWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self._writer is None or self._thread is None:
            return
        writer, thread, pending = self._writer, self._thread, self._pending
        self._writer, self._thread = None, None
        try:
            if kind is None:
                while pending:
                    pending.popleft().result()
                written(writer.close)
        except BaseException:
            kind = OutputNotWritten
            raise
        finally:
            if kind is not None:  # the scan failed, or a write did: what is written is left, unfinished
                for future in pending:
                    future.cancel()
                with contextlib.suppress(Exception):
                    futures.wait(pending)
                    writer.close()
            thread.shutdown(wait=True)


WRITES_AHEAD = 4


ENGINES = ("local", "dask")
AT_ONCE_ROWS = 20_000  # about the unchanged rows the scanning process judges from the cache before a pool pays


def scan_partitions(manifest: Manifest, columns: Columns, root: Path | str, settings: Settings, workers: int,
                    limits: Limits = Limits(), progress: bool = False, cache: FactsCache | None = None,
                    engine: str = "local", scheduler: str | None = None) -> Iterator[PartitionResult]:
    """Every partition of the manifest mapped in manifest order, with a progress bar of rows done of the total
    when asked for: on ``workers`` local processes, or on a Dask cluster (the one at ``scheduler``, else a local
    one of ``workers`` processes)."""
    total = manifest.row_count()
    shift = manifest.kind == "shards"  # each shard's rows come numbered from 0
    done = 0
    with tqdm(total=total, unit="row", disable=not progress, file=sys.stderr, dynamic_ncols=True) as bar:
        if engine == "dask":
            from maskaudit.engines import dask  # the extra is imported only when asked for

            with dask.open_client(scheduler, workers) as client:
                slots = dask.worker_slots(client)
                tasks = iter_tasks(manifest, columns, root, limits, settings, partition_rows(total, slots), cache)
                for result in dask.map_ordered(client, map_partition, tasks, slots):
                    bar.update(result.size)
                    yield result.shifted(done) if shift else result
                    done += result.size
            return
        tasks = iter_tasks(manifest, columns, root, limits, settings, partition_rows(total, workers), cache)
        preload = storage.backend_modules([os.fspath(root), *manifest.parts])
        for result in map_ordered(map_partition, tasks, workers, known_partition if cache is not None else None,
                                  preload, pool_likely=cache is None or total >= AT_ONCE_ROWS):
            bar.update(result.size)
            yield result.shifted(done) if shift else result
            done += result.size


def default_workers() -> int:
    """The cores this process may use: the most worker processes a scan starts."""
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
    facts_file: Path | None = None,
    findings_file: Path | None = None,
    baseline: Container[Key] | None = None,
    replay: PreparedReplay | None = None,
    engine: str = "local",
    scheduler: str | None = None,
) -> AuditRun:
    """Scan and judge a manifest. Worker processes are capped at the usable cores; config names the file used;
    the report holds the first ``examples`` findings of each check; the facts are written to ``facts_file``
    partition by partition as they come, when given.

    Every finding is written to ``findings_file`` as it is made (without one, to a compressed file held in
    memory); ``AuditRun.iter_findings()`` reads them back. A finding whose identity ``baseline`` holds (see
    maskaudit.baseline.load_baseline) is marked baselined. With a prepared ``replay``, the training pipeline is
    replayed over kept rows and its findings join the rest.

    With a cache, unchanged files are not read again and known content is not decoded again; the facts are the
    same either way, and the judgement is always made afresh.

    ``engine`` is "local" (worker processes here) or "dask" (a Dask cluster: the one at ``scheduler`` or
    DASK_SCHEDULER_ADDRESS, else a local one started for the scan); the results are the same.
    """
    settings = settings or Settings()
    if engine not in ENGINES:
        raise UsageError(f"engine={engine!r}: give one of {', '.join(ENGINES)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise UsageError(f"workers={workers!r}: give a positive number of worker processes")
    manifest = open_manifest(manifest_path)
    chosen = detect_columns(manifest, columns or {})
    base = os.fspath(root) if root is not None else manifest.base
    used = min(workers or default_workers(), default_workers())
    reduction = Reduction(manifest.row_count())
    held: list[pa.RecordBatch] = []  # without a facts file, the facts stay in memory
    rows = 0
    with FindingsStream(findings_file, examples, baseline) as found:
        with FactsWriter(facts_file) as writer:
            for result in scan_partitions(manifest, chosen, base, settings, used, limits, progress, cache, engine,
                                          scheduler):
                if facts_file is None:
                    held.append(result.facts)
                writer.write(result.facts)
                found.add(sorted(result.findings, key=stream_order))
                reduction.add(result)
                rows += result.size
        cache_stats = cache.close() if cache is not None else None
        facts = FactsStore(facts_file) if facts_file is not None else FactsStore.of(held)
        reduced = reduction.judge(settings, chosen.split is not None,
                                  DataRoot(storage.normalise(base) if storage.is_remote(base)
                                           else os.path.normpath(os.path.abspath(base)), declared=root is not None),
                                  facts, found.add)
        kept = reduced.context.kept_stats
        stats = {name: SplitSummary.of(s, kept[name].rows)
                 for name, s in reduced.context.by_split_stats().items()}
        report = Report(
            manifest=ManifestInfo(
                path=os.fspath(manifest_path), format=manifest.kind, rows=rows,
                content_hash=manifest.content_hash(), columns=chosen.to_dict(), root=str(base),
                config=str(config) if config is not None else None,
            ),
            settings={**settings.to_dict(), "max_file_bytes": limits.max_file_bytes,
                      "max_pixels": limits.max_pixels, "cache": cache is not None},
            rows_kept=rows - len(reduced.dropped),
            rows_dropped=len(reduced.dropped),
            splits=stats,
            examples_per_check=examples,
            ran=checks_ran(settings, pipeline=False),
            fail_on=settings.fail_on,
            notes=run_notes(workers, used, chosen, base, config),
        )
        thumbnails: Mapping[str, Mapping[str, Any]] = {}
        if replay is not None:
            from maskaudit.replay.run import replay_audit  # the replay (and albumentations) only when asked for

            replayed = replay_audit(facts, kept_rows(rows, reduced.dropped), str(base), settings, replay,
                                    manifest)
            found.add(replayed.findings)
            report = replace(report, pipeline=replayed.section, ran=checks_ran(settings, pipeline=True))
            thumbnails = replayed.thumbnails
        source = found.close()
    return AuditRun(report.with_tally(found.tally), source, manifest, chosen, facts, rows, reduced.dropped,
                    reduced.context, thumbnails, limits, cache_stats)


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
    engine: str = "local",
    scheduler: str | None = None,
) -> Report:
    """Scan a manifest and the files it points to; return the report. Writes nothing but the facts cache, kept
    only when cache_dir names its folder.

    The manifest, root and row paths may be URLs (s3://, gs://, az://, https://); storage_options go to their
    filesystem (endpoint_url, anon, ...), io_concurrency bounds the requests in flight.

    Rows are measured in worker processes (``workers``, default the usable cores) started from a fork server:
    a script calling this must guard its entry point with ``if __name__ == "__main__":``. With
    ``engine="dask"`` they are mapped on the Dask cluster at ``scheduler`` (or a local one), same results.
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
        engine=engine, scheduler=scheduler,
    ).report


def _fail_on(text: str) -> FailOn:
    try:
        return FailOn(text)
    except ValueError:
        raise UsageError(f"fail_on={text!r}: use one of {', '.join(f.value for f in FailOn)}") from None
