"""The real CLI on real annotation files: the COCO demo, SA-1B folders, and what the filtered files keep."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO

from maskaudit.annotations.layout import scan_layout
from maskaudit.checks.registry import ANNOTATION_CHECKS
from maskaudit.cli import run

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "coco"


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("coco") / "audit"
    code = run(["scan", str(DEMO / "instances_train.json"), str(DEMO / "instances_val.json"),
                "--root", str(DEMO / "images"), "--out", str(out), "--quiet"])
    assert code == 1
    return out


def test_demo_holds_every_annotation_defect_and_the_image_checks(demo_out: Path) -> None:
    report = json.loads((demo_out / "report.json").read_text())
    found = {f["check"] for f in report["findings"]}
    assert {c.name for c in ANNOTATION_CHECKS} <= found
    assert {"image-not-found", "image-unreadable", "constant-image", "exif-orientation", "split-leakage"} <= found
    leak = next(f for f in report["findings"] if f["check"] == "split-leakage")
    assert leak["split"] == "val" and leak["path"] == "val_copy.png" and leak["details"]["image_id"] == 101


def test_findings_name_the_image_id_annotation_id_and_file_name(demo_out: Path) -> None:
    report = json.loads((demo_out / "report.json").read_text())
    unknown = next(f for f in report["findings"] if f["check"] == "coco-unknown-category")
    assert unknown["details"]["annotation_id"] == 3 and unknown["details"]["image_id"] == 2
    assert unknown["path"] == "002.png" and "annotation 3" in unknown["message"] and "002.png" in unknown["message"]


def test_filtered_files_load_in_pycocotools_and_keep_what_the_report_says(demo_out: Path) -> None:
    report = json.loads((demo_out / "report.json").read_text())
    train = COCO(str(demo_out / "instances_train.filtered.json"))
    val = COCO(str(demo_out / "instances_val.filtered.json"))
    assert len(train.imgs) + len(val.imgs) == report["summary"]["rows_kept"]
    kept_annotations = int(re.search(r"(\d+) kept", report["notes"][0]).group(1))  # type: ignore[union-attr]
    assert len(train.anns) + len(val.anns) == kept_annotations
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    dropped_images = {f["details"]["image_id"] for f in errors if "annotation_index" not in f["details"]}
    assert not dropped_images & set(train.imgs) and 12 in dropped_images  # the EXIF-rotated size mismatch
    assert 4 not in train.anns  # a duplicated annotation id: every record with it is left out
    assert all(a["image_id"] in train.imgs for a in train.anns.values())
    assert train.loadCats(train.getCatIds()) == json.loads((DEMO / "instances_train.json").read_text())["categories"]


def test_filtered_file_keeps_every_other_byte(demo_out: Path) -> None:
    original = (DEMO / "instances_train.json").read_bytes()
    filtered = (demo_out / "instances_train.filtered.json").read_bytes()
    before = scan_layout(original, {"images"}, "in")
    after = scan_layout(filtered, {"images"}, "out")
    for key in ("info", "licenses", "categories", "extra"):
        start, end = before.values[key]
        first, last = after.values[key]
        assert original[start:end] == filtered[first:last]
    assert filtered.startswith(original[:before.values["images"][0]])


def test_a_json_file_that_is_no_annotation_file_is_a_usage_error(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"rows": [1, 2]}')
    assert run(["scan", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "COCO" in err


def test_an_unreadable_segmentation_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8) + 40).save(tmp_path / "a.png")
    records = {"images": [{"id": 1, "file_name": "a.png", "width": 8, "height": 8}],
               "categories": [{"id": 1, "name": "x"}],
               "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 1,
                                "segmentation": {"counts": "\u00ff!", "size": [8, 8]}},
                               {"id": 2, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, None, 1]]},
                               {"id": 3, "image_id": 1, "category_id": 1, "segmentation": "polygon"}]}
    path = tmp_path / "instances_x.json"
    path.write_text(json.dumps(records))
    assert run(["scan", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    degenerate = [f for f in report["findings"] if f["check"] == "degenerate-instance"]
    assert sorted(f["details"]["annotation_id"] for f in degenerate) == [1, 2, 3]
    assert len(COCO(str(tmp_path / "out" / "instances_x.filtered.json")).anns) == 0


def test_an_sa1b_folder_is_recognised_and_filtered(tmp_path: Path) -> None:
    folder = tmp_path / "sa1b"
    folder.mkdir()
    for number in (1, 2):
        pixels = np.random.default_rng(number).integers(0, 255, (16, 24, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"sa_{number}.jpg")
        mask = np.zeros((16, 24), dtype=np.uint8, order="F")
        mask[2:8, 3:12] = 1
        rle = coco_mask.encode(mask)
        size = [16, 24] if number == 1 else [24, 16]  # the second file's mask is transposed
        annotation = {"id": number, "segmentation": {"size": size, "counts": rle["counts"].decode()},
                      "bbox": [3, 2, 9, 6], "area": 54, "predicted_iou": 0.9, "stability_score": 0.95}
        (folder / f"sa_{number}.json").write_text(json.dumps({
            "image": {"image_id": number, "width": 24, "height": 16, "file_name": f"sa_{number}.jpg"},
            "annotations": [annotation]}))
    assert run(["scan", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["manifest"]["format"] == "sa1b"
    assert {f["check"] for f in report["findings"] if f["severity"] == "error"} == {"rle-size-mismatch"}
    kept = json.loads((tmp_path / "out" / "filtered" / "sa_2.json").read_text())
    assert kept["annotations"] == [] and kept["image"]["image_id"] == 2
    assert json.loads((tmp_path / "out" / "filtered" / "sa_1.json").read_text()) == json.loads(
        (folder / "sa_1.json").read_text())


def test_demo_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    copy = tmp_path / "coco"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns("*.json", "images"))
    import runpy

    runpy.run_path(str(copy / "make_coco.py"), run_name="__main__")
    for name in ("instances_train.json", "instances_val.json"):
        assert (copy / name).read_text() == (DEMO / name).read_text()


def test_a_duplicate_instance_iou_below_what_is_measured_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "maskaudit.toml"
    config.write_text("[checks.duplicate-instance]\niou = 0.3\n")
    code = run(["scan", str(DEMO / "instances_train.json"), "--root", str(DEMO / "images"), "--config", str(config),
                "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "duplicate-instance iou 0.3" in err and "0.5" in err


def test_a_baseline_accepts_known_findings_and_fails_on_a_new_one(tmp_path: Path) -> None:
    copy = tmp_path / "coco"
    shutil.copytree(DEMO, copy)
    baseline = tmp_path / "baseline.json"
    train = copy / "instances_train.json"
    args = ["--root", str(copy / "images"), "--quiet"]
    assert run(["scan", str(train), "--write-baseline", str(baseline), "--out", str(tmp_path / "a"), *args]) == 0
    assert run(["scan", str(train), "--baseline", str(baseline), "--out", str(tmp_path / "b"), *args]) == 0
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["summary"]["baselined"] == report["summary"]["findings"] > 0
    records = json.loads(train.read_text())
    first = records["annotations"][0]
    records["annotations"].append({**first, "id": 90001, "category_id": 999})  # a new unknown category
    train.write_text(json.dumps(records))
    assert run(["scan", str(train), "--baseline", str(baseline), "--out", str(tmp_path / "c"), *args]) == 1
    report = json.loads((tmp_path / "c" / "report.json").read_text())
    new = [f for f in report["findings"] if not f.get("baselined")]
    assert [f["details"]["annotation_id"] for f in new if f["severity"] == "error"] == [90001]
