"""A dataset whose files live inside a parquet manifest, Hugging Face style, and the same files on disk."""

from __future__ import annotations

import io
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
FEATURES = {"image": {"_type": "Image"}, "mask": {"_type": "Image"}, "split": {"dtype": "string", "_type": "Value"}}


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG")
    return out.getvalue()


def jpeg(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, "JPEG", quality=95)
    return out.getvalue()


def photo(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 220, size=(32, 48, 3), dtype=np.uint8)


def mask(seed: int) -> np.ndarray:
    plane = np.zeros((32, 48), dtype=np.uint8)
    plane[4 + seed % 8 : 20, 6 : 30 + seed % 10] = 1
    return plane


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small PNG whose header declares width x height pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


@dataclass(frozen=True)
class Row:
    """A row's files: bytes embedded in the manifest, or a path to a file on disk, or neither."""

    image: bytes | None
    mask: bytes | None
    split: str
    image_path: str | None = None
    mask_path: str | None = None


def clean_rows(count: int, start: int = 0) -> list[Row]:
    return [Row(jpeg(photo(i)) if i % 2 else png(photo(i)), png(mask(i)), "train" if i % 4 else "val")
            for i in range(start, start + count)]


def hf_metadata(features: dict[str, object] = FEATURES) -> dict[bytes, bytes]:
    return {b"huggingface": json.dumps({"info": {"features": features}}).encode()}


def write_embedded(path: Path, rows: list[Row], row_group_size: int = 100) -> Path:
    """The rows as a Hugging Face parquet: image and mask as ``struct<bytes, path>``, with its metadata."""
    table = pa.table({
        "image": pa.array([None if r.image is None and r.image_path is None else
                           {"bytes": r.image, "path": r.image_path} for r in rows], IMAGE),
        "mask": pa.array([None if r.mask is None and r.mask_path is None else
                          {"bytes": r.mask, "path": r.mask_path} for r in rows], IMAGE),
        "split": pa.array([r.split for r in rows]),
    }).replace_schema_metadata(hf_metadata())
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def write_on_disk(folder: Path, rows: list[Row]) -> Path:
    """The same rows as files beside a parquet of paths (a row without a file has a null path)."""
    images, masks = [], []
    for i, row in enumerate(rows):
        for data, role, column in ((row.image, "image", images), (row.mask, "mask", masks)):
            if data is None:
                column.append(None)
                continue
            suffix = ".jpg" if data.startswith(b"\xff\xd8") else ".png"
            name = f"{role}s/{i:04d}{suffix}"
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
            column.append(name)
    manifest = folder / "paths.parquet"
    pq.write_table(pa.table({"image_path": images, "mask_path": masks, "split": [r.split for r in rows]}), manifest)
    return manifest
