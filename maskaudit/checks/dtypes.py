"""What values a mask's dtype can hold."""

from __future__ import annotations

import numpy as np


def integer_range(dtype: str) -> tuple[int, int] | None:
    """The values an integer (or boolean) mask dtype can hold; None for floats and unknown names."""
    try:
        kind = np.dtype(dtype)
    except TypeError:
        return None
    if kind == np.bool_:
        return 0, 1
    if np.issubdtype(kind, np.integer):
        info = np.iinfo(kind)
        return int(info.min), int(info.max)
    return None


def void_values(values: list[float], dtype: str) -> list[float]:
    """The values a void (or "uncertain") label is usually stored as: 255, or the largest the dtype holds."""
    bounds = integer_range(dtype)
    return [v for v in values if v == 255 or (bounds is not None and bounds[1] > 1 and v == bounds[1])]
