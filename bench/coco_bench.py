"""Bounded memory on a large COCO file: write a synthetic instances file (1M annotations by default), then
measure, in a fresh interpreter, the peak RSS and time of the annotation pass (reading, facts, record and
dataset checks) and of writing the filtered file. Images are not decoded: that is the manifest benchmark's.

    python -m bench.coco_bench [--annotations N] [--folder bench-data/coco]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

DEFAULT_FOLDER = Path("bench-data") / "coco"
DEFAULT_ANNOTATIONS = 1_000_000
PER_IMAGE = 8
WIDTH, HEIGHT = 640, 480

CHILD = """
import sys, time

def high_water_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0

from maskaudit.annotations.detect import detect
from maskaudit.annotations.filtered import write_filtered
from maskaudit.annotations.judge import judge_annotations
from maskaudit.annotations.reader import read_annotations
from maskaudit.settings import Settings

base = high_water_kib()
start = time.perf_counter()
given = detect([sys.argv[1]])
data = read_annotations(given)
read = time.perf_counter() - start
judgement = judge_annotations(data, Settings())
judged = time.perf_counter() - start
import numpy as np
columns = data.annotations
positions = set(columns.positions(np.flatnonzero(judgement.dropped_annotations)).tolist())
with open(sys.argv[2], "wb") as stream:
    kept = write_filtered(sys.argv[1], {"images": set(), "annotations": positions}, stream)
total = time.perf_counter() - start
print(len(data.annotations), len(judgement.findings), kept["annotations"], base, high_water_kib(), read, judged,
      total, columns.nbytes)
"""


def write_instances(path: Path, annotations: int) -> None:
    """A COCO file written record by record (never held whole): octagon polygons, 1 in 1000 a crowd RLE, 1 in
    500 out of bounds."""
    images = max(1, annotations // PER_IMAGE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        out.write('{"info": {"description": "synthetic", "year": 2026}, "licenses": [], "images": [')
        out.write(", ".join(json.dumps({"id": i, "file_name": f"{i:012d}.jpg", "width": WIDTH, "height": HEIGHT})
                            for i in range(images)))
        out.write('], "annotations": [')
        for n in range(annotations):
            if n:
                out.write(", ")
            out.write(json.dumps(_annotation(n, n // PER_IMAGE)))
        out.write('], "categories": [')
        out.write(", ".join(json.dumps({"id": c, "name": f"c{c}"}) for c in range(1, 81)))
        out.write("]}\n")


def _annotation(n: int, image_id: int) -> dict[str, Any]:
    x, y, size = 10 + (n * 37) % 500, 10 + (n * 53) % 380, 20 + n % 60
    if n % 500 == 7:
        x = WIDTH - 5
    if n % 1000 == 3:
        return {"id": n, "image_id": image_id, "category_id": 1 + n % 80, "iscrowd": 1, "bbox": [0, 0, 10, 10],
                "area": 100, "segmentation": {"size": [HEIGHT, WIDTH], "counts": [0] + [10, 470] * 10
                                              + [HEIGHT * WIDTH - 4800]}}
    third = size / 3
    points = [x + third, y, x + 2 * third, y, x + size, y + third, x + size, y + 2 * third, x + 2 * third,
              y + size, x + third, y + size, x, y + 2 * third, x, y + third]
    return {"id": n, "image_id": image_id, "category_id": 1 + n % 80, "iscrowd": 0,
            "segmentation": [[round(v, 2) for v in points]], "bbox": [x, y, size, size],
            "area": round(size * size * 7 / 9, 2)}


def run_coco_bench(folder: Path = DEFAULT_FOLDER, annotations: int = DEFAULT_ANNOTATIONS) -> dict[str, Any]:
    path = folder / f"instances_bench{annotations}.json"
    if not path.exists():
        write_instances(path, annotations)
    filtered = folder / "filtered.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", CHILD, str(path), str(filtered)], capture_output=True, text=True,
                            check=True, env=env)
    count, findings, kept, base, peak, read, judged, total, facts = result.stdout.split()
    filtered.unlink(missing_ok=True)
    return {"annotations": int(count), "file_mib": round(path.stat().st_size / 2**20, 1), "findings": int(findings),
            "kept_annotations": int(kept), "baseline_rss_mib": round(int(base) / 1024, 1),
            "peak_rss_mib": round(int(peak) / 1024, 1), "read_s": round(float(read), 1),
            "facts_bytes_per_annotation": round(int(facts) / max(1, int(count))),
            "judge_s": round(float(judged) - float(read), 1),
            "filtered_write_s": round(float(total) - float(judged), 1),
            "total_s": round(float(total), 1)}


def report(figures: dict[str, Any]) -> str:
    return (f"COCO annotation pass: {figures['annotations']:,} annotations ({figures['file_mib']} MiB of JSON): "
            f"read {figures['read_s']} s, judged {figures['judge_s']} s, filtered file written "
            f"{figures['filtered_write_s']} s; peak RSS {figures['peak_rss_mib']} MiB "
            f"(interpreter and imports {figures['baseline_rss_mib']} MiB); annotation facts "
            f"{figures['facts_bytes_per_annotation']} bytes each; {figures['findings']:,} findings, "
            f"{figures['kept_annotations']:,} annotations kept")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--annotations", type=int, default=DEFAULT_ANNOTATIONS)
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    args = parser.parse_args()
    print(report(run_coco_bench(args.folder, args.annotations)))


if __name__ == "__main__":
    main()
