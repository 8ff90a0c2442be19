"""Small datasets written at test time: uint8 PNG or z-scored float .npy images, PNG masks, a CSV manifest."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pipelines"
MODULE = FIXTURES / "pipelines.py"


def pipeline(name: str) -> str:
    return f"{MODULE}:{name}"


def image(rng: np.random.Generator, size: int, channels: int) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size].astype(np.float32) / size
    base = 0.5 + 0.3 * np.sin(6 * xx + rng.uniform(0, 6)) * np.cos(5 * yy + rng.uniform(0, 6))
    noisy = base + rng.normal(0, 0.08, size=(size, size))
    planes = [noisy + rng.normal(0, 0.02, size=(size, size)) for _ in range(channels)]
    stacked = np.stack(planes, axis=-1) if channels > 1 else noisy
    return np.clip(stacked, 0, 1).astype(np.float32)


def make_dataset(
    root: Path, *, rows: int = 8, size: int = 48, kind: str = "uint8", channels: int = 3,
    radius: int = 10, mask_scale: int = 1,
) -> Path:
    """A dataset under root; returns the manifest. kind: uint8 (PNG) or zscore (float32 .npy)."""
    rng = np.random.default_rng(1234)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(rows):
        picture = image(rng, size, channels)
        if kind == "uint8":
            name = f"images/{i}.png"
            data = np.round(picture * 255).astype(np.uint8)
            cv2.imwrite(str(root / name), data[..., ::-1] if data.ndim == 3 else data)
        else:
            name = f"images/{i}.npy"
            np.save(root / name, ((picture - picture.mean()) / picture.std()).astype(np.float32))
        mask = np.zeros((size, size), np.uint8)
        cy, cx = rng.integers(radius + 1, size - radius - 1, size=2)
        cv2.circle(mask, (int(cx), int(cy)), radius, mask_scale, -1)
        cv2.imwrite(str(root / f"masks/{i}.png"), mask)
        records.append({"image": name, "mask": f"masks/{i}.png", "split": "train" if i % 4 else "val"})
    manifest = root / "manifest.csv"
    pd.DataFrame(records).to_csv(manifest, index=False)
    return manifest
