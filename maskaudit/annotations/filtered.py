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
        spans = layout.spans(key)
        left_out = drop[key]
        chosen = [span for number, span in enumerate(spans) if number not in left_out]
        kept[key] = len(chosen)
        stream.write(data[position:start])
        if len(chosen) == len(spans):
            stream.write(data[start:end])
        else:
            separator = data[spans[0][1]:spans[1][0]] if len(spans) > 1 else b", "
            stream.write(data[start:spans[0][0]] if chosen else b"[")
            for number, (first, last) in enumerate(chosen):
                if number:
                    stream.write(separator)
                stream.write(data[first:last])
            stream.write(data[spans[-1][1]:end] if chosen else b"]")
        position = end
    stream.write(data[position:])
