"""Scale benchmark: the scan on tiny 32x32 files (not decode-bound) and on 512x512 photographs, one worker
process against two; peak memory of an end-to-end scan summed over its process tree; the reduce over many
synthetic rows. Every figure is measured in a fresh interpreter.

    python -m bench.scale_bench [--rows N] [--memory-rows N,N] [--reduce-rows N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.generate import generate

TINY = 32
TINY_FOLDER = Path("bench-data/tiny")
PHOTO_FOLDER = Path("bench-data/photo")
TODAY_ROWS_PER_SECOND = 3350  # tiny files, 2 cores, before the process engine (issue 9)


def tiny_dataset(rows: int, folder: Path = TINY_FOLDER) -> Path:
    """A manifest of ``rows`` rows of 32x32 PNG images and masks, every picture distinct (no duplicate or
    leakage finding), one mask in ten empty; files already there are reused."""
    images, masks = folder / "images", folder / "masks"
    images.mkdir(parents=True, exist_ok=True)
    masks.mkdir(parents=True, exist_ok=True)
    for i in range(rows):
        image_path, mask_path = images / f"{i:08d}.png", masks / f"{i:08d}.png"
        if image_path.exists() and mask_path.exists():
            continue
        rng = np.random.default_rng([7, i])
        mask = np.zeros((TINY, TINY), np.uint8)
        if i % 10:
            x, y = (int(v) for v in rng.integers(4, TINY - 4, size=2))
            cv2.circle(mask, (x, y), int(rng.integers(2, 8)), int(1 + i % 3), thickness=-1)
        image = rng.integers(0, 255, size=(TINY, TINY, 3), dtype=np.uint8)
        cv2.imwrite(str(mask_path), mask)
        cv2.imwrite(str(image_path), image)
    manifest = folder / f"manifest-{rows}.parquet"
    if not manifest.exists():
        names = [f"{i:08d}.png" for i in range(rows)]
        pq.write_table(pa.table({
            "image_path": [f"images/{n}" for n in names],
            "mask_path": [f"masks/{n}" for n in names],
            "split": ["val" if i % 5 == 0 else "train" for i in range(rows)],
        }), manifest)
    return manifest


def _noop(task: int) -> int:
    return task


def _child_scan(manifest: Path, workers: int) -> dict[str, float]:
    """In a fresh interpreter: the scan's time with the worker pool's start-up measured apart."""
    from maskaudit.api import scan_partitions
    from maskaudit.engines.local import map_ordered
    from maskaudit.manifest import detect_columns, open_manifest
    from maskaudit.settings import Settings

    list(map_ordered(_noop, range(2), workers))  # the fork server starts once per interpreter
    started = time.perf_counter()
    list(map_ordered(_noop, range(2), workers))  # what starting the scan's own pool costs
    startup = time.perf_counter() - started
    opened = open_manifest(manifest)
    started = time.perf_counter()
    rows = sum(r.size for r in scan_partitions(opened, detect_columns(opened, {}), manifest.parent,
                                                    Settings(), workers))
    total = time.perf_counter() - started
    return {"rows": rows, "seconds": total - (startup if workers > 1 else 0.0), "startup": startup}


def scan_rate(manifest: Path, workers: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "bench.scale_bench", "--child-scan", str(manifest), str(workers)],
                         check=True, capture_output=True, text=True).stdout
    figures: dict[str, float] = json.loads(out.splitlines()[-1])
    figures["rows_per_second"] = figures["rows"] / figures["seconds"]
    return figures


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and every descendant, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status") as stream:
                total += next(int(line.split()[1]) for line in stream if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total


def end_to_end(manifest: Path, out: Path, workers: int) -> dict[str, float]:
    """The CLI scan of a manifest, cold (no facts cache): wall time and peak resident memory summed over its
    process tree."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "maskaudit", "scan", str(manifest), "--out", str(out), "-q",
                              "--workers", str(workers), "--fail-on", "never", "--no-cache"])
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss_kib(child.pid))
        time.sleep(0.05)
    if child.returncode != 0:
        raise RuntimeError(f"scan of {manifest} exited {child.returncode}")
    return {"seconds": time.perf_counter() - started, "peak_mib": peak / 1024}


