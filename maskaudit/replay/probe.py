"""The alignment probe: the same asymmetric bar painted into an image and a {0,255} mask."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from maskaudit.replay.stats import subsample

PROBE_FOREGROUND = 255
ALIGNED_CORRELATION = 0.5

Array = NDArray[Any]


def probe_pair(image: Array) -> tuple[Array, Array]:
    """A tall thin bar near the top-left corner, painted into both an image and a {0,255} mask.

    The bar is asymmetric under flips, rotations and transposition, and a {0,255} mask reveals any
    interpolation (a {0,1} mask would round back to binary and hide it).
    """
    height, width = image.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    mask[height // 16: height // 2, width // 16: max(width // 16 + 1, width // 5)] = PROBE_FOREGROUND
    values = subsample(image)
    finite = values[np.isfinite(values)]
    centre = float(finite.mean()) if finite.size else 0.0
    spread = float(finite.std()) if finite.size else 0.0
    if image.dtype == np.uint8:
        low, high = (64.0, 192.0) if spread < 1 else (max(0.0, centre - spread), min(255.0, centre + spread))
    else:
        low, high = (0.25, 0.75) if spread < 1e-6 else (centre - spread, centre + spread)
    plane = np.where(mask > 0, high, low)
    if image.ndim == 3:
        plane = np.repeat(plane[..., None], image.shape[2], axis=2)
    probe = np.clip(np.round(plane), 0, 255).astype(np.uint8) if image.dtype == np.uint8 else plane.astype(image.dtype)
    return probe, mask


def alignment(image: Array, mask: Array) -> bool | None:
    """Whether the image still shows the bar where the mask has it; None when nothing is left to compare."""
    if image.shape[:2] != mask.shape[:2]:
        return False
    gray = image.astype(np.float32)
    if gray.ndim == 3:
        gray = gray.mean(axis=2)
    gray = np.nan_to_num(gray, nan=0.0, posinf=0.0, neginf=0.0)
    target = mask.astype(np.float32)
    if target.ndim == 3:
        target = target.mean(axis=2)
    side = max(4, min(16, min(gray.shape[:2]) // 2))
    smooth_gray = cv2.resize(gray, (side, side), interpolation=cv2.INTER_AREA)
    smooth_target = cv2.resize(target, (side, side), interpolation=cv2.INTER_AREA)
    if float(smooth_gray.std()) < 1e-9 or float(smooth_target.std()) < 1e-9:
        return None
    correlation = float(np.corrcoef(smooth_gray.reshape(-1), smooth_target.reshape(-1))[0, 1])
    return abs(correlation) >= ALIGNED_CORRELATION
