"""The real CLI on the hostile corpus: every hostile row an error finding, nothing run, nothing changed, no hang.

Every scan runs in its own process group under a 4 GiB address cap and a timeout, so a regression fails
here instead of hanging the suite or exhausting the machine's memory. Speed and memory are measured by
`make bench-hostile`, not asserted here.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from numpy.typing import NDArray

from tests.hostile.corpus import Corpus, Row, build_corpus, npy_header
from tests.hostile.process import Measured, measure

SCAN_TIMEOUT = 300.0
SMALL_TIMEOUT = 120.0


def maskaudit(*args: str | Path, cwd: Path | None = None, timeout: float = SMALL_TIMEOUT) -> Measured:
    ran = measure([sys.executable, "-m", "maskaudit", *map(str, args)], timeout, cwd=cwd)
    assert not ran.timed_out, f"maskaudit {' '.join(map(str, args))} still running after {timeout:.0f} s"
    return ran


def snapshot(folder: Path, unreadable: tuple[Path, ...]) -> dict[str, tuple[object, ...]]:
    """Every entry under folder without following links: a link's target, a regular file's content hash, and
    for FIFOs, sockets, folders and the sparse file only their type and size (reading them is the hazard)."""
    entries: dict[str, tuple[object, ...]] = {}
    skip = set(unreadable)
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        kind = stat.S_IFMT(info.st_mode)
        name = str(path.relative_to(folder))
        if stat.S_ISLNK(info.st_mode):
            entries[name] = ("link", os.readlink(path))
        elif stat.S_ISREG(info.st_mode) and path not in skip:
            entries[name] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            entries[name] = (kind, info.st_size if stat.S_ISREG(info.st_mode) else None)
    return entries


@dataclass(frozen=True)
class Scanned:
    corpus: Corpus
    ran: Measured
    out: Path
    before: dict[str, tuple[object, ...]]
    after: dict[str, tuple[object, ...]]

    def findings(self, row: Row) -> list[dict[str, object]]:
        report = json.loads((self.out / "report.json").read_text())
        return [f for f in report["findings"] if f["row"] == row.index]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    corpus = build_corpus(tmp_path_factory.mktemp("hostile"))
    out = tmp_path_factory.mktemp("hostile-out")
    before = snapshot(corpus.folder, corpus.unreadable)
    ran = maskaudit("scan", corpus.manifest, "--out", out, "--quiet", "--workers", "2", cwd=out,
                    timeout=SCAN_TIMEOUT)
    return Scanned(corpus, ran, out, before, snapshot(corpus.folder, corpus.unreadable))


def test_the_scan_ends_with_exit_1_and_nothing_on_stderr(scanned: Scanned) -> None:
    assert scanned.ran.returncode == 1, scanned.ran.stderr[-2000:]
    assert scanned.ran.stderr == ""


def test_every_hostile_row_has_an_error_finding_that_says_why(scanned: Scanned) -> None:
    missing = []
    for row in scanned.corpus.hostile_rows:
        errors = [f for f in scanned.findings(row) if f["severity"] == "error"]
        matched = [f for f in errors if f["check"] == row.check
                   and any(word.lower() in str(f["message"]).lower() for word in row.keywords)]
        if not matched:
            missing.append(f"{row.case} as {row.role}: want {row.check} saying one of {row.keywords}, got "
                           f"{[(f['check'], f['message']) for f in errors]}")
    assert not missing, "\n".join(missing)


def test_clean_rows_have_no_findings(scanned: Scanned) -> None:
    for row in scanned.corpus.clean_rows:
        assert scanned.findings(row) == [], row


def test_no_payload_ran_and_the_input_is_unchanged(scanned: Scanned) -> None:
    assert scanned.ran.returncode is not None
    for marker in scanned.corpus.markers:
        assert not marker.exists(), f"{marker.name}: a payload in the data was executed"
    assert scanned.after == scanned.before


def test_the_filtered_manifest_holds_exactly_the_clean_rows(scanned: Scanned) -> None:
    filtered = pd.read_csv(scanned.out / "filtered.csv", dtype=str, keep_default_na=False)
    assert list(filtered.columns) == ["image_path", "mask_path", "split"]

    def where(folder: Path, path: str) -> str:  # paths are rewritten to resolve from the filtered manifest's folder
        return os.path.normpath(os.path.join(folder, path))

    kept = [(where(scanned.out, image), where(scanned.out, mask), split)
            for image, mask, split in filtered.itertuples(index=False, name=None)]
    base = scanned.corpus.manifest.parent
    assert kept == [(where(base, row.image_path), where(base, row.mask_path), row.split)
                    for row in scanned.corpus.clean_rows]


# --- one hazard at a time ----------------------------------------------------------------------------------


def write_png(path: Path, array: NDArray[np.uint8]) -> None:
    ok, encoded = cv2.imencode(".png", array)
    assert ok
    path.write_bytes(encoded.tobytes())


def one_row(folder: Path, image: str = "image.png", mask: str = "mask.png", seed: int = 0) -> Path:
    """A manifest of one clean row (a 64 x 64 noise image, about 12 KB, and a small mask) plus the files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / image).exists():
        write_png(folder / image, rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    if not (folder / mask).exists() and not (folder / mask).is_symlink():
        label = np.zeros((64, 64), np.uint8)
        label[8:30, 10:40] = 1
        write_png(folder / mask, label)
    manifest = folder / "data.csv"
    with manifest.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([["image_path", "mask_path", "split"],
                                                           [image, mask, "train"]])
    return manifest


def errors_of(out: Path) -> list[tuple[str, str]]:
    """(check, message) of every error finding on a row of a finished scan."""
    report = json.loads((out / "report.json").read_text())
    return [(f["check"], f["message"]) for f in report["findings"] if f["severity"] == "error" and f["row"] is not None]


def test_a_fifo_row_does_not_hang_the_scan(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    os.mkfifo(tmp_path / "data" / "mask.png")
    manifest = one_row(tmp_path / "data")
    ran = maskaudit("scan", manifest, "--out", tmp_path / "out", "--quiet", "--workers", "2")
    assert ran.returncode == 1, ran.stderr[-2000:]
    errors = errors_of(tmp_path / "out")
    assert any(check == "mask-unreadable" and "fifo" in message.lower() for check, message in errors), errors
    assert stat.S_ISFIFO((tmp_path / "data" / "mask.png").lstat().st_mode)


def test_max_file_bytes_turns_a_larger_file_into_a_finding_naming_the_option(tmp_path: Path) -> None:
    manifest = one_row(tmp_path / "data")
    assert (tmp_path / "data" / "image.png").stat().st_size > 1000 > (tmp_path / "data" / "mask.png").stat().st_size
    ran = maskaudit("scan", manifest, "--out", tmp_path / "out", "--quiet", "--max-file-bytes", "1000")
    assert ran.returncode == 1, ran.stderr[-2000:]
    errors = errors_of(tmp_path / "out")
    assert [check for check, _ in errors] == ["image-unreadable"], errors
    assert "--max-file-bytes" in errors[0][1]


def test_the_same_file_passes_without_the_small_cap(tmp_path: Path) -> None:
    manifest = one_row(tmp_path / "data")
    ran = maskaudit("scan", manifest, "--out", tmp_path / "out", "--quiet")
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert errors_of(tmp_path / "out") == []


@pytest.mark.parametrize("from_data_folder", [True, False], ids=["cwd-data", "cwd-elsewhere"])
def test_a_discovered_config_that_names_code_is_refused_and_never_run(tmp_path: Path, from_data_folder: bool) -> None:
    data = tmp_path / "data"
    manifest = one_row(data)
    marker = tmp_path / "CONFIG-CODE-RAN"
    (data / "evil.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).touch()\n\n\n"
        f"def make():\n    Path({str(marker)!r}).touch()\n    return None\n"
    )
    (data / "maskaudit.toml").write_text('pipeline = "evil.py:make"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if from_data_folder:
        ran = maskaudit("scan", "data.csv", cwd=data)
    else:
        ran = maskaudit("scan", manifest, "--out", tmp_path / "out", cwd=elsewhere)
    assert not marker.exists(), "code named by a configuration file found beside the data was executed"
    if not from_data_folder:  # configuration is discovered from the working directory: this file is never read
        assert ran.returncode == 0 and ran.stderr == "", (ran.returncode, ran.stderr[-2000:])
        return
    assert ran.returncode == 2, (ran.returncode, ran.stderr[-2000:])
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and "traceback" not in ran.stderr.lower(), ran.stderr
    assert "names code" in lines[0].lower() and "maskaudit.toml" in lines[0], lines[0]


def parquet_folder(folder: Path, first: pa.Table, second: pa.Table) -> Path:
    """A folder manifest of two parts; the files sit in the folder, the default root of a folder manifest."""
    rng = np.random.default_rng(3)
    manifest = folder / "manifest"
    manifest.mkdir(parents=True)
    for row in range(first.num_rows + second.num_rows):
        write_png(manifest / f"image-{row}.png", rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
        label = np.zeros((64, 64), np.uint8)
        label[row : row + 20, 10:40] = 1
        write_png(manifest / f"mask-{row}.png", label)
    pq.write_table(first, manifest / "part-0.parquet")
    pq.write_table(second, manifest / "part-1.parquet")
    return manifest


def paths(rows: range) -> dict[str, list[str]]:
    return {"image_path": [f"image-{r}.png" for r in rows], "mask_path": [f"mask-{r}.png" for r in rows],
            "split": ["train"] * len(rows)}


def test_parquet_parts_with_compatible_types_scan_as_one_manifest(tmp_path: Path) -> None:
    first = pa.table({**paths(range(0, 2)), "weight": pa.array([1, 2], pa.int32())})
    second = pa.table({**paths(range(2, 4)), "weight": pa.array([3, 4], pa.int64())})
    manifest = parquet_folder(tmp_path, first, second)
    ran = maskaudit("scan", manifest, "--out", tmp_path / "out", "--quiet")
    assert ran.returncode == 0, ran.stderr[-2000:]
    filtered = pq.read_table(tmp_path / "out" / "filtered.parquet")
    assert filtered.column("weight").to_pylist() == [1, 2, 3, 4]


def test_parquet_parts_with_incompatible_types_are_one_usage_line(tmp_path: Path) -> None:
    first = pa.table({**paths(range(0, 2)), "tags": pa.array(["a", "b"], pa.string())})
    second = pa.table({**paths(range(2, 4)), "tags": pa.array([["a"], ["b", "c"]], pa.list_(pa.string()))})
    manifest = parquet_folder(tmp_path, first, second)
    ran = maskaudit("scan", manifest, "--out", tmp_path / "out", "--quiet")
    assert ran.returncode == 2, (ran.returncode, ran.stderr[-2000:])
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and "traceback" not in ran.stderr.lower(), ran.stderr
    assert "part-0.parquet" in lines[0] and "part-1.parquet" in lines[0] and "tags" in lines[0], lines[0]


def test_a_truncated_npy_declaring_a_huge_array_is_a_finding(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "mask.npy").write_bytes(npy_header("<f8", (30_000, 30_000)))
    manifest = one_row(data, mask="mask.npy")
    ran = maskaudit("scan", manifest, "--out", tmp_path / "out", "--quiet")
    assert ran.returncode == 1, ran.stderr[-2000:]
    errors = errors_of(tmp_path / "out")
    assert any(check == "mask-unreadable" and "--max-pixels" in message for check, message in errors), errors


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_manifest_that_is_not_a_regular_file_is_refused_without_blocking(tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        manifest = tmp_path / "train.csv"
        os.mkfifo(manifest)
    else:
        manifest = Path("/dev/zero")
    ran = maskaudit("scan", manifest, "--out", tmp_path / "out")
    assert ran.returncode == 2, ran.stderr
    expected = "a FIFO, not a regular file" if kind == "fifo" else "a character device, not a regular file"
    assert ran.stderr.count("\n") == 1 and expected in ran.stderr, ran.stderr
