"""Manifests that hold their files: parquet cells of bytes (the Hugging Face ``Image`` feature) audited through
the same loader checks as files on disk, row groups read by the workers, findings naming the row and column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from maskaudit.api import run_audit
from maskaudit.cache import FactsCache
from maskaudit.cli import run
from maskaudit.held_files import read_files
from maskaudit.limits import Limits
from maskaudit.loading import load_bytes
from maskaudit.manifest import detect_columns, open_manifest
from maskaudit.partitions import iter_tasks
from maskaudit.settings import Settings
from tests.e2e.test_shards import write_shards
from tests.embedded.dataset import (
    IMAGE,
    Row,
    bomb_png,
    clean_rows,
    hf_metadata,
    mask,
    photo,
    png,
    write_embedded,
    write_on_disk,
)
from tests.replay.dataset import pipeline


def defects() -> list[Row]:
    """Clean rows with, at known rows, a truncated PNG mask, a declared-pixel bomb, a missing mask and image."""
    rows = clean_rows(12)
    rows[3] = Row(rows[3].image, png(mask(3))[:60], "train")
    rows[5] = Row(bomb_png(), rows[5].mask, "train")
    rows[7] = Row(rows[7].image, None, "train")
    rows[9] = Row(None, rows[9].mask, "train")
    return rows


def scan(manifest: Path, out: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code = run(["scan", str(manifest), "--out", str(out), "-q", *args])
    return code, json.loads((out / "report.json").read_text())


def by_row(report: dict[str, Any]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for finding in report["findings"]:
        if finding["row"] is not None:
            found.setdefault(finding["row"], set()).add(finding["check"])
    return found


def test_embedded_files_give_the_findings_the_same_files_on_disk_give(tmp_path: Path) -> None:
    rows = defects()
    embedded = write_embedded(tmp_path / "train.parquet", rows, row_group_size=4)
    disk = write_on_disk(tmp_path / "disk", rows)
    _, inside = scan(embedded, tmp_path / "out-inside")
    _, outside = scan(disk, tmp_path / "out-disk")
    assert by_row(inside) == by_row(outside)
    assert {3, 5, 7, 9} <= set(by_row(inside))
    messages = {f["row"]: f for f in inside["findings"] if f["row"] in (3, 5)}
    assert messages[3]["path"] == "train.parquet[row 3].mask"
    assert messages[5]["path"] == "train.parquet[row 5].image"
    assert "over --max-pixels" in messages[5]["message"]
    assert "image-not-found" in by_row(inside)[9] and "no-annotation" in by_row(inside)[7]


def test_the_huggingface_metadata_places_image_columns_names_do_not(tmp_path: Path) -> None:
    rows = clean_rows(3)
    table = pa.table({
        "pixels": pa.array([{"bytes": r.image, "path": None} for r in rows], IMAGE),
        "target": pa.array([{"bytes": r.mask, "path": None} for r in rows], IMAGE),
    }).replace_schema_metadata(hf_metadata({"pixels": {"_type": "Image"}, "target": {"_type": "Image"}}))
    pq.write_table(table, tmp_path / "hf.parquet")
    manifest = open_manifest(tmp_path / "hf.parquet")
    columns = detect_columns(manifest, {})
    assert (columns.image, columns.mask) == ("pixels", "target")
    assert manifest.embedded == {"pixels": False, "target": False}


def test_plain_binary_columns_and_path_only_cells(tmp_path: Path) -> None:
    rows = clean_rows(4)
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "m2.png").write_bytes(rows[2].mask or b"")
    table = pa.table({
        "image": pa.array([r.image for r in rows], pa.binary()),
        "mask": pa.array([{"bytes": r.mask if i != 2 else None, "path": "masks/m2.png" if i == 2 else None}
                          for i, r in enumerate(rows)], IMAGE),
    })
    pq.write_table(table, tmp_path / "plain.parquet")
    code, report = scan(tmp_path / "plain.parquet", tmp_path / "out")
    assert report["findings"] == [] and code == 0
    facts = pq.read_table(tmp_path / "out" / "facts.parquet").to_pylist()
    assert facts[2]["mask_path"] == "masks/m2.png" and facts[1]["mask_path"] == "plain.parquet[row 1].mask"
    filtered = pq.read_table(tmp_path / "out" / "filtered.parquet").column("mask").to_pylist()
    assert filtered[2] == {"bytes": None, "path": "../masks/m2.png"}  # resolves from the copy's folder
    assert filtered[1] == {"bytes": rows[1].mask, "path": None}


def test_loader_entry_checks_bytes_like_a_file() -> None:
    decoded, problem = load_bytes(png(photo(1)), "x.parquet[row 0].image", "image")
    assert problem is None and decoded is not None and decoded.array.shape == (32, 48, 3)
    _, too_big = load_bytes(png(photo(1)), "x", "image", Limits(max_file_bytes=10))
    assert too_big is not None and "--max-file-bytes" in too_big.message
    _, unknown = load_bytes(b"not an image at all", "x", "mask")
    assert unknown is not None and "unrecognised content" in unknown.message


def test_partitions_read_their_own_row_groups_and_number_rows_globally(tmp_path: Path) -> None:
    manifest = open_manifest(write_embedded(tmp_path / "train.parquet", clean_rows(10), row_group_size=3))
    columns = detect_columns(manifest, {})
    tasks = list(iter_tasks(manifest, columns, tmp_path, Limits(), Settings(), 5))
    assert all(task.images == () and task.row_groups is not None for task in tasks)  # no bytes in the task
    assert [(t.row_groups.first, t.row_groups.stop, t.offset) for t in tasks if t.row_groups] == [
        (0, 2, 0), (2, 4, 6)]
    specs = [spec for task in tasks for spec in task.specs()]
    assert [s.row for s in specs] == list(range(10))
    assert specs[7].image_path == "train.parquet[row 7].image" and specs[7].image_bytes is not None


def test_two_workers_give_what_one_gives(tmp_path: Path) -> None:
    rows = defects() + clean_rows(150, start=20)
    manifest = write_embedded(tmp_path / "train.parquet", rows, row_group_size=20)
    reports = [scan(manifest, tmp_path / f"out{w}", "--workers", str(w))[1]["findings"] for w in (1, 2)]
    assert reports[0] == reports[1] and reports[0]


def test_filtered_manifest_keeps_the_bytes_and_the_huggingface_metadata(tmp_path: Path) -> None:
    rows = defects()
    manifest = write_embedded(tmp_path / "train.parquet", rows)
    scan(manifest, tmp_path / "out")
    filtered = pq.read_table(tmp_path / "out" / "filtered.parquet")
    assert filtered.schema.metadata is not None and filtered.schema.metadata[b"huggingface"] == hf_metadata()[
        b"huggingface"]
    kept = filtered.column("image").to_pylist()
    assert 0 < len(kept) < len(rows) and all(cell["bytes"] for cell in kept)
    assert kept[0]["bytes"] == rows[0].image


def test_each_mask_of_a_list_is_audited_and_named(tmp_path: Path) -> None:
    rows = clean_rows(4)
    empty = png(np.zeros((32, 48), np.uint8))
    masks = [[{"bytes": r.mask, "path": None}] for r in rows]
    masks[1] = [{"bytes": rows[1].mask, "path": None}, {"bytes": rows[2].mask, "path": None},
                {"bytes": png(mask(1))[:70], "path": None}]
    masks[2] = [{"bytes": empty, "path": None}, {"bytes": rows[2].mask, "path": None}]
    table = pa.table({
        "image": pa.array([{"bytes": r.image, "path": None} for r in rows], IMAGE),
        "mask": pa.array(masks, pa.list_(IMAGE)),
    }).replace_schema_metadata(hf_metadata({"image": {"_type": "Image"}, "mask": [{"_type": "Image"}]}))
    pq.write_table(table, tmp_path / "many.parquet")
    assert open_manifest(tmp_path / "many.parquet").embedded == {"image": False, "mask": True}
    code, report = scan(tmp_path / "many.parquet", tmp_path / "out")
    named = {(f["row"], f["check"], f["path"]) for f in report["findings"]}
    assert (1, "mask-unreadable", "many.parquet[row 1].mask[2]") in named
    assert (2, "empty-mask", "many.parquet[row 2].mask[0]") in named
    assert not {row for row, _, _ in named} - {1, 2}
    assert code == 1
    facts = pq.read_table(tmp_path / "out" / "facts.parquet").to_pylist()
    assert len(facts) == 4 and facts[1]["mask_path"] == "many.parquet[row 1].mask[0]"
    kept = pq.read_table(tmp_path / "out" / "filtered.parquet").column("mask").to_pylist()
    assert kept == [masks[0], masks[2], masks[3]]  # an error in any element drops the row; a warning does not


def test_thumbnails_and_the_replay_load_embedded_files(tmp_path: Path) -> None:
    rows = clean_rows(8)
    rows[2] = Row(rows[2].image, png(np.zeros((32, 48), np.uint8)), "train")  # an empty mask: pictured
    manifest = write_embedded(tmp_path / "train.parquet", rows)
    _, report = scan(manifest, tmp_path / "out", "--pipeline", pipeline("clip_then_gamma"), "--replay-samples",
                        "4", "--replay-repeats", "1")
    thumb = report["thumbnails"]["2"]
    assert thumb["check"] == "empty-mask" and thumb["pictures"] and thumb["note"] is None
    assert report["pipeline"]["samples"] == 4
    assert any(key.startswith("replay:") and entry["pictures"] for key, entry in report["thumbnails"].items())


def test_a_scan_name_reads_its_cell_and_says_why_not(tmp_path: Path) -> None:
    rows = clean_rows(5)
    manifest = open_manifest(write_embedded(tmp_path / "train.parquet", rows, row_group_size=2))
    names = ["train.parquet[row 3].mask", "train.parquet[row 9].mask", "other.parquet[row 1].mask",
             "train.parquet[row 0].image"]
    (cell, none), (_, beyond), (_, elsewhere), (image, _) = read_files(names, "mask", tmp_path, Limits(), manifest)
    assert none is None and cell is not None and bytes(cell.data) == rows[3].mask
    assert image is not None and bytes(image.data) == rows[0].image
    assert beyond is not None and beyond.kind.name == "NOT_FOUND" and "no row 9" in beyond.message
    assert elsewhere is not None and "does not exist" in elsewhere.message  # not a cell of it: an ordinary path


def test_cells_of_a_folder_of_parts_are_read_by_their_row_across_the_parts(tmp_path: Path) -> None:
    rows = clean_rows(6)
    folder = tmp_path / "parts"
    folder.mkdir()
    write_embedded(folder / "a.parquet", rows[:4], row_group_size=3)
    write_embedded(folder / "b.parquet", rows[4:], row_group_size=3)
    manifest = open_manifest(folder)
    names = [f"parts[row {row}].mask" for row in (5, 0, 3, 4)]
    contents = read_files(names, "mask", tmp_path, Limits(), manifest)
    assert [bytes(c.data) if c is not None else None for c, _ in contents] == [rows[n].mask for n in (5, 0, 3, 4)]


def test_datasets_loads_the_filtered_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")  # local files only: the library never asks the Hub
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets  # the dev extra's: a training job's loader, not a dependency of maskaudit

    rows = defects()
    scan(write_embedded(tmp_path / "train.parquet", rows), tmp_path / "out")
    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "out" / "filtered.parquet"), split="train",
                                   cache_dir=str(tmp_path / "cache"))
    assert type(loaded.features["image"]).__name__ == "Image" and type(loaded.features["mask"]).__name__ == "Image"
    assert 0 < len(loaded) < len(rows) and loaded[0]["image"].size == (48, 32)


@pytest.mark.parametrize("held", ["parquet", "shards"])
def test_files_the_manifest_holds_are_known_by_content_to_the_cache(tmp_path: Path, held: str) -> None:
    if held == "parquet":
        manifest = str(write_embedded(tmp_path / "train.parquet", defects(), row_group_size=4))
    else:
        (tmp_path / "shards").mkdir()
        manifest = str(write_shards(tmp_path / "shards")[0].parent / "shard-*.tar")
    cold = run_audit(manifest, cache=FactsCache(tmp_path / "cache"), workers=1)
    warm = run_audit(manifest, cache=FactsCache(tmp_path / "cache"), workers=1)
    assert cold.cache is not None and warm.cache is not None
    assert cold.cache.same_content < cold.cache.measured and warm.cache.measured == 0
    assert warm.cache.same_content == cold.cache.files and warm.cache.unchanged == 0  # read, never indexed
    found = [[(f.check, f.row, f.path) for f in run.iter_findings()] for run in (cold, warm)]
    assert found[0] == found[1]
