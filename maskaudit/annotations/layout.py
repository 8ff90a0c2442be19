"""Where each top-level value of a JSON object file lies, and each element of its chosen arrays, in bytes.

The filtered file is the input with some array elements cut out, so everything else (``info``, ``licenses``,
extra fields, formatting) stays byte for byte as it was. One pass of a C regex over a memory map: strings are
matched whole so brackets inside them never count.
"""

from __future__ import annotations

import mmap
import re
from array import array
from collections.abc import Collection
from dataclasses import dataclass, field

from maskaudit.errors import UsageError

_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPEN = frozenset(b"[{")
WINDOW = 32 << 20  # bytes of a mapped file read front to back that stay resident behind the read position


class Released:
    """Hands the pages of a mapped file back to the kernel as reading moves past them: they are clean file
    pages, read again from the page cache if touched, so a pass over a large file keeps about WINDOW of it
    resident rather than all of it."""

    def __init__(self, data: mmap.mmap | bytes) -> None:
        self._data = data if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED") else None
        self._done = 0

    def upto(self, position: int) -> None:
        if self._data is None or position - self._done < WINDOW:
            return
        end = position - position % mmap.PAGESIZE
        self._data.madvise(mmap.MADV_DONTNEED, self._done, end - self._done)
        self._done = end


@dataclass(frozen=True)
class Layout:
    """Byte spans: each top-level key's value, and the elements of the arrays asked for (start, end pairs)."""

    values: dict[str, tuple[int, int]]
    elements: dict[str, array[int]] = field(default_factory=dict)

    def count(self, key: str) -> int:
        return len(self.elements.get(key, ())) // 2

    def span(self, key: str, number: int) -> tuple[int, int]:
        flat = self.elements[key]
        return flat[2 * number], flat[2 * number + 1]

    def spans(self, key: str) -> list[tuple[int, int]]:
        flat = self.elements.get(key, array("q"))
        return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def scan_layout(data: mmap.mmap | bytes, arrays: Collection[str], name: str) -> Layout:
    """The layout of a JSON object held in ``data``; a file that is not one is a usage error naming it."""
    start = _skip_space(data, 0)
    if start >= len(data) or data[start] != ord("{"):
        raise UsageError(f"{name} is not a JSON object; an annotation file holds one object with images, "
                         "annotations and categories")
    values: dict[str, tuple[int, int]] = {}
    elements: dict[str, array[int]] = {}
    depth = 0
    key: str | None = None  # the top-level key whose value comes next
    value_start = 0
    collecting: array[int] | None = None
    released = Released(data)
    for match in _TOKENS.finditer(data, start):
        token = match.group()
        first = token[0]
        if first == 0x22:
            if depth == 1:
                if _before(data, match.start()) == ord(":"):
                    if key is not None:
                        values[key] = (match.start(), match.end())
                else:
                    key = token[1:-1].decode("utf-8", "replace")
            elif depth == 2 and collecting is not None:
                collecting.extend((match.start(), match.end()))
            continue
        if first in _OPEN:
            if depth == 1 and key is not None:
                value_start = match.start()
                collecting = array("q") if key in arrays and first == ord("[") else None
            elif depth == 2 and collecting is not None:
                collecting.append(match.start())
            depth += 1
            continue
        depth -= 1
        if depth == 2 and collecting is not None:
            collecting.append(match.end())
            released.upto(match.end())
        elif depth == 1 and key is not None:
            values[key] = (value_start, match.end())
            if collecting is not None:
                elements[key] = collecting
            collecting = None
        elif depth <= 0:
            break
    if depth != 0:
        raise UsageError(f"{name} is not complete JSON (brackets do not balance); re-export or re-download it")
    return Layout(values, elements)


def _before(data: mmap.mmap | bytes, position: int) -> int:
    """The byte before ``position``, whitespace skipped."""
    position -= 1
    while position > 0 and data[position] in b" \t\r\n":
        position -= 1
    return data[position]


def _skip_space(data: mmap.mmap | bytes, position: int) -> int:
    while position < len(data) and data[position] in b" \t\r\n\xef\xbb\xbf":
        position += 1
    return position
