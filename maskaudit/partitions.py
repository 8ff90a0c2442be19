"""A manifest cut into partitions of rows, and the map over one partition.

``map_partition`` is a pure function of its task: the task and the result hold only plain columns, frozen
dataclasses and Arrow batches, so any engine can ship them between processes or machines.
"""

from __future__ import annotations

import itertools
import os
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from maskaudit import shards, storage
from maskaudit.aggregates import Aggregates, build_aggregates
from maskaudit.cache import STATUS_DTYPE, FactsCache
from maskaudit.collection import collection_paused
from maskaudit.facts import ProblemKind, RowFacts
from maskaudit.facts_columns import facts_batch, rows_of
from maskaudit.findings import Finding
from maskaudit.interning import shared
from maskaudit.judge import dropping, judge_rows
from maskaudit.keys import Keys, build_keys
from maskaudit.limits import Limits
from maskaudit.loading import plainly_relative, resolve
from maskaudit.manifest import Columns, Manifest, iter_batches, iter_row_groups, open_binary, parse_flag
from maskaudit.native_stderr import native_stderr_silenced
from maskaudit.scan import (
    Lookup,
    RowSpec,
    find_chunk,
    known_chunk,
    measure_chunk,
    measure_more_masks,
    reads_objects,
    specs_of,
)
from maskaudit.settings import Settings
from maskaudit.storage import Status

MIN_PARTITION_ROWS = 64
MAX_PARTITION_ROWS = 2048
PARTITIONS_PER_WORKER = 8  # enough that the last partitions finish together


CHUNK_ROWS = 32  # files fetched together: objects in a store with many requests in flight
NO_FILE = (-1, -1, -1, 0, 0)  # a partition entry's status for a row without that path


