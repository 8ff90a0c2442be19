"""Read a manifest's rows and reduce each row to its facts, every file opened and decoded once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from maskaudit.decode import Decoded
from maskaudit.facts import ImageFacts, MaskFacts, Problem, ProblemKind, RowFacts
from maskaudit.header import PLAIN
from maskaudit.interning import shared
from maskaudit.limits import Limits
from maskaudit.loading import load, outside_root
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


def measure_row(spec: RowSpec, root: Path, limits: Limits = Limits()) -> RowFacts:
    image, image_problem = _measure(spec.image_path, root, "image", measure_image, limits)
    mask, mask_problem = _measure(spec.mask_path, root, "mask", measure_mask, limits)
    return RowFacts(
        row=spec.row, image_path=spec.image_path, mask_path=spec.mask_path, split=spec.split, flag=spec.flag,
        group=spec.group, row_id=spec.row_id, image=image, mask=mask, image_problem=image_problem,
        mask_problem=mask_problem, image_outside_root=outside_root(spec.image_path, root),
        mask_outside_root=outside_root(spec.mask_path, root),
    )


def _measure(
    path: str | None, root: Path, role: str, measure: Callable[[Decoded], FactsT], limits: Limits
) -> tuple[FactsT | None, Problem | None]:
    decoded, problem = load(path, root, role, limits)
    if decoded is None:
        return None, problem
    try:
        facts = measure(decoded)
    except Exception as exc:  # one bad file never stops a scan: arrays no measurement expects become findings
        return None, Problem(ProblemKind.UNREADABLE, f"{role} array cannot be measured: {type(exc).__name__}: {exc}")
    return (facts if decoded.traits is PLAIN else replace(facts, traits=decoded.traits)), None
