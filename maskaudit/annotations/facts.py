"""What an annotation file says, reduced once to compact frozen records that checks read."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maskaudit.annotations.columns import AnnotationColumns

Key = int | str | float | None
"""An id as the JSON writes it: COCO ids are integers, but a file may hold anything."""


class InputKind(str, enum.Enum):
    COCO = "coco"
    SA1B = "sa1b"


class SegmentationKind(str, enum.Enum):
    POLYGON = "polygon"
    RLE = "rle"  # uncompressed: counts is a list of run lengths
    COMPRESSED_RLE = "compressed-rle"  # counts is COCO's compact string
    MISSING = "missing"
    INVALID = "invalid"  # neither a list of polygons nor an RLE object


@dataclass(frozen=True, slots=True)
class Source:
    """One input file, the split its images belong to unless an image field names one."""

    path: str
    name: str
    split: str


@dataclass(frozen=True, slots=True)
class ImageEntry:
    """One record of ``images``; ``row`` numbers it across every input file, ``position`` within its file."""

    row: int
    source: int
    position: int
    id: Key
    file_name: str | None
    width: int | None
    height: int | None
    split: str

    @property
    def size(self) -> tuple[int, int] | None:
        """(height, width) as the JSON declares it, when both are positive integers."""
        if self.width is None or self.height is None or self.width <= 0 or self.height <= 0:
            return None
        return self.height, self.width


@dataclass(frozen=True, slots=True)
class CategoryEntry:
    source: int
    id: Key
    name: str


@dataclass(frozen=True, slots=True)
class AnnotationFacts:
    """One record of ``annotations``: what it declares and what its decoded segmentation covers.

    Boxes are COCO's (x, y, width, height). ``extent`` is the (x0, y0, x1, y1) reach of the raw polygon
    coordinates before any clipping (None for RLE). ``mask_*`` come from pycocotools' decoding. ``rle`` and
    ``decoded_size`` are the decoded mask of a record just read; the columns a scan keeps hold neither, so a
    record they give back has none. ``problem`` says why the segmentation could not be read.
    """

    index: int
    source: int
    position: int
    id: Key
    image_id: Key
    category_id: Key
    iscrowd: bool
    kind: SegmentationKind
    bbox: tuple[float, float, float, float] | None
    area: float | None
    polygon_points: tuple[int, ...] = ()
    rle_size: tuple[int, int] | None = None
    extent: tuple[float, float, float, float] | None = None
    mask_area: int | None = None
    mask_bbox: tuple[float, float, float, float] | None = None
    rle: bytes = b""
    decoded_size: tuple[int, int] | None = None
    problem: str | None = None


@dataclass(frozen=True)
class AnnotationSet:
    """Every input file's images, categories and annotation facts (in columns), numbered across files."""

    kind: InputKind
    sources: tuple[Source, ...]
    images: tuple[ImageEntry, ...]
    categories: tuple[CategoryEntry, ...]
    annotations: AnnotationColumns
