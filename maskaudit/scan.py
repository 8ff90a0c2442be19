"""Read a manifest's rows and reduce each row to its facts, every file opened and decoded once."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from maskaudit import storage
from maskaudit.cache import ROLES, FactsCache, trusted
from maskaudit.decode import Decoded, sniff
from maskaudit.facts import ImageFacts, MaskFacts, Problem, ProblemKind, RowFacts
from maskaudit.header import PLAIN
from maskaudit.interning import shared
from maskaudit.limits import Limits
from maskaudit.loading import Found, Read, decode, find_many, find_many_begun, outside_root, read_bytes, read_many
from maskaudit.manifest import Batch, Columns, Manifest, iter_batches, parse_flag
from maskaudit.measure import measure_image, measure_mask
from maskaudit.storage import Status


@dataclass(frozen=True, slots=True)
class RowSpec:
    """A manifest row. A file embedded in the manifest comes with its bytes, and its path is then the name
    findings give it: the manifest, the row and the column, ``train.parquet[row 12].image``."""

    row: int
    image_path: str | None
    mask_path: str | None
    split: str | None
    flag: bool | None
    group: str | None
    row_id: str | None
    image_bytes: bytes | None = None
    mask_bytes: bytes | None = None
    more_masks: tuple[tuple[str | None, bytes | None], ...] = ()
    """A list column's masks after the first (the row's mask), each a path and the bytes it holds, if any."""


def iter_specs(manifest: Manifest, columns: Columns) -> Iterator[RowSpec]:
    return specs_of(iter_batches(manifest, columns.selected()), columns, 0, manifest.name)


def specs_of(batches: Iterable[Batch], columns: Columns, start: int, manifest_name: str) -> Iterator[RowSpec]:
    """The rows of the batches, numbered from ``start``."""
    position = start
    names: dict[str, str] = {}  # a split name repeats on every row: keep one instance of each
    for batch in batches:
        size = len(batch[columns.image])

        def column(name: str | None) -> list[Any]:
            return batch[name] if name is not None else [None] * size  # noqa: B023

        images, masks = column(columns.image), column(columns.mask)
        splits, flags = column(columns.split), column(columns.flag)
        splits = [shared(names, s) if s is not None else None for s in splits]
        groups, ids = column(columns.group), column(columns.id)
        for i in range(size):
            image, image_bytes = _files(images[i], manifest_name, position, columns.image)[0]
            mask_files = _files(masks[i], manifest_name, position, columns.mask)
            (mask, mask_bytes), more = mask_files[0], tuple(mask_files[1:])
            yield RowSpec(position, image, mask, splits[i], parse_flag(flags[i]), groups[i], ids[i], image_bytes,
                          mask_bytes, more)
            position += 1


def embedded_name(manifest_name: str, row: int, column: str) -> str:
    return f"{manifest_name}[row {row}].{column}"


def _files(cell: Any, manifest_name: str, row: int, column: str) -> list[tuple[str | None, bytes | None]]:
    """A cell's files, each a path and, for a file embedded in the manifest, its bytes; one (maybe empty) for a
    plain cell, one or more for a list (an element's name says which: ``mask[2]``)."""
    if not isinstance(cell, list):
        return [(embedded_name(manifest_name, row, column), cell) if isinstance(cell, bytes) else (cell, None)]
    if not cell:
        return [(None, None)]
    return [(embedded_name(manifest_name, row, f"{column}[{i}]"), item) if isinstance(item, bytes) else (item, None)
            for i, item in enumerate(cell)]


@dataclass(frozen=True, slots=True)
class Measured:
    """Rows' facts, and the status each of their files (the images, then the masks) had when it was measured:
    None for a row without that file, a file the manifest holds, or one changed too recently to trust."""

    rows: list[RowFacts]
    statuses: list[Status | None]


def measure_row(spec: RowSpec, root: Path | str, limits: Limits = Limits(), cache: FactsCache | None = None
                ) -> RowFacts:
    return measure_chunk([spec], root, limits, cache).rows[0]


Lookup = Callable[[], list[tuple[Found | None, Problem | None]]]


def find_chunk(specs: Sequence[RowSpec], root: Path | str, limits: Limits) -> Lookup:
    """The chunk's files looked up from now on (an object's status and head requested at once); calling the
    answer waits for them. What measure_chunk() is given to overlap these requests with other work."""
    paths, roles, on_disk = _chunk_files(specs)
    return find_many_begun([paths[i] for i in on_disk], root, [roles[i] for i in on_disk], limits)


def reads_objects(root: Path | str, paths: Iterable[str | None]) -> bool:
    """Whether rows with these paths under ``root`` have files in a store (the root is a URL, or a path is)."""
    return storage.is_remote(os.fspath(root)) or any(path is not None and storage.is_remote(path) for path in paths)


def _chunk_files(specs: Sequence[RowSpec]) -> tuple[list[str | None], list[str], list[int]]:
    """The chunk's paths (its images, then its masks), their roles, and which of them name a file to find (the
    manifest holds the others)."""
    paths = [s.image_path for s in specs] + [s.mask_path for s in specs]
    roles = [ROLES[ImageFacts]] * len(specs) + [ROLES[MaskFacts]] * len(specs)
    on_disk = [i for i, s in enumerate(specs) if s.image_bytes is None]
    on_disk += [len(specs) + i for i, s in enumerate(specs) if s.mask_bytes is None]
    return paths, roles, on_disk


def measure_chunk(
    specs: Sequence[RowSpec], root: Path | str, limits: Limits, cache: FactsCache | None = None,
    lookup: Lookup | None = None,
) -> Measured:
    """Facts for each row, in order. The chunk's files are found and read together (objects in a store with many
    requests in flight), then decoded one by one; a file whose status the cache knows is not read at all.
    ``lookup`` is find_chunk() of these rows, begun earlier."""
    count = len(specs)
    paths, roles, on_disk = _chunk_files(specs)
    embedded = [s.image_bytes for s in specs] + [s.mask_bytes for s in specs]
    kinds: list[type[ImageFacts] | type[MaskFacts]] = [ImageFacts] * count + [MaskFacts] * count
    found = dict(zip(on_disk, (lookup or find_chunk(specs, root, limits))(), strict=True))
    outcomes: list[tuple[ImageFacts | MaskFacts | None, Problem | None]] = []
    unread: list[tuple[int, Found]] = []
    statuses: list[Status | None] = [None] * (2 * count)
    started = time.time_ns()
    files = [(i, file) for i in on_disk if (file := found[i][0]) is not None]
    known = dict(zip([i for i, _ in files], cache.known_many(
        [kinds[i] for i, _ in files], [(file.full, file.info) for _, file in files], limits), strict=True)
    ) if cache is not None else {}
    for index, data in enumerate(embedded):
        if data is not None:  # the manifest holds the file: known by its content, never indexed by its name
            content, problem = read_bytes(data, paths[index] or "", roles[index], limits)
            outcomes.append(_measure([content], [kinds[index]], limits, cache, started)[0] if content is not None
                            else (None, problem))
            continue
        file, problem = found[index]
        facts = known.get(index)
        outcomes.append((facts, problem))
        if file is not None and facts is None:
            unread.append((index, file))
        elif file is not None:
            statuses[index] = file.info  # the status the file index holds
    read: list[tuple[int, Read]] = []
    for (index, _), (content, problem) in zip(unread, read_many([file for _, file in unread],
                                                                [roles[i] for i, _ in unread], limits), strict=True):
        if content is None:
            outcomes[index] = (None, problem)
        else:
            read.append((index, content))
    measured = _measure([content for _, content in read], [kinds[i] for i, _ in read], limits, cache, started)
    for (index, content), outcome in zip(read, measured, strict=True):
        outcomes[index] = outcome
        if trusted(content.info, started):
            statuses[index] = content.info
    return Measured(_rows(specs, outcomes, root), statuses)


def known_chunk(specs: Sequence[RowSpec], root: Path | str, limits: Limits, cache: FactsCache
                ) -> Measured | None:
    """The rows' facts when the cache knows every file of them unchanged: their status taken, nothing read. None
    when any file would need reading (or lies in a store, where even a status is a request), so nothing is
    counted twice when the rows are then measured."""
    paths, roles, _ = _chunk_files(specs)
    if any(s.image_bytes is not None or s.mask_bytes is not None or s.more_masks for s in specs) \
            or reads_objects(root, paths):
        return None
    count = len(specs)
    kinds: list[type[ImageFacts] | type[MaskFacts]] = [ImageFacts] * count + [MaskFacts] * count
    found = find_many(paths, root, roles, limits)
    files = [(i, file) for i, (file, _) in enumerate(found) if file is not None]
    known = cache.known_many([kinds[i] for i, _ in files], [(file.full, file.info) for _, file in files], limits,
                             every=True)
    if files and known[0] is None:
        return None
    outcomes: list[tuple[ImageFacts | MaskFacts | None, Problem | None]] = [(None, problem) for _, problem in found]
    for (i, _), facts in zip(files, known, strict=True):
        outcomes[i] = (facts, None)
    return Measured(_rows(specs, outcomes, root), [file.info if file is not None else None for file, _ in found])


def _rows(specs: Sequence[RowSpec], outcomes: Sequence[tuple[ImageFacts | MaskFacts | None, Problem | None]],
          root: Path | str) -> list[RowFacts]:
    """Each row's facts from its files' outcomes: the images' first, then the masks'."""
    count = len(specs)
    rows = []
    for i, spec in enumerate(specs):
        (image, image_problem), (mask, mask_problem) = outcomes[i], outcomes[count + i]
        assert not isinstance(image, MaskFacts) and not isinstance(mask, ImageFacts)
        rows.append(RowFacts(
            row=spec.row, image_path=spec.image_path, mask_path=spec.mask_path, split=spec.split, flag=spec.flag,
            group=spec.group, row_id=spec.row_id, image=image, mask=mask, image_problem=image_problem,
            mask_problem=mask_problem,
            image_outside_root=None if spec.image_bytes is not None else outside_root(spec.image_path, root),
            mask_outside_root=None if spec.mask_bytes is not None else outside_root(spec.mask_path, root),
        ))
    return rows


def measure_more_masks(spec: RowSpec, facts: RowFacts, root: Path | str, limits: Limits,
                       cache: FactsCache | None = None) -> list[RowFacts]:
    """The row's facts once for each of its further masks, that mask in place of the row's own: what the row
    checks are run on to audit each element. The image is the row's, measured once."""
    if not spec.more_masks:
        return []
    alone = [replace(spec, image_path=None, image_bytes=None, mask_path=path, mask_bytes=data, more_masks=())
             for path, data in spec.more_masks]
    return [replace(facts, mask_path=row.mask_path, mask=row.mask, mask_problem=row.mask_problem,
                    mask_outside_root=row.mask_outside_root)
            for row in measure_chunk(alone, root, limits, cache).rows]


def _measure(
    contents: Sequence[Read], kinds: Sequence[type[ImageFacts] | type[MaskFacts]], limits: Limits,
    cache: FactsCache | None, started: int,
) -> list[tuple[ImageFacts | MaskFacts | None, Problem | None]]:
    """Read files' facts: from the cache when their content is known (one lookup for them all), else decoded
    (and stored)."""
    if cache is None:
        return [_decode_and_measure(content, kind, limits) for content, kind in zip(contents, kinds, strict=True)]
    formats = [sniff(bytes(content.data[:16]), os.path.basename(content.full)) for content in contents]
    known = cache.by_content(kinds, [(content.data, fmt) for content, fmt in zip(contents, formats, strict=True)],
                             limits)
    outcomes: list[tuple[ImageFacts | MaskFacts | None, Problem | None]] = []
    for content, kind, fmt, (digest, variant, facts) in zip(contents, kinds, formats, known, strict=True):
        if facts is not None:
            cache.store(content.full, content.info, digest, variant, fmt, None, started)
            outcomes.append((facts, None))
            continue
        facts, problem = _decode_and_measure(content, kind, limits)
        if facts is not None:
            cache.store(content.full, content.info, digest, variant, fmt, facts, started)
        outcomes.append((facts, problem))
    return outcomes


def _decode_and_measure(
    content: Read, kind: type[ImageFacts] | type[MaskFacts], limits: Limits
) -> tuple[ImageFacts | MaskFacts | None, Problem | None]:
    role = ROLES[kind]
    measure: Callable[[Decoded], ImageFacts | MaskFacts] = measure_image if kind is ImageFacts else measure_mask
    decoded, problem = decode(content, role, limits)
    if decoded is None:
        return None, problem
    return facts_of(decoded, role, measure)


AnyFacts = TypeVar("AnyFacts", bound=ImageFacts | MaskFacts)


def facts_of(decoded: Decoded, role: str, measure: Callable[[Decoded], AnyFacts]
             ) -> tuple[AnyFacts | None, Problem | None]:
    """A decoded file's facts with the traits its header showed; an array no measurement expects is a problem."""
    try:
        facts = measure(decoded)
    except Exception as exc:  # one bad file never stops a scan: arrays no measurement expects become findings
        return None, Problem(ProblemKind.UNREADABLE, f"{role} array cannot be measured: {type(exc).__name__}: {exc}")
    return (facts if decoded.traits is PLAIN else replace(facts, traits=decoded.traits)), None
