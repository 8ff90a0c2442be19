"""Write a deterministic synthetic segmentation dataset: 512x512 JPEG images, PNG masks, a parquet manifest.

Masks are uint8 label maps (0 background, 1-4 classes) made of discs and smooth blobs; about one in ten is
empty. Images are RGB JPEGs (quality 90) of a shaded background, noise and the mask's objects as coloured
shapes, the way a photograph with its annotation looks. Files already present are reused.

    python -m bench.generate [FOLDER] [--rows N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

SIZE = 512
DEFAULT_ROWS = 4000
DEFAULT_FOLDER = Path("bench-data")
EMPTY_EVERY = 10
SEED = 20_251_121
MANIFEST = "manifest.parquet"


def make_mask(rng: np.random.Generator, empty: bool) -> NDArray[np.uint8]:
    mask = np.zeros((SIZE, SIZE), np.uint8)
    if empty:
        return mask
    for _ in range(int(rng.integers(1, 6))):
        label = int(rng.integers(1, 5))
        cx, cy = (int(v) for v in rng.integers(40, SIZE - 40, size=2))
        radius = int(rng.integers(12, 90))
        if rng.random() < 0.5:
            cv2.circle(mask, (cx, cy), radius, label, thickness=-1, lineType=cv2.LINE_8)
        else:  # a blob: a polygon of noisy radii around the centre
            angles = np.linspace(0.0, 2 * np.pi, 24, endpoint=False)
            radii = radius * rng.uniform(0.6, 1.3, size=angles.size)
            points = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], axis=1)
            cv2.fillPoly(mask, [points.round().astype(np.int32)], label, lineType=cv2.LINE_8)
    return mask


def make_image(rng: np.random.Generator, mask: NDArray[np.uint8], noise: NDArray[np.int16]) -> NDArray[np.uint8]:
    ramp = np.linspace(0.0, 1.0, SIZE, dtype=np.float32)
    base = rng.uniform(40, 160, size=3).astype(np.float32)
    tilt = rng.uniform(-40, 40, size=3).astype(np.float32)
    image = np.broadcast_to(base + tilt * ramp[None, :, None], (SIZE, SIZE, 3))
    palette = rng.uniform(0, 255, size=(5, 3)).astype(np.float32)
    labelled = mask > 0
    image = np.where(labelled[..., None], palette[mask], image)
    dy, dx = (int(v) for v in rng.integers(0, SIZE, size=2))
    jitter = np.roll(noise, (dy, dx), axis=(0, 1))
    return np.clip(image + jitter, 0, 255).astype(np.uint8)


def generate(folder: Path = DEFAULT_FOLDER, rows: int = DEFAULT_ROWS) -> Path:
    """Write the dataset (reusing files already there) and return the manifest's path."""
    images, masks = folder / "images", folder / "masks"
    images.mkdir(parents=True, exist_ok=True)
    masks.mkdir(parents=True, exist_ok=True)
    manifest = folder / MANIFEST
    noise = np.random.default_rng(SEED).normal(0, 12, size=(SIZE, SIZE, 3)).astype(np.int16)
    names: list[tuple[str, str, str]] = []
    for i in range(rows):
        image_path, mask_path = images / f"{i:06d}.jpg", masks / f"{i:06d}.png"
        split = "val" if i % 5 == 0 else "train"
        names.append((f"images/{image_path.name}", f"masks/{mask_path.name}", split))
        if image_path.exists() and mask_path.exists():
            continue
        rng = np.random.default_rng([SEED, i])
        mask = make_mask(rng, empty=i % EMPTY_EVERY == EMPTY_EVERY - 1)
        image = make_image(rng, mask, noise)
        cv2.imwrite(str(mask_path), mask)
        cv2.imwrite(str(image_path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    table = pa.table({
        "image_path": [n[0] for n in names],
        "mask_path": [n[1] for n in names],
        "split": [n[2] for n in names],
    })
    if not manifest.exists() or pq.read_table(manifest).num_rows != rows:
        pq.write_table(table, manifest)
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    args = parser.parse_args()
    print(generate(args.folder, args.rows))


if __name__ == "__main__":
    main()
