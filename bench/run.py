"""One run of maskaudit's benchmark: masks/s against a bare and a naive loop, scaling, manifest memory.

    python -m bench.run [--data FOLDER] [--rows N] [--repeat R]

Every timed loop reads and decodes both files of every row (the image and the mask), from a warm page
cache: the files are read once before any timing. Rates are rows/s, which is masks/s.

- maskaudit: ``scan_rows`` over the parquet manifest (decode, hash, image statistics, mask label histogram
  into facts), and ``run_audit`` (the same plus every check, the judgement and the report).
- bare: a ThreadPoolExecutor with one worker per core, chunks of 32 rows; per row it reads both files,
  decodes them with ``cv2.imdecode`` (IMREAD_UNCHANGED) and counts the mask's nonzero pixels. Nothing else:
  no hashing, no image statistics, no label histogram. Decoding every file once is the floor of a full audit.
- naive: ``pandas.read_parquet`` + ``iterrows``, one thread, PIL decode, ``np.unique`` on the mask and numpy
  mean/std/min/max on the image.
- remote: 2,000 rows scanned from a local S3 server behind a 30 ms latency proxy against the same files on disk
  (bench/remote_bench.py: rate, requests/s, bytes read).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from bench.generate import DEFAULT_FOLDER, DEFAULT_ROWS, generate
from bench.hostile import report as hostile_report
from bench.hostile import run_hostile_bench

CHUNK = 32
MEMORY_ROWS = (100_000, 1_000_000)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def rows_of(manifest: Path) -> list[tuple[Path, Path]]:
    table = pq.read_table(manifest, columns=["image_path", "mask_path"])
    root = manifest.parent
    return [(root / i, root / m) for i, m in zip(table["image_path"].to_pylist(), table["mask_path"].to_pylist(),
                                                   strict=True)]


def warm(rows: list[tuple[Path, Path]]) -> int:
    """Read every file once so that all loops time decoding from the page cache, not the disk."""
    return sum(len(image.read_bytes()) + len(mask.read_bytes()) for image, mask in rows)


def _bare_chunk(chunk: list[tuple[Path, Path]]) -> int:
    foreground = 0
    for image_path, mask_path in chunk:
        image = cv2.imdecode(np.frombuffer(image_path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
        mask = cv2.imdecode(np.frombuffer(mask_path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
        if image is None or mask is None:
            raise RuntimeError(f"cannot decode {image_path} or {mask_path}")
        foreground += cv2.countNonZero(mask)
    return foreground


def bare_loop(rows: list[tuple[Path, Path]], workers: int) -> int:
    chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_bare_chunk, chunks))


def naive_loop(manifest: Path) -> int:
    frame = pd.read_parquet(manifest)
    foreground = 0
    for _, row in frame.iterrows():
        with Image.open(manifest.parent / str(row["image_path"])) as img:
            image = np.asarray(img)
        with Image.open(manifest.parent / str(row["mask_path"])) as msk:
            mask = np.asarray(msk)
        values, counts = np.unique(mask, return_counts=True)
        foreground += int(counts[values != 0].sum())
        _ = (image.min(), image.max(), image.mean(), image.std())
    return foreground


def maskaudit_scan(manifest: Path | str, workers: int, root: Path | str | None = None) -> int:
    """Rows scanned by the map of every partition (decode, hash, statistics into facts), judged per row."""
    from maskaudit.api import scan_partitions
    from maskaudit.manifest import detect_columns, open_manifest
    from maskaudit.settings import Settings

    opened = open_manifest(manifest)
    base = root if root is not None else opened.base
    rows = unmeasured = 0
    for result in scan_partitions(opened, detect_columns(opened, {}), base, Settings(), workers):
        rows += result.size
        unmeasured += result.facts.column("image").null_count + result.facts.column("mask").null_count
    if unmeasured:
        raise RuntimeError(f"{unmeasured} files could not be measured")
    return rows


def cpu_per_row(manifest: Path, rows: int = 256, repeat: int = 3) -> dict[str, float]:
    """CPU microseconds a row in this one process, the median of ``repeat`` interleaved runs over the first
    rows: the bare loop's chunk against the map of one partition (measure, judge, keys, aggregates, facts
    batch). CPU time, not wall time, so other jobs on the machine move it little."""
    from maskaudit.limits import Limits
    from maskaudit.manifest import detect_columns, open_manifest
    from maskaudit.partitions import iter_tasks, map_partition
    from maskaudit.settings import Settings

    opened = open_manifest(manifest.absolute())  # an absolute root, as the CLI's
    task = next(iter_tasks(opened, detect_columns(opened, {}), opened.base, Limits(), Settings(), rows))
    chunk = rows_of(manifest)[: task.size]
    map_partition(task), _bare_chunk(chunk)  # imports and first-call costs outside the timings
    bare, scan = [], []
    for _ in range(repeat):
        started = time.process_time()
        _bare_chunk(chunk)
        bare.append((time.process_time() - started) / len(chunk) * 1e6)
        started = time.process_time()
        map_partition(task)
        scan.append((time.process_time() - started) / task.size * 1e6)
    return {"bare_us": statistics.median(bare), "scan_us": statistics.median(scan), "rows": task.size}


def maskaudit_audit(manifest: Path, workers: int) -> int:
    from maskaudit.api import run_audit

    return run_audit(manifest, workers=workers).rows


def timed(action: Callable[[], object], rows: int) -> float:
    start = time.perf_counter()
    action()
    return rows / (time.perf_counter() - start)


def facts_bytes_per_row(manifest: Path, sample: int = 1000) -> float:
    """Deep size of the facts of the first rows (every object counted once), per row."""
    from maskaudit.manifest import detect_columns, open_manifest
    from maskaudit.scan import iter_specs, measure_row

    opened = open_manifest(manifest)
    specs = iter_specs(opened, detect_columns(opened, {}))
    facts = [measure_row(s, manifest.parent) for s, _ in zip(specs, range(sample), strict=False)]
    seen: set[int] = set()

    def size(obj: Any) -> int:
        if id(obj) in seen:
            return 0
        seen.add(id(obj))
        total = sys.getsizeof(obj)
        if isinstance(obj, (tuple, list)):
            total += sum(size(o) for o in obj)
        elif isinstance(obj, dict):
            total += sum(size(k) + size(v) for k, v in obj.items())
        elif hasattr(obj, "__slots__"):
            total += sum(size(getattr(obj, s)) for s in obj.__slots__ if hasattr(obj, s))
        return total

    return sum(size(f) for f in facts) / len(facts)


# --- memory of reading a long manifest, one fresh interpreter per measurement -------------------------

MEMORY_CHILD = """
import resource, sys, time
from pathlib import Path


