"""Time the default replay: 64 samples x 8 repeats, a 10-transform pipeline, 512x512 RGB images.

Run with `python bench/replay_bench.py`; prints the seconds and the finding counts as JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
PIPELINE = f"{HERE.parent / 'fixtures' / 'pipelines' / 'pipelines.py'}:ten_transforms"
SIZE = 512
ROWS = 96


def make_dataset(root: Path, rows: int = ROWS, size: int = SIZE) -> list[Any]:
    from maskaudit.replay.sampling import RowRef

    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    refs = []
    yy, xx = np.mgrid[:size, :size].astype(np.float32) / size
    for i in range(rows):
        base = 0.5 + 0.3 * np.sin(6 * xx + rng.uniform(0, 6)) * np.cos(5 * yy + rng.uniform(0, 6))
        planes = [base + rng.normal(0, 0.05, size=(size, size)) for _ in range(3)]
        picture = np.clip(np.stack(planes, axis=-1) * 255, 0, 255).astype(np.uint8)
        mask = np.zeros((size, size), np.uint8)
        cy, cx = rng.integers(64, size - 64, size=2)
        cv2.circle(mask, (int(cx), int(cy)), int(rng.integers(8, 48)), 1, -1)
        cv2.imwrite(str(root / f"images/{i}.png"), picture)
        cv2.imwrite(str(root / f"masks/{i}.png"), mask)
        refs.append(RowRef(i, "train" if i % 5 else "val", f"images/{i}.png", f"masks/{i}.png"))
    return refs


def run_replay_bench() -> dict[str, Any]:
    from maskaudit.api import default_workers
    from maskaudit.replay.run import PreparedReplay, ReplayOptions, run_replay
    from maskaudit.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        refs = make_dataset(root)
        options = ReplayOptions(PIPELINE, samples=64, repeats=8, seed=0, workers=default_workers())
        start = time.perf_counter()
        findings, section = run_replay(refs, root, Settings(), PreparedReplay.of(options))
        seconds = time.perf_counter() - start
    return {
        "case": "replay 64x8, 10 transforms, 512x512 RGB",
        "seconds": round(seconds, 3),
        "workers": options.workers,
        "samples": section.facts.samples,
        "transforms": len(section.facts.transforms),
        "findings": sorted(f"{f.check} {f.transform}" for f in findings),
    }


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    result = run_replay_bench()
    print(json.dumps(result))
