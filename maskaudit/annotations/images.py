"""The image files an annotation file names, decoded once each into the same facts a manifest scan records."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from maskaudit.annotations.facts import ImageEntry, Source
from maskaudit.facts import ImageFacts, Problem, RowFacts
from maskaudit.limits import Limits
from maskaudit.loading import load, outside_root
from maskaudit.measure import measure_image
from maskaudit.native_stderr import native_stderr_silenced
from maskaudit.scan import facts_of

CHUNK = 64  # images per task: few enough that a pool holds little, enough to amortise the hand-off


def image_rows(images: Sequence[ImageEntry], sources: Sequence[Source], roots: Sequence[str], workers: int,
               limits: Limits = Limits()) -> list[RowFacts]:
    """One row of facts per image record, in order: image only, no mask; ``roots[source]`` resolves names."""
    chunks = [images[i:i + CHUNK] for i in range(0, len(images), CHUNK)]
    rows: list[RowFacts] = []
    with native_stderr_silenced(), ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for chunk in pool.map(lambda part: [_row(e, sources[e.source], roots[e.source], limits) for e in part],
                              chunks):
            rows.extend(chunk)
    return rows


def _row(entry: ImageEntry, source: Source, root: str, limits: Limits) -> RowFacts:
    facts, problem = _measure(entry.file_name, root, limits)
    return RowFacts(
        row=entry.row, image_path=entry.file_name, mask_path=None, split=entry.split,
        row_id=f"{source.name}:image:{entry.id}", image=facts, image_problem=problem,
        image_outside_root=outside_root(entry.file_name, root),
    )


def _measure(path: str | None, root: str, limits: Limits) -> tuple[ImageFacts | None, Problem | None]:
    decoded, problem = load(path, root, "image", limits)
    if decoded is None:
        return None, problem
    return facts_of(decoded, "image", measure_image)