def high_water_kib() -> int:
    # VmHWM belongs to this process's own address space; ru_maxrss can carry the parent's peak over exec
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


from maskaudit.manifest import detect_columns, open_manifest
from maskaudit.scan import iter_specs
manifest = open_manifest(Path(sys.argv[1]))
columns = detect_columns(manifest, {})
base = high_water_kib()
start = time.perf_counter()
rows = sum(1 for _ in iter_specs(manifest, columns))
seconds = time.perf_counter() - start
print(rows, base, high_water_kib(), seconds)
"""


def long_manifest(folder: Path, rows: int) -> Path:
    path = folder / f"manifest-{rows}.parquet"
    if path.exists() and pq.ParquetFile(path).metadata.num_rows == rows:
        return path
    index = np.arange(rows)
    names = pa.array([f"{i:07d}" for i in index.tolist()])
    table = pa.table({
        "image_path": pa.compute.binary_join_element_wise("images/", names, ".jpg", ""),
        "mask_path": pa.compute.binary_join_element_wise("masks/", names, ".png", ""),
        "split": pa.array(np.where(index % 5 == 0, "val", "train")),
        "patient_id": pa.compute.binary_join_element_wise("p", pa.array([f"{i // 20:06d}" for i in index]), ""),
    })
    pq.write_table(table, path)
    return path


def manifest_memory(path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(path)], check=True, capture_output=True,
                         text=True).stdout.split()
    rows, base, peak, seconds = int(out[0]), int(out[1]), int(out[2]), float(out[3])
    return {"rows": rows, "baseline_mib": base / 1024, "peak_mib": peak / 1024, "delta_mib": (peak - base) / 1024,
            "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each threaded loop; medians shown")
    parser.add_argument("--naive-rows", type=int, default=1000, help="rows the (slow) naive loop times")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    n = cores()
    print(f"maskaudit benchmark, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {n} cores, "
          f"Python {platform.python_version()}, OpenCV {cv2.__version__}, numpy {np.__version__}")
    started = time.perf_counter()
    manifest = generate(args.data, args.rows)
    rows = rows_of(manifest)
    count = len(rows)
    print(f"dataset: {count} rows in {args.data}/ (512x512 RGB JPEG images, 512x512 uint8 PNG masks), "
          f"ready in {time.perf_counter() - started:.1f} s")
    size = warm(rows)
    print(f"page cache warmed: read {size / 1e6:.0f} MB once before timing")

    bare_loop(rows[: CHUNK * n], n)  # import and thread start-up outside the timings
    maskaudit_scan(manifest, n)
    figures: dict[str, Any] = {"cores": n, "rows": count}
    rates: dict[str, list[float]] = {"bare": [], "scan": []}
    for _ in range(args.repeat):  # interleaved, so drift hits both alike
        rates["bare"].append(timed(lambda: bare_loop(rows, n), count))
        rates["scan"].append(timed(lambda: maskaudit_scan(manifest, n), count))
    bare, scan = statistics.median(rates["bare"]), statistics.median(rates["scan"])
    audit = timed(lambda: maskaudit_audit(manifest, n), count)
    scan_one = timed(lambda: maskaudit_scan(manifest, 1), count)
    bare_one = timed(lambda: bare_loop(rows, 1), count)
    naive_manifest = manifest
    naive_count = min(args.naive_rows, count)
    if naive_count < count:
        naive_manifest = args.data / f"manifest-first-{naive_count}.parquet"
        pq.write_table(pq.read_table(manifest).slice(0, naive_count), naive_manifest)
    naive = timed(lambda: naive_loop(naive_manifest), naive_count)
    figures.update(bare=bare, scan=scan, audit=audit, naive=naive, scan_one_core=scan_one,
                   bare_one_core=bare_one, bare_runs=rates["bare"], scan_runs=rates["scan"])

    def line(name: str, rate: float, note: str) -> None:
        print(f"  {name:<28} {rate:8.0f} masks/s  {note}")

    print(f"\nthroughput, {count} rows, {n} workers, medians of {args.repeat} runs where shown:")
    line("maskaudit scan_rows", scan, f"{scan / bare:.2f}x bare, {scan / naive:.1f}x naive")
    line("maskaudit run_audit", audit, f"{audit / bare:.2f}x bare (with checks and report)")
    line("bare loop", bare, "threaded cv2 decode of image and mask + countNonZero")
    line(f"naive loop ({naive_count} rows)", naive, "iterrows + PIL + numpy, one thread")
    print(f"\nscaling: maskaudit {scan_one:.0f} masks/s on 1 worker, {scan:.0f} on {n}: {scan / scan_one:.2f}x; "
          f"bare {bare_one:.0f} -> {bare:.0f}: {bare / bare_one:.2f}x")
    cpu = cpu_per_row(manifest)
    figures["cpu_per_row"] = cpu
    print(f"CPU a row in one process ({cpu['rows']} rows, medians of 3): bare {cpu['bare_us']:.0f} us, map of a "
          f"partition {cpu['scan_us']:.0f} us: {cpu['bare_us'] / cpu['scan_us']:.2f}x bare")
    per_row = facts_bytes_per_row(manifest)
    figures["facts_bytes_per_row"] = per_row
    print(f"facts held per row (deep size, first 1000 rows): {per_row:.0f} bytes")

    print("\nmanifest reading (iter_specs over a 4-column parquet manifest, fresh interpreter each, peak RSS):")
    memory = []
    for rows_wanted in MEMORY_ROWS:
        result = manifest_memory(long_manifest(args.data, rows_wanted))
        memory.append(result)
        print(f"  {result['rows']:>9,} rows: +{result['delta_mib']:.0f} MiB over the interpreter's "
              f"{result['baseline_mib']:.0f} MiB, {result['seconds']:.2f} s")
    figures["memory"] = memory

    try:
        from bench import replay_bench
    except ImportError:
        print("\nreplay benchmark: skipped (bench/replay_bench.py is not there)")
    else:
        replay = replay_bench.run_replay_bench()
        figures["replay"] = replay
        print(f"\nreplay benchmark: {json.dumps(replay, default=str)}")

    from bench.scale_bench import run_scale_bench

    figures["scale"] = run_scale_bench(memory_rows=(100_000, 1_000_000))

    hostile = run_hostile_bench(args.data / "hostile")
    figures["hostile"] = hostile
    print(f"\n{hostile_report(hostile)}")

    from bench.report_bench import describe, run_report_bench

    reports = run_report_bench()
    figures["reports"] = reports
    print("\nreports (synthetic findings over 30 checks, half in one; seconds):")
    for entry in reports:
        print(describe(entry))

    from bench.cache_bench import report as cache_report
    from bench.cache_bench import run_cache_bench

    cache = run_cache_bench(args.data)
    figures["cache"] = cache
    print(f"\n{cache_report(cache)}")

    from bench.remote_bench import report as remote_report

    # its own process: a scan from a store starts its worker processes with the storage backend imported, and
    # this process's workers were started by the local scans above
    with tempfile.TemporaryDirectory() as folder:
        figures_file = Path(folder) / "remote.json"
        subprocess.run([sys.executable, "-m", "bench.remote_bench", "--data", str(args.data), "--workers", str(n),
                        "--json", str(figures_file)], check=True, stdout=subprocess.DEVNULL)
        remote = json.loads(figures_file.read_text())
    figures["remote"] = remote
    print(f"\n{remote_report(remote)}")

    from bench.dask_bench import report as dask_report
    from bench.dask_bench import run_dask_bench

    dask = run_dask_bench()
    figures["dask"] = dask
    print(f"\n{dask_report(dask)}")

    from bench.coco_bench import report as coco_report
    from bench.coco_bench import run_coco_bench

    coco = run_coco_bench()
    figures["coco"] = coco
    print(f"\n{coco_report(coco)}")

    print(f"\ntotal benchmark time {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
