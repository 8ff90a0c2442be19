"""The filtered annotation file: the input with left-out images and annotations cut, every other byte kept."""

from __future__ import annotations

import mmap
from collections.abc import Collection, Mapping
from typing import IO

from maskaudit.annotations.layout import WINDOW, Layout, Released, scan_layout


def write_filtered(path: str, drop: Mapping[str, Collection[int]], stream: IO[bytes]) -> dict[str, int]:
    """Copy the JSON file at ``path`` to ``stream`` without the elements at the positions ``drop`` names per
    top-level array; the elements kept per array are returned."""
    kept: dict[str, int] = {}
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        layout = scan_layout(data, set(drop), path)
        view = memoryview(data)  # slices of a view are not copies: an untouched array is written from the map
        try:
            _cut(_Copy(data, view, stream), layout, drop, kept)
        finally:
            view.release()
    return kept


class _Copy:
    """Writes byte ranges of the mapped input in pieces, releasing the pages behind as it goes."""

    def __init__(self, data: mmap.mmap, view: memoryview, stream: IO[bytes]) -> None:
        self._view, self._stream, self._released = view, stream, Released(data)
        self.size = len(view)

    def range(self, start: int, end: int) -> None:
        for piece in range(start, end, WINDOW):
            self._stream.write(self._view[piece:min(end, piece + WINDOW)])
            self._released.upto(min(end, piece + WINDOW))

    def bytes(self, text: bytes) -> None:
        self._stream.write(text)


def _cut(out: _Copy, layout: Layout, drop: Mapping[str, Collection[int]], kept: dict[str, int]) -> None:
    cuts = sorted((layout.values[key], key) for key in drop if key in layout.elements)
    position = 0
    for (start, end), key in cuts:
        count = layout.count(key)
        left_out = sorted(n for n in set(drop[key]) if 0 <= n < count)
        kept[key] = count - len(left_out)
        out.range(position, start)
        if not left_out:
            out.range(start, end)
        else:
            first, last = layout.span(key, 0)[0], layout.span(key, count - 1)[1]
            separator = (layout.span(key, 0)[1], layout.span(key, 1)[0]) if count > 1 else (0, 0)
            if kept[key]:
                out.range(start, first)
            else:
                out.bytes(b"[")
            written = False
            for run_start, run_end in _runs(left_out, count):  # kept elements in a row: one range, as they were
                if written:  # only between runs, so there were at least two elements
                    out.range(*separator)
                out.range(layout.span(key, run_start)[0], layout.span(key, run_end)[1])
                written = True
            if kept[key]:
                out.range(last, end)
            else:
                out.bytes(b"]")
        position = end
    out.range(position, out.size)


def _runs(left_out: list[int], count: int) -> list[tuple[int, int]]:
    """The (first, last) element numbers of each run of kept elements, given the sorted left-out ones."""
    runs = []
    start = 0
    for number in [*left_out, count]:
        if number > start:
            runs.append((start, number - 1))
        start = number + 1
    return runs
