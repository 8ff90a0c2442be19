"""The facts cache: a cold scan against a re-scan of unchanged files, and an edit in place seen on re-scan.

Each scan is the real CLI in a fresh process (`maskaudit scan --quiet`); the start-up, measured as a 1-row scan,
is subtracted so the figures compare scan time. Cold: an empty cache folder. Warm: the same scan again. Then the
same scan with --no-cache: what the cold scan pays to fill the cache.

    python -m bench.cache_bench [--data FOLDER] [--repeat R] [--tiny-rows N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.generate import DEFAULT_FOLDER, generate

BIG_ROWS = 2_000
TINY_ROWS = 100_000
TINY = 16
LABELS = "0,1,2"


def big_manifest(data: Path, rows: int = BIG_ROWS) -> Path:
    """The first rows of the 512x512 benchmark dataset, as their own manifest."""
    full = generate(data, max(rows, 4000))
    path = data / f"cache-{rows}.parquet"
    if not path.exists() or pq.ParquetFile(path).metadata.num_rows != rows:
        pq.write_table(pq.read_table(full).slice(0, rows), path)
    return path


def tiny_manifest(data: Path, rows: int) -> Path:
    """Rows of a 16x16 PNG image and a 16x16 uint8 .npy mask (a value edit keeps an .npy file's size)."""
    import cv2

    folder = data / "cache-tiny"
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "masks").mkdir(exist_ok=True)
    images, masks = [], []
    for i in range(rows):
        image, mask = folder / "images" / f"{i:06d}.png", folder / "masks" / f"{i:06d}.npy"
        images.append(f"images/{image.name}")
        masks.append(f"masks/{mask.name}")
        if image.exists() and mask.exists():
            continue
        rng = np.random.default_rng(i)
        cv2.imwrite(str(image), rng.integers(0, 255, (TINY, TINY, 3), dtype=np.uint8))
        np.save(mask, (rng.integers(0, 3, (TINY, TINY)) * (rng.random((TINY, TINY)) < 0.3)).astype(np.uint8))
    path = folder / f"manifest-{rows}.parquet"
    if not path.exists() or pq.ParquetFile(path).metadata.num_rows != rows:
        pq.write_table(pa.table({"image_path": images, "mask_path": masks,
                                 "split": ["val" if i % 5 == 0 else "train" for i in range(rows)]}), path)
    return path


def scan(manifest: Path, cache: Path, out: Path, *extra: str) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "maskaudit", "scan", str(manifest), "--quiet", "--out", str(out),
                           "--cache-dir", str(cache), "--labels", LABELS, *extra], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"scan of {manifest} failed ({done.returncode}): {done.stderr}")
    return seconds, done.returncode


def startup(manifest: Path, work: Path) -> float:
    """The time of a 1-row scan: the process start-up both cold and warm scans pay."""
    one = manifest.parent / f".one-row-{manifest.stem}.parquet"
    pq.write_table(pq.read_table(manifest).slice(0, 1), one)
    times = [scan(one, work / "one-cache", work / "one-out", "--no-cache")[0] for _ in range(3)]
    one.unlink()
    return statistics.median(times)


def cold_and_warm(manifest: Path, work: Path, repeat: int) -> dict[str, Any]:
    base = startup(manifest, work)
    cold, warm, bare = [], [], []
    for run in range(repeat):
        cache = work / f"cache-{manifest.stem}-{run}"
        cold.append(scan(manifest, cache, work / "out")[0] - base)
        warm.append(scan(manifest, cache, work / "out")[0] - base)
        bare.append(scan(manifest, cache, work / "out", "--no-cache")[0] - base)  # what filling the cache costs
        shutil.rmtree(cache)
    rows = pq.ParquetFile(manifest).metadata.num_rows
    c, w, n = statistics.median(cold), statistics.median(warm), statistics.median(bare)
    return {"rows": rows, "startup_s": base, "cold_s": c, "warm_s": w, "speedup": c / w, "no_cache_s": n,
            "cold_runs": cold, "warm_runs": warm, "no_cache_runs": bare}


def edit_detection(manifest: Path, work: Path) -> dict[str, Any]:
    """Scan, change one mask value in place (same size, mtime restored), scan again: the edit must show."""
    cache = work / "cache-edit"
    scan(manifest, cache, work / "edit-before")
    mask = manifest.parent / pq.read_table(manifest, columns=["mask_path"])["mask_path"][7].as_py()
    before = os.stat(mask)
    original = mask.read_bytes()
    try:
        with mask.open("r+b") as handle:
            handle.seek(-1, os.SEEK_END)
            handle.write(bytes([9]))
        os.utime(mask, ns=(before.st_atime_ns, before.st_mtime_ns))
        seconds, _ = scan(manifest, cache, work / "edit-after")
        report = json.loads((work / "edit-after" / "report.json").read_text())
        seen = any(f["check"] == "unexpected-label" and f.get("path") == mask.relative_to(manifest.parent).as_posix()
                   and "9" in f["message"] for f in report["findings"])
    finally:
        mask.write_bytes(original)
    shutil.rmtree(cache)
    return {"edited": str(mask.relative_to(manifest.parent)), "same_size": os.stat(mask).st_size == before.st_size,
            "reported": seen, "rescan_s": seconds}


def run_cache_bench(data: Path = DEFAULT_FOLDER, repeat: int = 3, tiny_rows: int = TINY_ROWS) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="cache-bench-"))
    try:
        big = big_manifest(data)
        tiny = tiny_manifest(data, tiny_rows)
        figures = {"big": cold_and_warm(big, work, repeat), "tiny": cold_and_warm(tiny, work, repeat),
                   "edit": edit_detection(tiny, work)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return figures


def report(figures: dict[str, Any]) -> str:
    lines = ["facts cache, re-scan of unchanged files (CLI scan time, 1-row start-up subtracted, medians):"]
    for key, what, goal in (("big", "512x512 rows", 20), ("tiny", "16x16 rows", 50)):
        f = figures[key]
        lines.append(f"  {f['rows']:>7,} {what}: cold {f['cold_s']:.2f} s, warm {f['warm_s']:.2f} s, "
                     f"{f['speedup']:.1f}x (goal {goal}x; start-up {f['startup_s']:.2f} s); the same scan "
                     f"without the cache {f['no_cache_s']:.2f} s (warm {f['no_cache_s'] / f['warm_s']:.1f}x "
                     f"faster; filling the cache cost {f['cold_s'] / f['no_cache_s'] - 1:+.0%})")
    edit = figures["edit"]
    lines.append(f"  edit in place ({edit['edited']}, same size, mtime restored): "
                 f"{'reported' if edit['reported'] else 'NOT REPORTED'} by the re-scan ({edit['rescan_s']:.2f} s)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tiny-rows", type=int, default=TINY_ROWS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run_cache_bench(args.data, args.repeat, args.tiny_rows)
    print(report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
