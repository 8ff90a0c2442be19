"""Every annotation check's defect and clean counterpart, as annotation files would hold them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pycocotools import mask as coco_mask

from maskaudit.annotations.columns import AnnotationColumns
from maskaudit.annotations.facts import AnnotationSet, InputKind, Source
from maskaudit.annotations.reader import category_entry, image_entry, read_partition
from maskaudit.facts import RowFacts
from maskaudit.settings import Settings
from tests.checks.cases import image

W, H = 64, 48
CATEGORIES = [{"id": 1, "name": "cell"}, {"id": 2, "name": "nucleus"}]


@dataclass(frozen=True)
class Dataset:
    """Records as a COCO file holds them (one file per split), and the decoded size of each image."""

    splits: dict[str, dict[str, list[Any]]]
    decoded: dict[str, tuple[int, int]] = field(default_factory=dict)  # file name -> (height, width)
    kind: InputKind = InputKind.COCO

    def build(self) -> tuple[AnnotationSet, list[RowFacts]]:
        sources, images, categories, parts = [], [], [], []
        for number, (split, records) in enumerate(self.splits.items()):
            sources.append(Source(f"/data/instances_{split}.json", f"instances_{split}.json", split))
            first = len(images)
            images += [image_entry(first + p, number, p, r, split, None) for p, r in enumerate(records["images"])]
            categories += [category_entry(number, c) for c in records.get("categories", CATEGORIES)]
            listed = records["annotations"]
            parts.append(read_partition(self.kind, number, len(self.splits), images[first:], listed,
                                        listed.__getitem__, len(listed)))
        rows = [RowFacts(row=i.row, image_path=i.file_name, mask_path=None, split=i.split,
                         image=image(content=f"c{i.row}", spatial=self.decoded.get(i.file_name or "", (H, W))))
                for i in images]
        return AnnotationSet(self.kind, tuple(sources), tuple(images), tuple(categories),
                             AnnotationColumns.concat(parts)), rows


@dataclass(frozen=True)
class Case:
    defect: Dataset
    clean: Dataset
    settings: Settings = field(default_factory=Settings)
    expect_annotations: tuple[Any, ...] | None = None  # annotation ids the check reports
    expect_splits: tuple[str, ...] | None = None


def img(image_id: int, width: int = W, height: int = H, name: str | None = None) -> dict[str, Any]:
    return {"id": image_id, "file_name": name or f"{image_id}.png", "width": width, "height": height}


def box(ann_id: int, image_id: int = 1, category: int = 1, x: float = 4, y: float = 4, size: float = 10,
        **changes: Any) -> dict[str, Any]:
    record = {"id": ann_id, "image_id": image_id, "category_id": category, "iscrowd": 0,
              "segmentation": [[x, y, x + size, y, x + size, y + size, x, y + size]],
              "bbox": [x, y, size, size], "area": size * size}
    record.update(changes)
    return record


def crowd(ann_id: int, image_id: int = 1, height: int = H, width: int = W, **changes: Any) -> dict[str, Any]:
    import numpy as np

    mask = np.zeros((height, width), dtype=np.uint8, order="F")
    mask[2:12, 2:22] = 1
    counts = coco_mask.encode(mask)["counts"].decode("ascii")
    record = {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 1,
              "segmentation": {"size": [height, width], "counts": counts}, "bbox": [2, 2, 20, 10], "area": 200}
    record.update(changes)
    return record


def one(images: list[dict[str, Any]], annotations: list[dict[str, Any]], **extra: Any) -> Dataset:
    return Dataset({"train": {"images": images, "annotations": annotations, **extra}})


def many_boxes(image_id: int = 1, count: int = 10, start: int = 100) -> list[dict[str, Any]]:
    """Clean instances of both categories (enough of each for category-imbalance)."""
    return [box(start + k, image_id, 1 + k % 2, x=2 + 2 * k, size=10) for k in range(count * 2)]


CLEAN = one([img(1)], many_boxes())

CASES: dict[str, Callable[[], Case]] = {
    "coco-unknown-image": lambda: Case(one([img(1)], [box(1, image_id=7)]), CLEAN, expect_annotations=(1,)),
    "coco-unknown-category": lambda: Case(one([img(1)], [box(1, category=9)]), CLEAN, expect_annotations=(1,)),
    "coco-duplicate-id": lambda: Case(one([img(1), img(2)], [box(5), box(5, image_id=2), box(6)]), CLEAN,
                                      expect_annotations=(5, 5)),
    "coco-image-size": lambda: Case(one([img(1, width=80)], many_boxes()), CLEAN),
    "degenerate-instance": lambda: Case(
        one([img(1)], [box(1, segmentation=[[1, 1, 9, 9]]), box(2, bbox=[4, 4, 0, 10]),
                       box(3, segmentation=[[1, 1, "x", 2, 3, 3]]),
                       box(4, segmentation={"size": [H, W], "counts": [5, 5]})]),
        CLEAN, expect_annotations=(1, 2, 3, 4)),
    "instance-out-of-bounds": lambda: Case(one([img(1)], [box(1, x=58, size=20)]), CLEAN, expect_annotations=(1,)),
    "rle-size-mismatch": lambda: Case(one([img(1)], [crowd(1, height=W, width=H)]),
                                      one([img(1)], [crowd(1)]), expect_annotations=(1,)),
    "bbox-mismatch": lambda: Case(one([img(1)], [box(1, bbox=[20, 4, 10, 10]), box(2, x=30, area=400)]), CLEAN,
                                  expect_annotations=(1, 2)),
    "crowd-encoding": lambda: Case(one([img(1)], [box(1, iscrowd=1), crowd(2, iscrowd=0)]),
                                   one([img(1)], [box(1), crowd(2)]), expect_annotations=(1, 2)),
    "duplicate-instance": lambda: Case(one([img(1)], [box(1, size=20), box(2, x=5, size=20)]),
                                       one([img(1)], [box(1, size=20), box(2, x=5, size=20, category_id=2)]),
                                       expect_annotations=(2,)),
    "images-without-instances": lambda: Case(one([img(1), img(2)], [box(1)]),
                                             one([img(1), img(2)], [box(1), box(2, image_id=2)]),
                                             expect_splits=("train",)),
    "category-imbalance": lambda: Case(
        Dataset({"train": {"images": [img(1)], "annotations": many_boxes()},
                 "val": {"images": [img(2)], "annotations": [box(k, 2, 1, x=2 + 3 * k) for k in range(12)]}}),
        Dataset({"train": {"images": [img(1)], "annotations": many_boxes()},
                 "val": {"images": [img(2)], "annotations": many_boxes(image_id=2)}}),
        expect_splits=("val",)),
    "category-id-gaps": lambda: Case(one([img(1)], many_boxes(), categories=[{"id": 1, "name": "a"},
                                                                             {"id": 3, "name": "b"}]),
                                     CLEAN, expect_splits=("train",)),
    "tiny-instances": lambda: Case(one([img(1)], [*many_boxes(), *(box(50 + k, x=2 + 4 * k, y=30, size=3)
                                                                   for k in range(10))]),
                                   CLEAN, expect_splits=("train",)),
}
