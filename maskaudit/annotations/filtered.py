"""The filtered annotation file: the input with left-out images and annotations cut, every other byte kept."""

from __future__ import annotations

import mmap
from collections.abc import Collection, Mapping
from typing import IO

from maskaudit.annotations.layout import Layout, scan_layout


def write_filtered(path: str, drop: Mapping[str, Collection[int]], stream: IO[bytes]) -> dict[str, int]:
    """Copy the JSON file at ``path`` to ``stream`` without the elements at the positions ``drop`` names per
    top-level array; the elements kept per array are returned."""
    kept: dict[str, int] = {}
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        layout = scan_layout(data, set(drop), path)
        view = memoryview(data)  # slices of a view are not copies: an untouched array is written from the map
        try:
            _cut(view, layout, drop, stream, kept)
        finally:
            view.release()
    return kept


def _cut(data: memoryview, layout: Layout, drop: Mapping[str, Collection[int]], stream: IO[bytes],
         kept: dict[str, int]) -> None:
    cuts = sorted((layout.values[key], key) for key in drop if key in layout.elements)
    position = 0
    for (start, end), key in cuts:
        count = layout.count(key)
        left_out = sorted(n for n in set(drop[key]) if 0 <= n < count)
        kept[key] = count - len(left_out)
        stream.write(data[position:start])
        if not left_out:
            stream.write(data[start:end])
        else:
            first, last = layout.span(key, 0)[0], layout.span(key, count - 1)[1]
            separator = data[layout.span(key, 0)[1]:layout.span(key, 1)[0]] if count > 1 else b", "
            stream.write(data[start:first] if kept[key] else b"[")
            written = False
            for run_start, run_end in _runs(left_out, count):  # kept elements in a row: one slice, as they were
                if written:
                    stream.write(separator)
                stream.write(data[layout.span(key, run_start)[0]:layout.span(key, run_end)[1]])
                written = True
            stream.write(data[last:end] if kept[key] else b"]")
        position = end
    stream.write(data[position:])


def _runs(left_out: list[int], count: int) -> list[tuple[int, int]]:
    """The (first, last) element numbers of each run of kept elements, given the sorted left-out ones."""
    runs = []
    start = 0
    for number in [*left_out, count]:
        if number > start:
            runs.append((start, number - 1))
        start = number + 1
    return runs
