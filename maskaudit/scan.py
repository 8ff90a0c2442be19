"""Open and decode every file once, in a thread pool, and reduce each row to its facts."""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from maskaudit.decode import DecodeError, decode_file
from maskaudit.facts import ImageFacts, MaskFacts, Problem, ProblemKind, RowFacts
from maskaudit.interning import shared
from maskaudit.manifest import Columns, Manifest, iter_batches, parse_flag
from maskaudit.measure import measure_image, measure_mask

CHUNK_ROWS = 32
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


def resolve(path: str, root: Path | str) -> str:
    """The manifest's path, absolute as given or relative to the root (strings: this runs twice a row)."""
    expanded = os.path.expanduser(path) if path.startswith("~") else path
    return expanded if os.path.isabs(expanded) else os.path.join(root, expanded)


def measure_row(spec: RowSpec, root: Path) -> RowFacts:
    image, image_problem = _measure(spec.image_path, root, "image", measure_image)
    mask, mask_problem = _measure(spec.mask_path, root, "mask", measure_mask)
    return RowFacts(
        row=spec.row, image_path=spec.image_path, mask_path=spec.mask_path, split=spec.split, flag=spec.flag,
        group=spec.group, row_id=spec.row_id, image=image, mask=mask, image_problem=image_problem,
        mask_problem=mask_problem,
    )


def _measure(
    path: str | None, root: Path, role: str, measure: Callable[..., FactsT]
) -> tuple[FactsT | None, Problem | None]:
    if path is None:
        return None, Problem(ProblemKind.MISSING_PATH, f"{role} path is empty")
    if "://" in path:
        return None, Problem(ProblemKind.NOT_FOUND, f"{role} path {path} is a URL; download the data first")
    full = resolve(path, root)
    try:
        decoded = decode_file(full)
    except FileNotFoundError:
        return None, Problem(ProblemKind.NOT_FOUND, f"{role} file {full} does not exist")
    except (DecodeError, OSError) as exc:
        return None, Problem(ProblemKind.UNREADABLE, f"{role} file cannot be decoded: {exc}")
    except Exception as exc:  # one bad file never stops a scan: a decoder's surprise becomes a finding
        return None, Problem(ProblemKind.UNREADABLE, f"{role} file cannot be decoded: {type(exc).__name__}: {exc}")
    try:
        return measure(decoded), None
    except Exception as exc:  # as above, for arrays no measurement expects
        return None, Problem(ProblemKind.UNREADABLE, f"{role} array cannot be measured: {type(exc).__name__}: {exc}")


def measure_chunk(specs: Sequence[RowSpec], root: Path) -> list[RowFacts]:
    return [measure_row(spec, root) for spec in specs]


def scan_rows(
    specs: Iterator[RowSpec],
    root: Path,
    workers: int,
    progress: bool = False,
    total: int | None = None,
) -> list[RowFacts]:
    """Facts for every row, in manifest order. Memory holds facts, never decoded arrays."""
    results: list[RowFacts] = []
    bar = tqdm(total=total, unit="row", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: deque[Future[list[RowFacts]]] = deque()
        limit = max(1, workers) * 4

        def drain(until: int) -> None:
            while len(pending) > until:
                chunk = pending.popleft().result()
                results.extend(chunk)
                bar.update(len(chunk))

        chunk: list[RowSpec] = []
        for spec in specs:
            chunk.append(spec)
            if len(chunk) == CHUNK_ROWS:
                pending.append(pool.submit(measure_chunk, chunk, root))
                chunk = []
                drain(limit)
        if chunk:
            pending.append(pool.submit(measure_chunk, chunk, root))
        drain(0)
    bar.close()
    return results
