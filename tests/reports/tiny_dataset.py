"""Small datasets written to a temporary folder: a few PNG images and masks and a CSV manifest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

SIZE = 16


@dataclass(frozen=True)
class Row:
    name: str
    empty: bool = False
    split: str = "train"
    image_path: str | None = None
    mask_path: str | None = None


def write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", array)
    assert ok
    path.write_bytes(data.tobytes())


def make_dataset(root: Path, rows: Sequence[Row], manifest_name: str = "train.csv") -> Path:
    """Write the files of every row and a manifest with an id column; return the manifest path."""
    records = []
    for index, row in enumerate(rows):
        image_path = row.image_path or f"images/{row.name}.png"
        mask_path = row.mask_path or f"masks/{row.name}.png"
        rng = np.random.default_rng(index)
        write_png(root / image_path, rng.integers(30, 220, size=(SIZE, SIZE), dtype=np.uint8))
        mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
        if not row.empty:
            mask[4:12, 4:12] = 1
        write_png(root / mask_path, mask)
        records.append({"id": row.name, "image_path": image_path, "mask_path": mask_path, "split": row.split})
    manifest = root / manifest_name
    write_manifest(manifest, records)
    return manifest


def write_manifest(path: Path, records: Sequence[dict[str, object]]) -> None:
    pd.DataFrame.from_records(list(records)).to_csv(path, index=False)
