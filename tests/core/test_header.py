"""Declared sizes from headers: true for real files, and only HeaderError (never a crash) for any other bytes."""

from __future__ import annotations

import io
import struct

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskaudit.header import PLAIN, HeaderError, declared, png_damage, traits

FORMATS = ("png", "jpeg", "tiff", "bmp", "webp", "npy", "npz", "nifti")
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff", "tiff": b"II*\x00", "bmp": b"BM",
         "webp": b"RIFF\x00\x00\x00\x00WEBP", "npy": b"\x93NUMPY", "npz": b"PK\x03\x04", "nifti": b""}
EXTENSIONS = {".png": "png", ".jpg": "jpeg", ".tif": "tiff", ".bmp": "bmp", ".webp": "webp"}


@settings(max_examples=300, deadline=None)
@given(fmt=st.sampled_from(FORMATS), tail=st.binary(max_size=600), complete=st.booleans())
def test_arbitrary_bytes_raise_nothing_but_header_error(fmt: str, tail: bytes, complete: bool) -> None:
    try:
        found = declared(MAGIC[fmt] + tail, fmt, complete)
    except HeaderError as exc:
        assert str(exc)
    else:
        assert found is None or all(size > 0 for size in found.shape) or fmt in ("npy", "npz")


@settings(max_examples=300, deadline=None)
@given(tail=st.binary(max_size=400))
def test_png_damage_explains_or_passes_any_bytes(tail: bytes) -> None:
    reason = png_damage(MAGIC["png"] + tail)
    assert reason is None or reason


@settings(max_examples=40, deadline=None)
@given(ext=st.sampled_from(sorted(EXTENSIONS)), height=st.integers(1, 300), width=st.integers(1, 300),
       channels=st.sampled_from((1, 3)))
def test_real_images_declare_their_true_size(ext: str, height: int, width: int, channels: int) -> None:
    shape = (height, width) if channels == 1 else (height, width, channels)
    ok, data = cv2.imencode(ext, np.zeros(shape, np.uint8))
    assert ok
    for complete in (True, False):
        found = declared(data.tobytes(), EXTENSIONS[ext], complete)
        assert found is not None and found.shape == (height, width)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 50), min_size=1, max_size=4),
       dtype=st.sampled_from(("u1", "<i2", ">f4", "<f8", "?")))
def test_npy_and_npz_declare_their_shape(shape: list[int], dtype: str) -> None:
    array = np.zeros(shape, dtype)
    buffer = io.BytesIO()
    np.save(buffer, array)
    found = declared(buffer.getvalue(), "npy", True)
    assert found is not None and found.shape == tuple(shape)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, mask=array)
    assert declared(buffer.getvalue(), "npz", False) is None
    found = declared(buffer.getvalue(), "npz", True)
    assert found is not None and found.shape == tuple(shape)


def test_a_jpeg_frame_header_beyond_the_head_asks_for_more() -> None:
    _, data = cv2.imencode(".jpg", np.zeros((9, 7), np.uint8))
    padding = b"\xff\xe1" + struct.pack(">H", 60_000) + bytes(59_998)
    jpeg = data.tobytes()[:2] + padding * 2 + data.tobytes()[2:]
    assert declared(jpeg[:65536], "jpeg", False) is None
    with pytest.raises(HeaderError, match="truncated JPEG header"):
        declared(jpeg[:65536], "jpeg", True)
    found = declared(jpeg, "jpeg", True)
    assert found is not None and found.shape == (9, 7)


def test_a_zip_bomb_member_is_refused_without_extracting() -> None:
    import zipfile

    header = io.BytesIO()
    np.save(header, np.zeros((2, 2), np.uint8))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mask.npy", header.getvalue() + bytes(50 << 20))
    with pytest.raises(HeaderError, match="inflates to"):
        declared(buffer.getvalue(), "npz", True)


@pytest.mark.parametrize("fmt", ["bmp", "npy", "npz", "nifti"])
def test_formats_without_loader_metadata_have_plain_traits(fmt: str) -> None:
    assert traits(MAGIC[fmt] + bytes(64), fmt) is PLAIN


def test_a_trns_chunk_after_the_image_data_is_not_read() -> None:
    """tRNS must precede IDAT; the walk stops at the image data, as decoders do."""
    ok, data = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))
    assert ok
    png = data.tobytes()
    end = png.rindex(b"IEND") - 4
    trns = struct.pack(">I", 6) + b"tRNS" + bytes(6) + bytes(4)
    assert not traits(png[:end] + trns + png[end:], "png").transparency
    assert traits(png[:33] + trns + png[33:], "png").transparency
