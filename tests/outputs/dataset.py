"""Small real datasets on disk for the output tests: PNG images and masks and a manifest pointing at them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_pair(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    mask = np.zeros((16, 16), np.uint8)
    mask[4:9, 4:9] = 1
    cv2.imwrite(str(folder / f"{name}_mask.png"), mask)
    cv2.imwrite(str(folder / f"{name}.png"), np.full((16, 16), 60, np.uint8) + mask * 9)


def csv_manifest(root: Path, rows: int, name: str = "manifest.csv") -> Path:
    """A CSV manifest of ``rows`` rows, all pointing at the same clean pair under ``root/data``."""
    write_pair(root / "data", "a")
    path = root / name
    with path.open("w") as stream:
        stream.write("image_path,mask_path\n")
        stream.writelines("data/a.png,data/a_mask.png\n" for _ in range(rows))
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under the folder by relative name, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    """Hidden staging, retired or lock entries a run left beside its --out."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))
