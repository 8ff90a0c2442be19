"""COCO annotation files and their images in a bucket served by a real S3 API on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pycocotools.coco import COCO

from maskaudit.cli import run

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "coco"


def comparable(report: dict[str, Any], root: str) -> list[tuple[str, Any, str]]:
    return sorted((f["check"], f["row"], f["message"].replace(root, "<root>/")) for f in report["findings"])


def test_a_coco_file_in_a_bucket_is_audited_as_the_same_file_on_disk(s3: Any, s3_endpoint: str,
                                                                      tmp_path: Path) -> None:
    s3.mkdir("coco")
    s3.put(str(DEMO) + "/", "coco/demo/", recursive=True)
    names = ("instances_train.json", "instances_val.json")
    local = run(["scan", *(str(DEMO / n) for n in names), "--root", str(DEMO / "images"),
                 "--out", str(tmp_path / "local"), "--quiet"])
    remote = run(["scan", *(f"s3://coco/demo/{n}" for n in names), "--root", "s3://coco/demo/images/",
                  "--storage-option", f"endpoint_url={s3_endpoint}", "--out", str(tmp_path / "remote"), "--quiet"])
    assert local == remote == 1
    on_disk = json.loads((tmp_path / "local" / "report.json").read_text())
    in_bucket = json.loads((tmp_path / "remote" / "report.json").read_text())
    assert in_bucket["manifest"]["path"] == "s3://coco/demo/instances_train.json (+1 more)"
    assert comparable(in_bucket, "s3://coco/demo/images/") == comparable(on_disk, str(DEMO / "images") + "/")
    for name in names:
        filtered = (tmp_path / "remote" / name.replace(".json", ".filtered.json")).read_bytes()
        assert filtered == (tmp_path / "local" / name.replace(".json", ".filtered.json")).read_bytes()
    assert COCO(str(tmp_path / "remote" / "instances_train.filtered.json")).anns


def test_a_missing_annotation_object_is_a_usage_error(s3: Any, s3_endpoint: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    s3.mkdir("empty-bucket")
    assert run(["scan", "s3://empty-bucket/instances_train.json", "--storage-option", f"endpoint_url={s3_endpoint}",
                "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "s3://empty-bucket/instances_train.json" in err
