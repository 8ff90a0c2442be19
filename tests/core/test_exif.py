"""EXIF orientation from the head bytes: true for files PIL writes in every format, and for any other bytes
only HeaderError from the parser and a plain result from traits, never a read past the block it was given."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from maskaudit.header import PLAIN, HeaderError, exif_orientation, traits

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff", "tiff": b"II*\x00", "webp": b"RIFF\x00\x00\x00\x00WEBP"}


def exif_block(orientation: int, order: str = "<", kind: int = 3) -> bytes:
    """A minimal TIFF header and IFD0 holding one Orientation entry."""
    mark = b"II" if order == "<" else b"MM"
    entry = struct.pack(order + "HHIH", 0x0112, kind, 1, orientation) + b"\x00\x00"
    return mark + struct.pack(order + "HI", 42, 8) + struct.pack(order + "H", 1) + entry + b"\x00" * 4


def jpeg_with(*segments: tuple[int, bytes]) -> bytes:
    """SOI, the given segments, a frame header of three components, and a scan marker."""
    body = b"".join(b"\xff" + bytes([m]) + struct.pack(">H", len(p) + 2) + p for m, p in segments)
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, 4, 4, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"
    return b"\xff\xd8" + body + frame + b"\xff\xda"


def written(fmt: str, orientation: int, shape: tuple[int, int] = (6, 10)) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(np.zeros((*shape, 3), np.uint8))
    if fmt == "TIFF":
        image.save(buffer, fmt, tiffinfo={0x0112: orientation})
    else:
        tags = Image.Exif()
        tags[0x0112] = orientation
        image.save(buffer, fmt, exif=tags, **({"lossless": True} if fmt == "WEBP" else {}))
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_orientation_pil_writes_is_read_back(fmt: str, orientation: int) -> None:
    found = traits(written(fmt, orientation), fmt.lower())
    assert found.orientation == orientation
    assert found.rotated is (orientation >= 5)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_file_without_exif_is_plain(fmt: str) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((6, 10, 3), np.uint8)).save(buffer, fmt)
    assert traits(buffer.getvalue(), fmt.lower()) is PLAIN


@pytest.mark.parametrize("order", ["<", ">"])
def test_both_byte_orders_and_the_exif_prefix(order: str) -> None:
    assert exif_orientation(exif_block(6, order)) == 6
    assert exif_orientation(b"Exif\x00\x00" + exif_block(8, order)) == 8


def test_invalid_values_and_types_are_no_orientation() -> None:
    assert exif_orientation(exif_block(0)) is None
    assert exif_orientation(exif_block(9)) is None
    assert exif_orientation(exif_block(6, kind=4)) is None


def test_only_the_first_exif_segment_counts_and_other_app1_segments_do_not() -> None:
    xmp = (0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + b"Exif\x00\x00" + exif_block(3))
    first, second = (0xE1, b"Exif\x00\x00" + exif_block(6)), (0xE1, b"Exif\x00\x00" + exif_block(8))
    assert traits(jpeg_with(xmp, first, second), "jpeg").orientation == 6


def test_a_directory_beyond_the_block_is_an_error() -> None:
    block = bytearray(exif_block(6))
    block[4:8] = struct.pack("<I", 4000)
    with pytest.raises(HeaderError, match="beyond the block"):
        exif_orientation(bytes(block))


def test_an_entry_past_the_segment_end_is_never_read() -> None:
    """APP1 declares room for the first of two entries; the second, an orientation, lies just past its end."""
    other = struct.pack("<HHIH", 0x0100, 3, 1, 64) + b"\x00\x00"
    orientation = struct.pack("<HHIH", 0x0112, 3, 1, 6) + b"\x00\x00"
    block = b"Exif\x00\x00II" + struct.pack("<HIH", 42, 8, 2) + other
    jpeg = b"\xff\xd8\xff\xe1" + struct.pack(">H", len(block) + 2) + block + orientation + b"\xff\xda"
    assert traits(jpeg, "jpeg").orientation == 1
    assert exif_orientation(block + orientation) == 6


@settings(max_examples=400, deadline=None)
@given(block=st.binary(max_size=200), prefix=st.sampled_from([b"", b"II*\x00", b"MM\x00*", b"Exif\x00\x00II*\x00"]))
def test_arbitrary_bytes_give_an_orientation_none_or_header_error(block: bytes, prefix: bytes) -> None:
    try:
        found = exif_orientation(prefix + block)
    except HeaderError as exc:
        assert str(exc)
    else:
        assert found is None or 1 <= found <= 8


@settings(max_examples=300, deadline=None)
@given(block=st.binary(max_size=120), cut=st.integers(0, 40))
def test_the_parser_never_reads_past_its_segment(block: bytes, cut: int) -> None:
    """An EXIF segment cut short is followed by a comment holding a valid orientation: it is never read."""
    whole = exif_block(6)
    short = (whole[: max(0, len(whole) - cut)] if cut else b"") + block
    try:
        expected = exif_orientation(short) or 1
    except HeaderError:
        expected = 1
    jpeg = jpeg_with((0xE1, b"Exif\x00\x00" + short), (0xFE, b"Exif\x00\x00" + exif_block(8)))
    assert traits(jpeg, "jpeg").orientation == expected
    png = MAGIC["png"] + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0) + b"\0" * 4
    png += struct.pack(">I", len(short)) + b"eXIf" + short + b"\0" * 4
    png += struct.pack(">I", len(whole)) + b"tEXt" + exif_block(8) + b"\0" * 4
    assert traits(png, "png").orientation == expected


@settings(max_examples=300, deadline=None)
@given(fmt=st.sampled_from(sorted(MAGIC)), tail=st.binary(max_size=600))
def test_traits_of_arbitrary_bytes_never_raise(fmt: str, tail: bytes) -> None:
    found = traits(MAGIC[fmt] + tail, fmt)
    assert 1 <= found.orientation <= 8 and not found.upright
