"""How far apart perceptual hashes of re-encodings and of distinct scenes lie, and how fast the index pairs them.

    python -m bench.near_duplicates [--scenes N] [--seed S] [--index-rows N]

No photographs ship with the environment, so scenes are synthesised, all of one type: a smooth two-colour
gradient, 6 to 14 filled shapes (ellipses, rectangles, polygons, thick lines) in random colours, a light
blur and sensor-like Gaussian noise, 384x512 RGB. Each scene is saved as PNG (the original), re-encoded
PNG -> JPEG q90, then that JPEG recompressed at q75 (and at q50, for the margin). Distinct pairs are every
pair of originals, and "siblings": the same background gradient with different shapes, the hardest
negative of one scene type. The hash is maskaudit's own, over the arrays maskaudit decodes.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable

import cv2
import numpy as np
from numpy.typing import NDArray

from maskaudit.decode import decode_bytes
from maskaudit.measure import layout
from maskaudit.near_duplicates import band_plan, distances, near_pairs
from maskaudit.phash import perceptual_hash

HEIGHT, WIDTH = 384, 512


def background(rng: np.random.Generator) -> NDArray[np.float32]:
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    ramp = (np.cos(angle) * xs / WIDTH + np.sin(angle) * ys / HEIGHT)
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    start, stop = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    return (start + ramp[..., None] * (stop - start)).astype(np.float32)


def add_shapes(canvas: NDArray[np.float32], rng: np.random.Generator) -> NDArray[np.float32]:
    canvas = canvas.copy()
    for _ in range(int(rng.integers(6, 15))):
        color = tuple(float(c) for c in rng.uniform(0, 255, 3))
        kind = int(rng.integers(4))
        cx, cy = int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))
        size = int(rng.integers(15, 120))
        if kind == 0:
            cv2.ellipse(canvas, (cx, cy), (size, int(rng.integers(10, 100))), float(rng.uniform(0, 180)), 0, 360,
                        color, -1)
        elif kind == 1:
            cv2.rectangle(canvas, (cx, cy), (cx + size, cy + int(rng.integers(10, 100))), color, -1)
        elif kind == 2:
            points = (np.array([cx, cy]) + rng.integers(-size, size, (int(rng.integers(3, 7)), 2))).astype(np.int32)
            cv2.fillPoly(canvas, [points], color)
        else:
            cv2.line(canvas, (cx, cy), (int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))), color,
                     int(rng.integers(2, 12)))
    return canvas


def finish(canvas: NDArray[np.float32], rng: np.random.Generator) -> NDArray[np.uint8]:
    blurred = cv2.GaussianBlur(canvas, (0, 0), 1.2)
    noisy = blurred + rng.normal(0, 6, blurred.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def encoded(array: NDArray[np.uint8], ext: str, quality: int | None = None) -> bytes:
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if quality is not None else []
    ok, data = cv2.imencode(ext, cv2.cvtColor(array, cv2.COLOR_RGB2BGR), params)
    assert ok
    return data.tobytes()


def hash_of(data: bytes, name: str) -> int:
    array, _, _ = layout(decode_bytes(data, name))
    value = perceptual_hash(array)
    assert value is not None
    return value


def summary(name: str, values: Iterable[int]) -> str:
    found = np.array(list(values))
    counts = np.bincount(found, minlength=64)
    shown = ", ".join(f"{d}:{c}" for d, c in enumerate(counts) if c)
    return (f"{name:<34} n={found.size:>6}  min {found.min():>2}  p1 {np.percentile(found, 1):>4.1f}  "
            f"median {np.median(found):>4.1f}  max {found.max():>2}\n{'':<36}distance:count {shown}")


def measure(scenes: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    originals: list[int] = []
    reencoded: dict[str, list[int]] = {"PNG -> JPEG q90": [], "JPEG q90 -> JPEG q75": [], "JPEG q90 -> q50": []}
    siblings: list[int] = []
    for _ in range(scenes):
        back = background(rng)
        picture = finish(add_shapes(back, rng), rng)
        png = encoded(picture, ".png")
        original = hash_of(png, "a.png")
        originals.append(original)
        q90 = encoded(picture, ".jpg", 90)
        q90_array = cv2.cvtColor(cv2.imdecode(np.frombuffer(q90, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        reencoded["PNG -> JPEG q90"].append((original ^ hash_of(q90, "a.jpg")).bit_count())
        reencoded["JPEG q90 -> JPEG q75"].append((original ^ hash_of(encoded(q90_array, ".jpg", 75), "b.jpg"))
                                                 .bit_count())
        reencoded["JPEG q90 -> q50"].append((original ^ hash_of(encoded(q90_array, ".jpg", 50), "c.jpg"))
                                            .bit_count())
        sibling = finish(add_shapes(back, rng), rng)
        siblings.append((original ^ hash_of(encoded(sibling, ".png"), "s.png")).bit_count())
    hashes = np.array(originals, dtype=np.uint64)
    left, right = np.triu_indices(len(originals), 1)
    distinct = distances(hashes[left], hashes[right])
    print(f"{scenes} synthetic scenes ({HEIGHT}x{WIDTH} RGB, seed {seed}): Hamming distance to the original PNG")
    for name, values in reencoded.items():
        print(summary(name, values))
    print(summary("distinct scenes (every pair)", distinct.tolist()))
    print(summary("siblings (same background)", siblings))


def bench_index(rows: int, distance: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**63, rows, dtype=np.uint64)
    planted = rows // 1000
    flips = np.zeros(planted, dtype=np.uint64)
    for _ in range(distance):  # a planted near pair differs in `distance` random bits at most
        flips |= np.uint64(1) << rng.integers(0, 63, planted).astype(np.uint64)
    hashes[rows - planted:] = hashes[:planted] ^ flips
    bands, radius = band_plan(rows, distance)
    start = time.perf_counter()
    left, _ = near_pairs(hashes, distance)
    seconds = time.perf_counter() - start
    print(f"index: {rows:,} hashes ({planted:,} planted near pairs), distance <= {distance}: {bands} bands, "
          f"radius {radius}, {left.size:,} pairs in {seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index-rows", type=int, default=1_000_000)
    parser.add_argument("--distance", type=int, default=None, help="index bench distance (default: the check's)")
    args = parser.parse_args()
    measure(args.scenes, args.seed)
    if args.index_rows:
        from maskaudit.checks.rows.split_leakage import split_leakage

        distance = args.distance if args.distance is not None else int(split_leakage.options["near_distance"])
        bench_index(args.index_rows, distance, args.seed)


if __name__ == "__main__":
    main()
