"""The facts of an annotation input as its checks see them, and how a check over them is declared."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any

from maskaudit.annotations.facts import AnnotationFacts, AnnotationSet, CategoryEntry, ImageEntry, Key, Source
from maskaudit.checks.base import Check, Family, Kind, Stage
from maskaudit.facts import ImageFacts, RowFacts
from maskaudit.findings import Hit, Severity
from maskaudit.settings import Settings

AnnotationFn = Callable[["AnnotationContext", Mapping[str, float]], Iterable[Hit]]


def annotation_check(
    code: str, name: str, severity: Severity, kept: bool = False,
    options: Mapping[str, tuple[float, str]] | None = None,
) -> Callable[[AnnotationFn], Check]:
    """A check over an annotation file's records (``kept``: over what the filtered file keeps)."""
    opts = options or {}

    def wrap(fn: AnnotationFn) -> Check:
        return Check(code=code, name=name, severity=severity, family=Family.ANNOTATIONS, kind=Kind.ANNOTATIONS,
                     stage=Stage.ANNOTATIONS_KEPT if kept else Stage.ANNOTATIONS, run=fn, per_row=False,
                     options=MappingProxyType({k: v[0] for k, v in opts.items()}),
                     option_help=MappingProxyType({k: v[1] for k, v in opts.items()}))

    return wrap


@dataclass(frozen=True)
class AnnotationContext:
    """Images, categories and annotations of every input file, with the decoded image facts by row.

    ``image_rows`` may be empty (images not decoded); ``kept_*`` are None until record checks have decided.
    """

    data: AnnotationSet
    settings: Settings = field(default_factory=Settings)
    image_rows: Sequence[RowFacts] = ()
    kept_images: frozenset[int] | None = None
    kept_annotations: frozenset[int] | None = None

    def with_kept(self, images: frozenset[int], annotations: frozenset[int]) -> AnnotationContext:
        return replace(self, kept_images=images, kept_annotations=annotations)

    @property
    def sources(self) -> tuple[Source, ...]:
        return self.data.sources

    @cached_property
    def image_index(self) -> dict[tuple[int, Key], ImageEntry]:
        """Each (file, image id) to its first image record."""
        found: dict[tuple[int, Key], ImageEntry] = {}
        for image in self.data.images:
            found.setdefault((image.source, image.id), image)
        return found

    @cached_property
    def category_ids(self) -> dict[int, dict[Key, CategoryEntry]]:
        """Each file's categories by id (the first of a repeated id)."""
        found: dict[int, dict[Key, CategoryEntry]] = defaultdict(dict)
        for category in self.data.categories:
            found[category.source].setdefault(category.id, category)
        return found

    def image_of(self, annotation: AnnotationFacts) -> ImageEntry | None:
        return self.image_index.get((annotation.source, annotation.image_id))

    def facts_of(self, image: ImageEntry) -> ImageFacts | None:
        return self.image_rows[image.row].image if image.row < len(self.image_rows) else None

    def split_of(self, annotation: AnnotationFacts) -> str:
        image = self.image_of(annotation)
        return image.split if image is not None else self.sources[annotation.source].split

    @cached_property
    def split_names(self) -> list[str]:
        return list(dict.fromkeys([s.split for s in self.sources] + [i.split for i in self.data.images]))

    @cached_property
    def usable_images(self) -> list[ImageEntry]:
        kept = self.kept_images
        return [i for i in self.data.images if kept is None or i.row in kept]

    @cached_property
    def usable_annotations(self) -> list[AnnotationFacts]:
        kept = self.kept_annotations
        return [a for a in self.data.annotations if kept is None or a.index in kept]

    def annotation_hit(self, annotation: AnnotationFacts, message: str, **details: Any) -> Hit:
        """A finding on one annotation, naming its id, its image's id and file name, and its file."""
        image = self.image_of(annotation)
        source = self.sources[annotation.source]
        where = f"annotation {annotation.id!r} (#{annotation.position} in {source.name})"
        if image is not None:
            where += f" on image {image.id!r} ({image.file_name})"
        return Hit(f"{where}: {message}", row=image.row if image is not None else None,
                   split=self.split_of(annotation), path=image.file_name if image is not None else None,
                   details={"file": source.name, "annotation_id": annotation.id, "annotation_index": annotation.index,
                            "image_id": annotation.image_id, **details})

    def image_hit(self, image: ImageEntry, message: str, **details: Any) -> Hit:
        """A finding on one image record: the image and every annotation on it are left out of the filtered file."""
        source = self.sources[image.source]
        return Hit(f"image {image.id!r} ({image.file_name}, #{image.position} in {source.name}): {message}",
                   row=image.row, split=image.split, path=image.file_name,
                   details={"file": source.name, "image_id": image.id, **details})
