"""The corpus's bombs are what they claim: valid headers declaring huge images, in a few hundred KB at most.

Read from headers and streamed inflation only; nothing here decodes a whole bomb or unpickles the payload.
"""

from __future__ import annotations

import io
import pickletools
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.hostile.corpus import (
    bmp_bomb,
    corrupt_idat,
    jpeg_bomb,
    npy_header,
    npz_bomb,
    pickled_npy,
    png_bomb,
    tiff_bomb,
)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes, int]]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks, i = [], 8
    while i < len(data):
        length = int.from_bytes(data[i : i + 4], "big")
        kind, body = data[i + 4 : i + 8], data[i + 8 : i + 8 + length]
        chunks.append((kind, body, int.from_bytes(data[i + 8 + length : i + 12 + length], "big")))
        i += 12 + length
    return chunks


def test_the_png_bomb_is_a_valid_png_that_inflates_to_the_declared_rows() -> None:
    data = png_bomb(3_000, 2_000)
    chunks = png_chunks(data)
    assert [kind for kind, _, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert all(zlib.crc32(kind + body) == crc for kind, body, crc in chunks)
    assert struct.unpack(">II", chunks[0][1][:8]) == (3_000, 2_000)
    inflater, size, pending = zlib.decompressobj(), 0, chunks[1][1]
    while pending:  # at most 1 MB of output at a time
        size += len(inflater.decompress(pending, 1 << 20))
        pending = inflater.unconsumed_tail
    assert inflater.eof and size == (3_000 + 1) * 2_000
    assert len(data) < 3_000 * 2_000 / 500


def test_the_full_size_png_bomb_is_small_on_disk() -> None:
    data = png_bomb(24_000, 24_000)
    assert struct.unpack(">II", png_chunks(data)[0][1][:8]) == (24_000, 24_000)
    assert len(data) < 1 << 20


@pytest.mark.parametrize(("build", "size"), [
    (lambda: jpeg_bomb(np.random.default_rng(0), 65_000, 64_000), (65_000, 64_000)),
    (lambda: tiff_bomb(100_000, 90_000), (100_000, 90_000)),
    (lambda: bmp_bomb(30_000, 20_000), (30_000, 20_000)),
], ids=["jpeg", "tiff", "bmp"])
def test_header_bombs_declare_their_size(
    monkeypatch: pytest.MonkeyPatch, build: Callable[[], bytes], size: tuple[int, int]
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # let the header be read; nothing is decoded
    data = build()
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == size
    assert len(data) < 4096


def test_the_npy_bomb_declares_a_huge_array_and_holds_none_of_it() -> None:
    data = npy_header("<f8", (30_000, 30_000))
    handle = io.BytesIO(data)
    assert np.lib.format.read_magic(handle) == (1, 0)
    shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
    assert (shape, fortran, dtype) == ((30_000, 30_000), False, np.dtype("<f8"))
    assert handle.tell() == len(data) and len(data) % 64 == 0


def test_the_npz_bomb_is_a_small_archive_of_a_large_member(tmp_path: Path) -> None:
    npz_bomb(tmp_path / "bomb.npz", 3_000)
    with zipfile.ZipFile(tmp_path / "bomb.npz") as archive:
        (member,) = archive.infolist()
        assert member.filename == "mask.npy"
        assert member.file_size == len(npy_header("|u1", (3_000, 3_000))) + 3_000 * 3_000
        assert member.compress_size < member.file_size / 200
        with archive.open(member) as stream:
            assert np.lib.format.read_magic(stream) == (1, 0)
            assert np.lib.format.read_array_header_1_0(stream)[0] == (3_000, 3_000)


def test_the_pickled_npy_would_open_the_marker_for_writing(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    data = pickled_npy(marker)
    handle = io.BytesIO(data)
    np.lib.format.read_magic(handle)
    assert np.lib.format.read_array_header_1_0(handle)[2] == np.dtype(object)
    opcodes = [(op.name, arg) for op, arg, _ in pickletools.genops(data[handle.tell() :])]
    names = [arg for name, arg in opcodes if name in ("SHORT_BINUNICODE", "BINUNICODE", "GLOBAL")]
    assert any("open" in str(name) for name in names) and str(marker) in names and "w" in names
    assert ("REDUCE", None) in opcodes
    assert not marker.exists()


def test_the_corrupt_png_differs_from_a_valid_one_only_in_the_idat_crc() -> None:
    chunks = png_chunks(corrupt_idat(np.random.default_rng(1)))
    bad = [kind for kind, body, crc in chunks if zlib.crc32(kind + body) != crc]
    assert bad == [b"IDAT"]
