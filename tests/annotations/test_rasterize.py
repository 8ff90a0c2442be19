"""--rasterize: label maps painted from instances, judged by the mask checks; a table of defects and clean
counterparts, how overlaps are painted, and the real CLI on the COCO demo."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from maskaudit.annotations.judge import judge_annotations
from maskaudit.annotations.rasterize import judge_rasterized, label_map, raster_settings, rasterized_rows
from maskaudit.cli import run
from maskaudit.findings import Finding
from maskaudit.limits import Limits
from maskaudit.settings import Settings
from tests.checks.annotation_cases import Dataset, H, W, box, img, many_boxes, one

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "coco"


def painted(dataset: Dataset, limits: Limits = Limits()) -> list[Finding]:
    data, rows = dataset.build()
    context = judge_annotations(data, Settings(), rows).context
    records = [split["annotations"] for split in dataset.splits.values()]
    maps = rasterized_rows(context, lambda number: nullcontext(records[number].__getitem__), limits)
    return list(judge_rasterized(context, maps, raster_settings(Settings(), context)))


def whole(ann_id: int, image_id: int = 1, category: int = 1) -> dict[str, Any]:
    return box(ann_id, image_id, category, segmentation=[[0, 0, W, 0, W, H, 0, H]], bbox=[0, 0, W, H], area=W * H)


def two_splits(val: list[dict[str, Any]]) -> Dataset:
    return Dataset({"train": {"images": [img(1)], "annotations": many_boxes()},
                    "val": {"images": [img(2)], "annotations": val}})


# check -> (defect, clean, the image ids (or splits) the findings name)
CASES: dict[str, tuple[Callable[[], Dataset], Callable[[], Dataset], set[Any]]] = {
    "empty-mask": (lambda: one([img(1), img(2)], many_boxes()),
                   lambda: one([img(1), img(2)], [*many_boxes(), *many_boxes(image_id=2, start=200)]), {2}),
    "full-mask": (lambda: one([img(1), img(2)], [*many_boxes(), whole(300, image_id=2)]),
                  lambda: one([img(1), img(2)], [*many_boxes(), *many_boxes(image_id=2, start=200)]), {2}),
    "label-missing-in-split": (lambda: two_splits([box(k, 2, 1, x=2 + 3 * k) for k in range(12)]),
                               lambda: two_splits(many_boxes(image_id=2)), {"val"}),
}


@pytest.mark.parametrize("check", sorted(CASES))
def test_a_label_map_check_fires_on_its_defect_and_not_on_clean_data(check: str) -> None:
    defect, clean, named = CASES[check]
    found = [f for f in painted(defect()) if f.check == check]
    assert found and all(f.details["rasterized"] for f in found)
    assert {f.details.get("image_id", f.split) for f in found} == named
    assert all(f.path == f"{f.details['image_id']}.png" for f in found if f.row is not None)
    assert [f for f in painted(clean()) if f.check == check] == []


def test_overlaps_are_painted_larger_first_so_smaller_instances_stay_on_top() -> None:
    for order in (1, -1):  # whichever comes first in the file
        annotations = [box(1, category=1, x=4, size=30), box(2, category=2, x=10, y=10, size=6)][::order]
        data, rows = one([img(1)], annotations).build()
        context = judge_annotations(data, Settings(), rows).context
        members = np.argsort(-data.annotations.mask_area, kind="stable")
        labels = label_map(data.images[0], members, annotations.__getitem__, context)
        assert labels.shape == (H, W) and labels[12, 12] == 2 and labels[30, 30] == 1 and labels[0, 0] == 0


def test_a_label_map_over_max_pixels_is_not_painted_but_reported() -> None:
    found = painted(one([img(1)], many_boxes()), Limits(max_pixels=100))
    unreadable = [f for f in found if f.check == "mask-unreadable"]
    assert len(unreadable) == 1 and "--max-pixels" in unreadable[0].message and unreadable[0].details["image_id"] == 1


def test_the_cli_rasterizes_the_demo_and_names_image_ids_and_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = run(["scan", str(DEMO / "instances_train.json"), str(DEMO / "instances_val.json"), "--root",
                str(DEMO / "images"), "--out", str(out), "--rasterize", "--quiet"])
    assert code == 1
    report = json.loads((out / "report.json").read_text())
    painted_findings = [f for f in report["findings"] if f["details"].get("rasterized")]
    assert {"empty-mask", "label-missing-in-split"} <= {f["check"] for f in painted_findings}
    empty = [f for f in painted_findings if f["check"] == "empty-mask"]
    assert all(f["path"] and "image_id" in f["details"] and f["details"]["file"].endswith(".json") for f in empty)
    assert {"empty-mask", "class-imbalance"} <= {c["check"] for c in report["checks_ran"]}


def test_rasterize_on_a_manifest_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("image,mask\na.png,b.png\n")
    assert run(["scan", str(manifest), "--rasterize", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--rasterize" in err