class SyntheticFacts:
    """Facts read back for the few rows the reduce reports, made up from their numbers."""

    def rows(self, numbers: Any) -> dict[int, Any]:
        from maskaudit.facts import RowFacts

        return {n: RowFacts(n, f"images/{n:08d}.png", f"masks/{n:08d}.png", "val" if n % 5 == 0 else "train")
                for n in numbers}


def synthetic_partition(first: int, size: int) -> Any:
    """A partition result as the map makes it for tiny distinct files: keys, aggregates, no findings."""
    from maskaudit.aggregates import Aggregates
    from maskaudit.keys import Keys, MaskKind
    from maskaudit.partitions import PartitionResult

    rng = np.random.default_rng(first)
    rows = np.arange(first, first + size, dtype=np.int64)
    split = (rows % 5 != 0).astype(np.int32)  # 0: val, 1: train (local numbering, as a map gives it)
    hashes = (rng.integers(1, 2**63, size=(6, size), dtype=np.int64).astype(np.uint64) << np.uint64(1)) | np.uint64(1)
    empty = rows % 10 == 0
    ones = np.ones(size, np.bool_)
    keys = Keys(
        row=rows, split=split, dropped=np.zeros(size, np.bool_), image_path=hashes[0], mask_path=hashes[1],
        group=np.zeros(size, np.uint64), content=hashes[3], file_hash=hashes[4],
        phash=hashes[5], has_phash=ones, image_kind=np.zeros(size, np.int32), encoding=np.zeros(size, np.int8),
        minimum=np.zeros(size), maximum=np.full(size, 255.0), mean=rng.uniform(100, 150, size),
        std=rng.uniform(60, 80, size), mask_kind=np.full(size, MaskKind.LABEL_MAP, np.int8), non_empty=~empty,
        share=np.where(empty, 0.0, rng.uniform(0.01, 0.2, size)), scale=np.where(empty, 0, 1).astype(np.int8),
        negative=np.zeros(size, np.bool_), high=np.where(empty, -np.inf, 1.0 + rows % 3),
        only_ignore=np.zeros(size, np.bool_), undeclared=np.zeros(size, np.bool_),
    )
    masks = int((~empty).sum())
    aggregates = Aggregates(
        split_names=("val", "train"), kinds=(("uint8", 3, "uint8 0-255"),),
        label_pixels=({0.0: 900 * size // 5, 1.0: 60 * size // 5}, {0.0: 3600 * size // 5, 1.0: 240 * size // 5}),
        mask_dtypes={"uint8": size}, masks_with={1.0: masks, 2.0: masks // 3, 3.0: masks // 3},
        non_empty_masks=masks, scales={"indices {0,1,...}": masks},
    )
    return PartitionResult(pa.RecordBatch.from_pylist([]), (), keys, aggregates)


def _child_reduce(rows: int, partition: int = 2048) -> dict[str, float]:
    """In a fresh interpreter: synthetic partition results fed to the real reduce, as a scan feeds them."""
    from maskaudit.data_root import DataRoot
    from maskaudit.judge import Reduction
    from maskaudit.settings import Settings

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    reduction = Reduction(rows)
    for first in range(0, rows, partition):
        reduction.add(synthetic_partition(first, min(partition, rows - first)))
    merged = time.perf_counter() - started
    root = DataRoot("/data", declared=False)
    found: list[int] = []  # the size of each batch of findings the reduce hands on
    judgement = reduction.judge(Settings(), True, root, SyntheticFacts(),  # type: ignore[arg-type]
                                lambda batch: found.append(len(batch)))
    stats = judgement.context.by_split_stats()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": rows, "seconds": seconds, "merge_seconds": merged, "findings": sum(found),
            "splits": len(stats), "peak_mib": peak / 1024, "held_mib": (peak - base) / 1024}


def reduce_figures(rows: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "bench.scale_bench", "--child-reduce", str(rows)], check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.splitlines()[-1])
    return result


def run_scale_bench(rows: int = 20_000, photo_rows: int = 1000, memory_rows: tuple[int, ...] = (100_000,),
                    reduce_rows: int = 10_000_000) -> dict[str, Any]:
    """Every scale figure, printed as it comes; the figures returned."""
    figures: dict[str, Any] = {}
    tiny = tiny_dataset(rows)
    photo = generate(PHOTO_FOLDER, photo_rows)
    print("\nscale: processes, scan time with the pool's start-up excluded (fresh interpreter each):")
    for name, manifest in (("tiny 32x32", tiny), ("512x512", photo)):
        one, two = scan_rate(manifest, 1), scan_rate(manifest, 2)
        figures[name] = {"one": one, "two": two}
        print(f"  {name:<10} {int(one['rows']):>8} rows: 1 worker {one['rows_per_second']:7.0f} rows/s, "
              f"2 workers {two['rows_per_second']:7.0f} rows/s: {two['rows_per_second'] / one['rows_per_second']:.2f}x "
              f"(goal 1.8x; start-up {two['startup']:.2f} s)")
    from bench.run import cpu_per_row

    cpu = cpu_per_row(tiny, 2048)
    figures["tiny_cpu_per_row"] = cpu
    print(f"  tiny files, CPU a row in one process (a partition of {cpu['rows']}, medians of 3): bare "
          f"{cpu['bare_us']:.0f} us, map {cpu['scan_us']:.0f} us; 2 workers at that cost: at most "
          f"{2e6 / cpu['scan_us']:.0f} rows/s")
    best = figures["tiny 32x32"]["two"]["rows_per_second"]
    print(f"  tiny files: {best:.0f} rows/s, {best / TODAY_ROWS_PER_SECOND:.2f}x the {TODAY_ROWS_PER_SECOND} rows/s "
          f"before (goal 3x)")
    print("\nscale: end-to-end CLI scan of tiny files, 2 workers, peak RSS summed over the process tree:")
    for count in memory_rows:
        manifest = tiny_dataset(count)
        result = end_to_end(manifest, manifest.parent / f"out-{count}", 2)
        figures[f"end_to_end_{count}"] = result
        print(f"  {count:>9} rows: {result['seconds']:6.1f} s, peak {result['peak_mib']:6.0f} MiB "
              f"({result['peak_mib'] * 1024 * 1024 / count:.0f} bytes a row)")
    reduced = reduce_figures(reduce_rows)
    figures["reduce"] = reduced
    print(f"\nscale: the reduce over {reduce_rows:,} synthetic rows (partition results fed to the real reduce): "
          f"{reduced['seconds']:.1f} s (merging {reduced['merge_seconds']:.1f} s), "
          f"peak RSS {reduced['peak_mib']:.0f} MiB "
          f"({reduced['held_mib'] * 1024 * 1024 / reduce_rows:.0f} bytes a row); goal at 10,000,000 rows: 60 s, 2 GB")
    return figures


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child-scan":
        print(json.dumps(_child_scan(Path(sys.argv[2]), int(sys.argv[3]))))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child-reduce":
        print(json.dumps(_child_reduce(int(sys.argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000, help="tiny rows timed, 1 vs 2 workers")
    parser.add_argument("--photo-rows", type=int, default=1000, help="512x512 rows timed, 1 vs 2 workers")
    parser.add_argument("--memory-rows", default="100000", help="comma-separated row counts scanned end to end")
    parser.add_argument("--reduce-rows", type=int, default=10_000_000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures = run_scale_bench(args.rows, args.photo_rows, tuple(int(v) for v in args.memory_rows.split(",")),
                              args.reduce_rows)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
