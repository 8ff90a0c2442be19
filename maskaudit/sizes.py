"""Sizes as people write them: 1073741824, 2GiB, 500M, 1.5G (bytes), 300M (pixels)."""

from __future__ import annotations

import re

_UNITS = {
    "": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
    "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40,
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """A positive whole count from digits and an optional K/M/G/T (x1000) or KiB/MiB/GiB/TiB (x1024) suffix.

    None when the text is not such a size, or is not at least 1.
    """
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        return None
    number, unit = match.groups()
    scale = _UNITS[(unit or "").lower()]
    value = int(float(number) * scale) if "." in number else int(number) * scale
    return value if value >= 1 else None