def partition_rows(total: int, workers: int) -> int:
    """Rows per partition: several partitions per worker so they finish together, few enough that per-partition
    costs stay small, and bounded so a partition's facts stay small in memory."""
    share = -(-total // max(1, workers * PARTITIONS_PER_WORKER))
    return max(MIN_PARTITION_ROWS, min(MAX_PARTITION_ROWS, share))


@dataclass(frozen=True)
class RowGroups:
    """Row groups ``first`` to ``stop`` (excluded) of one part of a manifest that holds its files: the worker
    reads them itself, so the files' bytes never pass through the parent. ``offset`` is the first row's number
    in the whole manifest."""

    manifest: Manifest
    columns: Columns
    part: str
    first: int
    stop: int
    offset: int
    rows: int

    def specs(self) -> Iterator[RowSpec]:
        batches = iter_row_groups(self.manifest, self.part, self.first, self.stop, self.columns.selected())
        return specs_of(batches, self.columns, self.offset, self.manifest.name)


@dataclass(frozen=True)
class Shard:
    """One shard of a shard dataset: the partition a worker streams for itself, its rows numbered from 0."""

    location: str
    image_ext: str
    mask_ext: str
    limits: Limits

    def specs(self) -> Iterator[RowSpec]:
        """The shard's rows in member order. A member is read only when it is the row's image or mask, bounded by
        the file size limit; a shard cut short ends with its last row (the cut member empty) or a row naming
        the cut, so the scan reports it and goes on."""
        name = shards.shard_name(self.location)
        key: str | None = None
        files: dict[str, tuple[str, bytes]] = {}
        position = 0

        def row() -> RowSpec:
            image = files.get(self.image_ext)
            mask = files.get(self.mask_ext)
            return RowSpec(position, image[0] if image else None, mask[0] if mask else None,
                           None, None, None, f"{name}:{key}", image[1] if image else None,
                           mask[1] if mask else None)

        member_name = shards.TRUNCATED
        try:
            with shards.open_stream(self.location) as tar:
                for member in tar:
                    member_name = member.name
                    if not member.isfile():
                        continue
                    member_key, extension = shards.split_name(member.name)
                    if member_key != key:
                        if key is not None:
                            yield row()
                            position += 1
                        key, files = member_key, {}
                    extension = extension.lower()
                    if extension in (self.image_ext, self.mask_ext):
                        files[extension] = (f"{name}:{member.name}",
                                             shards.read_member(tar, member, self.limits.max_file_bytes))
                    member_name = shards.TRUNCATED
                if shards.cut_at_header(tar):
                    raise tarfile.ReadError("unexpected end of data")
        except (tarfile.TarError, OSError, EOFError):
            cut = shards.split_name(member_name)[0] if member_name != shards.TRUNCATED else None
            if cut is not None and cut == key:
                files[shards.split_name(member_name)[1].lower()] = (f"{name}:{member_name}", b"")
            else:
                if key is not None:
                    yield row()
                    position += 1
                key, files = member_name, {self.image_ext: (f"{name}:{member_name}", b"")}
        if key is not None:
            yield row()


@dataclass(frozen=True)
class PartitionTask:
    """Consecutive rows of a manifest, as plain columns (or, when the manifest holds its files, the row groups
    that hold them), and everything needed to measure and judge them."""

    offset: int
    images: tuple[str | None, ...]
    masks: tuple[str | None, ...]
    splits: tuple[str | None, ...]
    flags: tuple[bool | None, ...]
    groups: tuple[str | None, ...]
    ids: tuple[str | None, ...]
    root: str
    limits: Limits
    settings: Settings
    has_splits: bool
    cache: FactsCache | None = None  # opened lazily in whichever process maps the partition
    storage: tuple[dict[str, Any], int] = field(default_factory=storage.configuration)
    row_groups: RowGroups | None = None
    shard: Shard | None = None

    @property
    def size(self) -> int:
        """The partition's rows: unknown (0) for a shard until it is read."""
        return self.row_groups.rows if self.row_groups is not None else len(self.images)

    def specs(self) -> Iterator[RowSpec]:
        if self.shard is not None:
            yield from self.shard.specs()
            return
        if self.row_groups is not None:
            yield from self.row_groups.specs()
            return
        for i in range(self.size):
            yield RowSpec(self.offset + i, self.images[i], self.masks[i], self.splits[i], self.flags[i],
                          self.groups[i], self.ids[i])


@dataclass(frozen=True)
class PartitionResult:
    """A partition's facts as one Arrow batch (what the facts file holds), the findings of the checks that need
    only their own row, the rows' keys and the partition's aggregates for the checks across rows."""

    facts: pa.RecordBatch
    findings: tuple[Finding, ...]
    keys: Keys
    aggregates: Aggregates

    @property
    def size(self) -> int:
        return self.keys.size

    def shifted(self, by: int) -> PartitionResult:
        """The same result with every row number ``by`` more: a shard numbers its rows from 0, since how many
        rows the shards before it hold is known only once they are read."""
        if by == 0:
            return self
        index = self.facts.schema.get_field_index("row")
        facts = self.facts.set_column(index, "row", pc.add(self.facts.column(index), by))
        findings = tuple(replace(f, row=f.row + by) if f.row is not None else f for f in self.findings)
        keys = replace(self.keys, row=self.keys.row + by)
        outside = tuple((row + by, role, path, target) for row, role, path, target in self.aggregates.outside)
        return PartitionResult(facts, findings, keys, replace(self.aggregates, outside=outside))


def iter_tasks(manifest: Manifest, columns: Columns, root: Path | str, limits: Limits, settings: Settings,
               size: int, cache: FactsCache | None = None) -> Iterator[PartitionTask]:
    """The manifest's rows in partitions of ``size`` rows, in manifest order; a manifest that holds its files
    in whole row groups, about ``size`` rows a partition."""
    has_splits = columns.split is not None
    if manifest.kind == "shards":  # one partition a shard, streamed by its worker
        for location in manifest.parts:
            yield PartitionTask(0, (), (), (), (), (), (), str(root), limits, settings, has_splits, cache,
                                shard=Shard(location, columns.image, columns.mask, limits))
        return
    if manifest.embedded:
        for groups in iter_row_group_ranges(manifest, columns, size):
            yield PartitionTask(groups.offset, (), (), (), (), (), (), str(root), limits, settings, has_splits, cache,
                                row_groups=groups)
        return
    # a manifest of paths: its columns are cut into partitions as they are, with no record a row
    names = (columns.image, columns.mask, columns.split, columns.flag, columns.group, columns.id)
    held: list[list[Any]] = [[] for _ in names]
    splits: dict[str, str] = {}  # a split name repeats on every row: keep one instance of each
    offset = 0
    for batch in iter_batches(manifest, columns.selected()):
        count = len(next(iter(batch.values()))) if batch else 0
        for column, name in zip(held, names, strict=True):
            column.extend(batch[name] if name is not None else itertools.repeat(None, count))
        start = 0
        while len(held[0]) - start >= size:
            yield _task(offset, [column[start:start + size] for column in held], splits, root, limits, settings,
                        has_splits, cache)
            start += size
            offset += size
        held = [column[start:] for column in held]
    if held[0]:
        yield _task(offset, held, splits, root, limits, settings, has_splits, cache)


def iter_row_group_ranges(manifest: Manifest, columns: Columns, size: int) -> Iterator[RowGroups]:
    """Consecutive row groups of each part, as few as make ``size`` rows (one at least), from the footers."""
    offset = 0
    for part in manifest.parts:
        with open_binary(part) as handle:
            metadata = pq.ParquetFile(handle).metadata
        first, rows = 0, 0
        for group in range(metadata.num_row_groups):
            rows += metadata.row_group(group).num_rows
            if rows >= size or group == metadata.num_row_groups - 1:
                yield RowGroups(manifest, columns, part, first, group + 1, offset, rows)
                offset += rows
                first, rows = group + 1, 0


def _task(offset: int, held: list[list[Any]], splits: dict[str, str], root: Path | str, limits: Limits,
          settings: Settings, has_splits: bool, cache: FactsCache | None) -> PartitionTask:
    """A partition of a manifest of paths from its columns: image, mask, split, flag, group, id."""
    images, masks, split, flags, groups, ids = held
    return PartitionTask(
        offset=offset, images=tuple(images), masks=tuple(masks),
        splits=tuple(shared(splits, s) if s is not None else None for s in split),
        flags=tuple(parse_flag(f) for f in flags), groups=tuple(groups), ids=tuple(ids), root=str(root),
        limits=limits, settings=settings, has_splits=has_splits, cache=cache,
    )


def map_partition(task: PartitionTask) -> PartitionResult:
    """Measure every row of the partition (decoder messages on descriptor 2 silenced) and judge each row."""
    storage.configure(*task.storage)  # a worker process starts with the defaults
    key = _entry_key(task)
    known = _from_entry(task, key)
    if known is not None:
        return known
    rows: list[RowFacts] = []
    images: list[Status | None] = []
    masks: list[Status | None] = []
    with native_stderr_silenced():
        # a chunk's files are fetched together, then decoded; embedded files are held a chunk at a time. From a
        # store, the next chunk's requests are sent before this one is decoded, so its latency passes while the
        # CPU decodes: at most two chunks of bytes held
        specs = task.specs()
        ahead = task.shard is None and reads_objects(task.root, itertools.chain(task.images, task.masks))

        def next_chunk() -> tuple[list[RowSpec], Lookup | None]:
            chunk = list(itertools.islice(specs, CHUNK_ROWS))
            return chunk, find_chunk(chunk, task.root, task.limits) if ahead and chunk else None

        more: list[RowFacts] = []
        chunk, lookup = next_chunk()
        while chunk:
            following = next_chunk() if ahead else None
            measured = measure_chunk(chunk, task.root, task.limits, task.cache, lookup)
            rows.extend(measured.rows)
            images.extend(measured.statuses[:len(chunk)])
            masks.extend(measured.statuses[len(chunk):])
            for spec, facts in zip(chunk, measured.rows, strict=True):
                more.extend(measure_more_masks(spec, facts, task.root, task.limits, task.cache))
            chunk, lookup = following or next_chunk()
    result = judge_partition(rows, task.settings, task.has_splits, more)
    _keep(task, key, rows, images + masks, result.facts)
    if task.cache is not None:
        task.cache.flush()
    return result


def known_partition(task: PartitionTask) -> PartitionResult | None:
    """The partition's result when the cache knows every file of it unchanged, which costs a status a file and
    one lookup, nothing read: what the scanning process can give at once, with no worker. None otherwise."""
    if task.cache is None or task.row_groups is not None or task.shard is not None:
        return None
    key = _entry_key(task)
    known = _from_entry(task, key)
    if known is not None:
        return known
    measured = known_chunk(list(task.specs()), task.root, task.limits, task.cache)
    if measured is None:
        return None
    result = judge_partition(measured.rows, task.settings, task.has_splits)
    _keep(task, key, measured.rows, measured.statuses, result.facts)
    task.cache.flush()
    return result


def _entry_key(task: PartitionTask) -> str | None:
    """The key of the partition's entry in the facts cache: None when it can have none (no cache; its files in
    a store, in the manifest or in a shard)."""
    if task.cache is None or task.row_groups is not None or task.shard is not None \
            or reads_objects(task.root, itertools.chain(task.images, task.masks)):
        return None
    root = os.path.abspath(task.root)  # outside-root paths are made absolute against it
    return task.cache.partition_key(task.limits, root, task.offset, task.images, task.masks, task.splits,
                                    task.flags, task.groups, task.ids)


def _from_entry(task: PartitionTask, key: str | None) -> PartitionResult | None:
    """The partition judged from its cache entry (``key``, from _entry_key), when every file's status is the
    one the entry holds."""
    if key is None:
        return None
    assert task.cache is not None
    with collection_paused():  # nothing is decoded here: the statuses, the facts and the judging are records
        facts = task.cache.known_partition(key, lambda: _statuses_now(task))
        if facts is None:
            return None
        task.cache.flush()
        return judge_partition(rows_of(facts), task.settings, task.has_splits, facts=facts)


def _statuses_now(task: PartitionTask) -> NDArray[np.void] | None:
    """Each file's status now (the images', then the masks'; -1 for a row without a path), as the partition
    entries hold them; None when a file cannot be found."""
    root = os.fspath(task.root)
    prefix = os.path.join(root, "")
    records: list[tuple[int, int, int, int, int]] = []
    for path in itertools.chain(task.images, task.masks):
        if path is None:
            records.append(NO_FILE)
            continue
        try:
            info = os.stat(prefix + path if plainly_relative(path) else resolve(path, root))
        except (OSError, ValueError):
            return None
        records.append((info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev))
    return np.array(records, STATUS_DTYPE)


def _keep(task: PartitionTask, key: str | None, rows: Sequence[RowFacts], statuses: Sequence[Status | None],
          facts: pa.RecordBatch) -> None:
    """Store the partition's entry under ``key`` (from _entry_key) when every row's files were found and
    measured (a row without a path aside) and every file's status is trusted."""
    if key is None:
        return
    assert task.cache is not None
    whole = len(statuses) == 2 * len(rows) and all(
        (problem is None or problem.kind is ProblemKind.MISSING_PATH)
        for row in rows for problem in (row.image_problem, row.mask_problem))
    paths = [*task.images, *task.masks]
    if whole and all((status is not None) == (path is not None) for status, path in zip(statuses, paths, strict=True)):
        found = np.array([NO_FILE if status is None else
                          (status.size, status.mtime_ns, status.ctime_ns, status.inode, status.device)
                          for status in statuses], STATUS_DTYPE)
        task.cache.store_partition(key, found, facts)


def judge_partition(rows: Sequence[RowFacts], settings: Settings, has_splits: bool,
                    more_masks: Sequence[RowFacts] = (), facts: pa.RecordBatch | None = None) -> PartitionResult:
    """What the map makes of measured rows: their facts batch (``facts``, when it is at hand), row findings,
    keys and aggregates. A row's further masks (``more_masks``: the row with another of its masks) add the
    findings that name that mask."""
    with collection_paused():
        return _judged(rows, settings, has_splits, more_masks, facts)


def _judged(rows: Sequence[RowFacts], settings: Settings, has_splits: bool, more_masks: Sequence[RowFacts],
            facts: pa.RecordBatch | None) -> PartitionResult:
    findings = judge_rows(rows, settings, has_splits)
    if more_masks:
        paths = {(row.row, row.mask_path) for row in more_masks}
        findings = sorted([*findings, *(f for f in judge_rows(more_masks, settings, has_splits)
                                        if (f.row, f.path) in paths)], key=lambda f: f.row or 0)
    dropped = frozenset(f.row for f in findings if f.row is not None and dropping(f, settings))
    ignore_index = None if settings.ignore_index is None else float(settings.ignore_index)
    splits: dict[str, int] = {}
    kinds: dict[tuple[str, int, str], int] = {}
    keys = build_keys(rows, splits, kinds, ignore_index, settings.labels, dropped, has_splits)
    aggregates = build_aggregates(rows, keys, tuple(splits), tuple(kinds), ignore_index, settings.labels)
    return PartitionResult(facts if facts is not None else facts_batch(rows), tuple(findings), keys, aggregates)
