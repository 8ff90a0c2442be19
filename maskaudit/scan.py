"""Read a manifest's rows and reduce each row to its facts, every file opened and decoded once."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from maskaudit.cache import ROLES, FactsCache
from maskaudit.decode import Decoded, sniff
from maskaudit.facts import ImageFacts, MaskFacts, Problem, ProblemKind, RowFacts
from maskaudit.header import PLAIN
from maskaudit.interning import shared
from maskaudit.limits import Limits
from maskaudit.loading import Found, Read, decode, find_many, outside_root, read_many
from maskaudit.manifest import Columns, Manifest, iter_batches, parse_flag
from maskaudit.measure import measure_image, measure_mask

FactsT = TypeVar("FactsT", ImageFacts, MaskFacts)


@dataclass(frozen=True, slots=True)
class RowSpec:
    row: int
    image_path: str | None
    mask_path: str | None
    split: str | None
    flag: bool | None
    group: str | None
    row_id: str | None


def iter_specs(manifest: Manifest, columns: Columns) -> Iterator[RowSpec]:
    position = 0
    names: dict[str, str] = {}  # a split name repeats on every row: keep one instance of each
    for batch in iter_batches(manifest, columns.selected()):
        size = len(batch[columns.image])

        def column(name: str | None) -> list[str | None]:
            return batch[name] if name is not None else [None] * size  # noqa: B023

        images, masks = column(columns.image), column(columns.mask)
        splits, flags = column(columns.split), column(columns.flag)
        splits = [shared(names, s) if s is not None else None for s in splits]
        groups, ids = column(columns.group), column(columns.id)
        for i in range(size):
            yield RowSpec(position, images[i], masks[i], splits[i], parse_flag(flags[i]), groups[i], ids[i])
            position += 1


def measure_row(spec: RowSpec, root: Path | str, limits: Limits = Limits(), cache: FactsCache | None = None
                ) -> RowFacts:
    return measure_chunk([spec], root, limits, cache)[0]


def measure_chunk(
    specs: Sequence[RowSpec], root: Path | str, limits: Limits, cache: FactsCache | None = None
) -> list[RowFacts]:
    """Facts for each row, in order. The chunk's files are found and read together (objects in a store with many
    requests in flight), then decoded one by one; a file whose status the cache knows is not read at all."""
    count = len(specs)
    paths = [s.image_path for s in specs] + [s.mask_path for s in specs]
    kinds: list[type[ImageFacts] | type[MaskFacts]] = [ImageFacts] * count + [MaskFacts] * count
    roles = [ROLES[kind] for kind in kinds]
    found = find_many(paths, root, roles, limits)
    outcomes: list[tuple[ImageFacts | MaskFacts | None, Problem | None]] = []
    unread: list[tuple[int, Found]] = []
    for index, (file, problem) in enumerate(found):
        known = _known(cache, kinds[index], file, limits) if file is not None and cache is not None else None
        outcomes.append((known, problem))
        if file is not None and known is None:
            unread.append((index, file))
    started = time.time_ns()
    contents = read_many([file for _, file in unread], [roles[i] for i, _ in unread], limits)
    for (index, _), (content, problem) in zip(unread, contents, strict=True):
        outcomes[index] = (_measure(content, kinds[index], limits, cache, started) if content is not None
                           else (None, problem))
    rows = []
    for i, spec in enumerate(specs):
        (image, image_problem), (mask, mask_problem) = outcomes[i], outcomes[count + i]
        assert not isinstance(image, MaskFacts) and not isinstance(mask, ImageFacts)
        rows.append(RowFacts(
            row=spec.row, image_path=spec.image_path, mask_path=spec.mask_path, split=spec.split, flag=spec.flag,
            group=spec.group, row_id=spec.row_id, image=image, mask=mask, image_problem=image_problem,
            mask_problem=mask_problem, image_outside_root=outside_root(spec.image_path, root),
            mask_outside_root=outside_root(spec.mask_path, root),
        ))
    return rows


def _known(cache: FactsCache, kind: type[ImageFacts] | type[MaskFacts], file: Found, limits: Limits
           ) -> ImageFacts | MaskFacts | None:
    if kind is ImageFacts:
        return cache.known(ImageFacts, file.full, file.info, limits)
    return cache.known(MaskFacts, file.full, file.info, limits)


def _measure(
    content: Read, kind: type[ImageFacts] | type[MaskFacts], limits: Limits, cache: FactsCache | None, started: int
) -> tuple[ImageFacts | MaskFacts | None, Problem | None]:
    """A read file's facts: from the cache when its content is known, else decoded (and stored)."""
    role = ROLES[kind]
    measure: Callable[[Decoded], ImageFacts | MaskFacts] = measure_image if kind is ImageFacts else measure_mask
    if cache is None:
        return _decode_and_measure(content, role, measure, limits)
    fmt = sniff(bytes(content.data[:16]), os.path.basename(content.full))
    digest, variant, facts = (cache.by_content(ImageFacts, content.data, fmt, limits) if kind is ImageFacts
                              else cache.by_content(MaskFacts, content.data, fmt, limits))
    if facts is None:
        facts, problem = _decode_and_measure(content, role, measure, limits)
        if facts is None:
            return None, problem
        cache.store(content.full, content.info, digest, variant, fmt, facts, started)
    else:
        cache.store(content.full, content.info, digest, variant, fmt, None, started)
    return facts, None


def _decode_and_measure(
    content: Read, role: str, measure: Callable[[Decoded], ImageFacts | MaskFacts], limits: Limits
) -> tuple[ImageFacts | MaskFacts | None, Problem | None]:
    decoded, problem = decode(content, role, limits)
    if decoded is None:
        return None, problem
    try:
        facts = measure(decoded)
    except Exception as exc:  # one bad file never stops a scan: arrays no measurement expects become findings
        return None, Problem(ProblemKind.UNREADABLE, f"{role} array cannot be measured: {type(exc).__name__}: {exc}")
    return (facts if decoded.traits is PLAIN else replace(facts, traits=decoded.traits)), None
