"""A perceptual hash of a decoded picture: equal for re-encodings of one photograph, far apart for others.

The picture is turned to luma and area-averaged to 32x32, transformed with a 2-D DCT, and the 63 lowest-frequency AC
coefficients (the top-left 8x8 block without its DC term) are compared with their median: one bit each.
The DC term carries brightness, not structure, so bit 63 is always 0 and distances run from 0 to 63.
Re-encoding (PNG to JPEG, JPEG at another quality) moves a few coefficients across the median at most.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

SIDE = 32
BLOCK = 8
BITS = BLOCK * BLOCK - 1
# sets of dtypes: a dtype compared with a scalar type is converted first, microseconds a test
_RESIZABLE = frozenset(np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64))
_GREYABLE = frozenset(np.dtype(t) for t in (np.uint8, np.uint16, np.float32))
FLAT = 1e-6  # AC energy (relative to the mean level) below which a picture has no structure to hash


def perceptual_hash(array: NDArray[Any]) -> int | None:
    """The 64-bit hash of a 2-D picture (channels-last, any channel count), or None when it cannot say.

    None for a flat picture (every hash would be equal), one with NaN or Inf, and one smaller than 8x8.
    """
    if array.ndim not in (2, 3) or array.shape[0] < BLOCK or array.shape[1] < BLOCK:
        return None
    if array.dtype not in _RESIZABLE:
        array = array.astype(np.float32)
    if array.ndim == 3 and array.shape[2] > 4:
        array = array.astype(np.float32).mean(axis=2)
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)
    if array.ndim == 3 and array.shape[2] in (3, 4) and array.dtype in _GREYABLE:
        # luma first: one channel to average instead of three, half the cost on a colour photo; alpha dropped
        array = cv2.cvtColor(array, cv2.COLOR_RGB2GRAY if array.shape[2] == 3 else cv2.COLOR_RGBA2GRAY)
    small = cv2.resize(array, (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    if small.ndim == 3:
        small = small[..., :3].mean(axis=2) if small.shape[2] == 4 else small.mean(axis=2)  # alpha is no picture
    if array.dtype.kind == "f" and not np.isfinite(small).all():  # an integer picture's area means are finite
        return None
    coefficients = cv2.dct(np.ascontiguousarray(small, dtype=np.float32))[:BLOCK, :BLOCK].ravel()[1:]
    # the mean of a 32x32 picture is its sum over 1024, a power of two: exact in float32 as in float64
    if float(np.abs(coefficients).max()) <= FLAT * (abs(float(small.sum()) / small.size) + 1.0):
        return None
    # 63 coefficients: their median is the middle one, found by a partial sort (np.median's own method, minus
    # its overhead); the bits packed little-endian, bit i for coefficient i
    middle = np.partition(coefficients, BITS // 2)[BITS // 2]
    return int.from_bytes(np.packbits(coefficients > middle, bitorder="little").tobytes(), "little")
