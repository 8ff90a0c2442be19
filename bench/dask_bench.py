"""Dask benchmark: the Dask engine's overhead against the local engine on the same cores, on tiny 32x32 files
(not decode-bound, so per-partition costs show), at several partition sizes; the smallest partition at which
the Dask engine is within 15% of the local engine; the time a local cluster takes to start and stop.

Both engines map the same partitions with the same worker count (one thread per worker process), the facts
cache off, the files read once beforehand so both find them in the page cache. Each time is the best of
``repeats`` runs, the two engines alternating.

    python -m bench.dask_bench [--rows N] [--sizes 128,256,512,1024,2048]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.scale_bench import tiny_dataset

GOAL = 0.15
DEFAULT_ROWS = 20_000
DEFAULT_SIZES = (128, 256, 512, 1024, 2048)


def _workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _tasks(manifest: Path, size: int) -> Callable[[], Iterator[Any]]:
    from maskaudit.limits import Limits
    from maskaudit.manifest import detect_columns, open_manifest
    from maskaudit.partitions import iter_tasks
    from maskaudit.settings import Settings

    opened = open_manifest(manifest)
    columns = detect_columns(opened, {})
    return lambda: iter_tasks(opened, columns, opened.base, Limits(), Settings(), size)


def _best_of_alternating(first: Callable[[], int], second: Callable[[], int], repeats: int) -> tuple[float, float]:
    """The best time of each action over ``repeats`` rounds, the two alternating so that both see the same load
    on a shared machine."""
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for i, action in enumerate((first, second)):
            started = time.perf_counter()
            action()
            best[i] = min(best[i], time.perf_counter() - started)
    return best[0], best[1]


def run_dask_bench(rows: int = DEFAULT_ROWS, sizes: tuple[int, ...] = DEFAULT_SIZES,
                   repeats: int = 4) -> dict[str, Any]:
    try:
        import distributed
    except ImportError:
        return {"skipped": "the dask extra is not installed (pip install 'maskaudit[dask]')"}
    from maskaudit.engines import dask as dask_engine
    from maskaudit.engines.local import map_ordered
    from maskaudit.partitions import map_partition

    manifest = tiny_dataset(rows)
    for path in manifest.parent.rglob("*.png"):
        path.read_bytes()
    workers = _workers()
    started = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    client = distributed.Client(cluster)
    ready = time.perf_counter() - started
    results = []
    try:
        for size in sizes:
            tasks = _tasks(manifest, size)

            def local(tasks: Callable[[], Iterator[Any]] = tasks) -> int:
                return sum(r.size for r in map_ordered(map_partition, tasks(), workers))

            def dask(tasks: Callable[[], Iterator[Any]] = tasks) -> int:
                return sum(r.size for r in dask_engine.map_ordered(client, map_partition, tasks(), workers))

            assert local() == dask() == rows  # a first run of each: workers started, modules imported
            local_s, dask_s = _best_of_alternating(local, dask, repeats)
            results.append({"partition_rows": size, "local_s": round(local_s, 3), "dask_s": round(dask_s, 3),
                            "local_rows_per_s": round(rows / local_s), "dask_rows_per_s": round(rows / dask_s),
                            "overhead": round(dask_s / local_s - 1, 3)})
    finally:
        started = time.perf_counter()
        client.close()
        cluster.close()
        closed = time.perf_counter() - started
    within = None  # the smallest partition from which every larger one measured is within the goal too
    for r in reversed(results):
        if r["overhead"] > GOAL:
            break
        within = r["partition_rows"]
    return {"rows": rows, "workers": workers, "cluster_start_s": round(ready, 2), "cluster_close_s": round(closed, 2),
            "sizes": results, "within_15_percent_from": within}


def report(figures: dict[str, Any]) -> str:
    if "skipped" in figures:
        return f"dask engine: skipped ({figures['skipped']})"
    lines = [f"dask engine against the local engine, {figures['rows']:,} tiny files, {figures['workers']} worker "
             f"processes each (local cluster start {figures['cluster_start_s']} s, close "
             f"{figures['cluster_close_s']} s, not counted):"]
    for r in figures["sizes"]:
        lines.append(f"  partition {r['partition_rows']:>5} rows: local {r['local_s']:.2f} s "
                     f"({r['local_rows_per_s']:,} rows/s), dask {r['dask_s']:.2f} s ({r['dask_rows_per_s']:,} "
                     f"rows/s), overhead {r['overhead']:+.0%}")
    found = figures["within_15_percent_from"]
    sizes = [str(r["partition_rows"]) for r in figures["sizes"] if r["overhead"] <= GOAL]
    at = f"at {', '.join(sizes)} rows a partition" if sizes else "at none of the sizes measured"
    lines.append(f"  within 15%: {at}; " + (f"at every size from {found} rows on" if found is not None
                                             else "not at every larger size (the largest missed it)"))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    figures = run_dask_bench(args.rows, tuple(int(s) for s in args.sizes.split(",")))
    print(report(figures))
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
