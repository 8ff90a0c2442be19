"""WebDataset tar shards scanned by the real CLI: the same findings as the same files on disk, a shard cut
short, a sample without its mask, and the ways to name shards (brace pattern, glob, list file)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from maskaudit.cli import run
from tests.replay.dataset import pipeline

SHAPE = (32, 40)


def png(array: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def image(seed: int) -> Any:
    return np.random.default_rng(seed).integers(0, 255, size=(*SHAPE, 3), dtype=np.uint8)


def mask(kind: str) -> Any:
    if kind == "small":
        return np.zeros((16, 16), np.uint8)
    label = np.zeros(SHAPE, np.uint8)
    if kind == "lesion":
        label[4:20, 6:18] = 1
    return label


# (key, image seed, mask kind or None for no mask member), per shard
SAMPLES = [
    [("a00", 0, "lesion"), ("a01", 1, "small"), ("a02", 2, "empty")],
    [("b00", 3, "lesion"), ("b01", 4, None), ("b02", 0, "lesion")],
]


def member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_shards(folder: Path) -> list[Path]:
    shards = []
    for number, samples in enumerate(SAMPLES):
        path = folder / f"shard-{number:06d}.tar"
        with tarfile.open(path, "w") as tar:
            for key, seed, kind in samples:
                member(tar, f"{key}.jpg", png(image(seed)))  # named .jpg, sniffed as what it holds
                member(tar, f"{key}.json", json.dumps({"key": key}).encode())
                if kind is not None:
                    member(tar, f"{key}.seg.png", png(mask(kind)))
        shards.append(path)
    return shards


def write_loose(folder: Path) -> Path:
    """The same samples as loose files with a CSV manifest, in shard order."""
    lines = ["image_path,mask_path"]
    for samples in SAMPLES:
        for key, seed, kind in samples:
            (folder / f"{key}.jpg").write_bytes(png(image(seed)))
            if kind is not None:
                (folder / f"{key}.seg.png").write_bytes(png(mask(kind)))
            lines.append(f"{key}.jpg,{key}.seg.png" if kind is not None else f"{key}.jpg,")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def scan(manifest: str, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = run(["scan", manifest, "--out", str(out), "--quiet", "--no-cache", *extra])
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    return code, report


def found(report: dict[str, Any]) -> set[tuple[str, int, str]]:
    """Each finding's code, row and file name (a member's name, without its shard)."""
    return {(f["code"], f["row"], f["path"].rpartition(":")[2].rpartition("/")[2]) for f in report["findings"]}


@pytest.fixture
def shards(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "shards"
    folder.mkdir()
    return write_shards(folder)


def test_shards_give_the_findings_of_the_same_files_on_disk(shards: list[Path], tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    code, report = scan(str(shards[0].parent / "shard-{000000..000001}.tar"), tmp_path / "out")
    disk_code, disk = scan(str(write_loose(loose)), tmp_path / "disk-out")
    assert found(report) == found(disk)
    assert {"M005", "M002", "R001", "R007"} <= {f["code"] for f in report["findings"]}
    assert code == disk_code == 1
    assert report["manifest"]["rows"] == 6


def test_a_finding_names_the_shard_and_the_member(shards: list[Path], tmp_path: Path) -> None:
    _, report = scan(str(shards[0].parent / "shard-*.tar"), tmp_path / "out")
    mismatch = next(f for f in report["findings"] if f["code"] == "M005")
    assert (mismatch["row"], mismatch["path"]) == (1, "shard-000000.tar:a01.seg.png")


def test_a_sample_without_its_mask_is_a_finding_and_the_rest_is_kept(shards: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    scan(str(shards[0].parent / "shard-{000000..000001}.tar"), out)
    report = json.loads((out / "report.json").read_text())
    missing = [f for f in report["findings"] if f["code"] == "R001"]
    assert [(f["row"], f["path"]) for f in missing] == [(4, "shard-000001.tar:b01.jpg")]
    kept = (out / "filtered.csv").read_text().splitlines()
    assert kept[0] == "shard,key"
    assert "shard-000001.tar,b01" not in kept and "shard-000001.tar,b00" in kept
    assert len(kept) - 1 == report["summary"]["rows_kept"]


@pytest.mark.parametrize(("where", "named"), [("data", "shard-000000.tar:a01.seg.png"),
                                               ("header", "shard-000000.tar:(truncated)")])
def test_a_truncated_shard_is_a_finding_and_the_scan_goes_on(shards: list[Path], tmp_path: Path, where: str,
                                                             named: str) -> None:
    with tarfile.open(shards[0]) as tar:
        members = tar.getmembers()
    cut_member = members[5]  # a01.seg.png: cut inside its data, or inside the header after it
    cut = cut_member.offset_data + 10 if where == "data" else members[6].offset + 100
    shards[0].write_bytes(shards[0].read_bytes()[:cut])
    code, report = scan(str(shards[0].parent / "shard-{000000..000001}.tar"), tmp_path / "out")
    assert code == 1
    errors = {(f["code"], f["path"]) for f in report["findings"] if f["severity"] == "error"}
    assert any(path == named and code != "R001" for code, path in errors), errors
    assert ("R001", "shard-000001.tar:b01.jpg") in errors  # the next shard was read


def test_an_intact_shard_has_no_truncation_finding(shards: list[Path], tmp_path: Path) -> None:
    _, report = scan(str(shards[1]), tmp_path / "out")
    assert not [f for f in report["findings"] if "(truncated)" in f["path"] or f["code"] == "I001"]


def test_a_list_file_names_shards_like_the_pattern(shards: list[Path], tmp_path: Path) -> None:
    listing = tmp_path / "shards.txt"
    listing.write_text("".join(f"shards/{p.name}\n" for p in shards))
    _, listed = scan(str(listing), tmp_path / "listed")
    _, pattern = scan(str(shards[0].parent / "shard-{000000..000001}.tar"), tmp_path / "pattern")
    assert found(listed) == found(pattern)


def test_extensions_are_detected_or_given(shards: list[Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = scan(str(shards[0]), tmp_path / "wrong", "--mask-ext", "json")
    assert code == 1  # json masks do not decode: findings, not a crash
    code, report = scan(str(shards[0]), tmp_path / "given", "--image-ext", "jpg", "--mask-ext", "seg.png")
    assert report["manifest"]["columns"]["mask"] == "seg.png"
    lone = tmp_path / "lone.tar"
    with tarfile.open(lone, "w") as tar:
        member(tar, "x.jpg", png(image(0)))
    capsys.readouterr()
    assert run(["scan", str(lone), "--out", str(tmp_path / "lone-out"), "--quiet"]) == 2
    assert "--mask-ext" in capsys.readouterr().err


def test_a_missing_shard_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", str(tmp_path / "shard-{000000..000001}.tar"), "--out", str(tmp_path / "out")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_html_report_and_the_replay_picture_shard_members(shards: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    _, report = scan(str(shards[0].parent / "shard-*.tar"), out, "--pipeline", pipeline("clip_then_gamma"),
                     "--replay-samples", "3", "--replay-repeats", "1")
    mismatch = report["thumbnails"]["1"]  # shape-mismatch: the image and the mask side by side
    assert mismatch["check"] == "shape-mismatch" and mismatch["note"] is None
    assert [p["label"] for p in mismatch["pictures"]] == ["image 32x40", "mask 16x16"]
    assert report["thumbnails"]["4"]["note"] == "no mask path"  # b01 has no mask member
    assert report["pipeline"]["samples"] == 3
    replayed = [entry for key, entry in report["thumbnails"].items() if key.startswith("replay:")]
    assert replayed and all(entry["pictures"] for entry in replayed)
    html = (out / "report.html").read_text()
    assert html.count('<img src="data:image/') >= len(report["thumbnails"]) + len(replayed)


def test_the_replay_command_samples_shard_members(shards: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = run(["replay", str(shards[0].parent / "shard-{000000..000001}.tar"), "--pipeline",
                pipeline("clip_then_gamma"), "--replay-samples", "6", "--replay-repeats", "1", "--out", str(out),
                "--quiet"])
    report = json.loads((out / "replay.json").read_text())
    assert code in (0, 1) and report["pipeline"]["samples"] == 6


def test_write_shards_copies_the_kept_samples_into_new_shards(shards: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, report = scan(str(shards[0].parent / "shard-{000000..000001}.tar"), out, "--write-shards")
    assert code == 1 and report["outputs"]["filtered_shards"] == str(out / "*.tar")
    kept = [tuple(line.split(",")) for line in (out / "filtered.csv").read_text().splitlines()[1:]]
    assert 0 < len(kept) < 6
    written: list[tuple[str, str]] = []
    for shard in shards:
        with tarfile.open(shard) as original, tarfile.open(out / shard.name) as copy:
            members = copy.getmembers()
            keys = list(dict.fromkeys(name.split(".")[0] for name in copy.getnames()))
            written += [(shard.name, key) for key in keys]
            expected = [m for m in original.getmembers() if m.name.split(".")[0] in keys]
            assert [m.name for m in members] == [m.name for m in expected]  # every member of a kept key, in order
            for new, old in zip(members, expected, strict=True):
                assert copy.extractfile(new).read() == original.extractfile(old).read()  # type: ignore[union-attr]
    assert written == kept
    rescan_code, rescan = scan(str(out / "shard-*.tar"), tmp_path / "rescan")
    assert rescan["manifest"]["rows"] == len(kept)
    assert not [f for f in rescan["findings"] if f["severity"] == "error"] and rescan_code == 0


def test_write_shards_of_a_cut_shard_copies_the_whole_members_before_the_cut(shards: list[Path],
                                                                             tmp_path: Path) -> None:
    with tarfile.open(shards[1]) as tar:
        members = tar.getmembers()
    shards[1].write_bytes(shards[1].read_bytes()[:members[-1].offset_data + 10])  # b02.seg.png cut short
    out = tmp_path / "out"
    scan(str(shards[1]), out, "--write-shards")
    with tarfile.open(out / shards[1].name) as copy:
        assert copy.getnames() == ["b00.jpg", "b00.json", "b00.seg.png"]  # b01 lacks its mask, b02 is cut


def test_write_shards_of_a_manifest_that_is_not_shards_is_a_usage_error(
        shards: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    assert run(["scan", str(write_loose(loose)), "--out", str(tmp_path / "out"), "--write-shards"]) == 2
    assert "--write-shards" in capsys.readouterr().err and not (tmp_path / "out").exists()
