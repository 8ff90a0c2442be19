from __future__ import annotations

import gzip
import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from maskaudit.decode import DecodeError, decode_bytes, sniff


def png_bytes(array: np.ndarray) -> bytes:
    return cv2.imencode(".png", array)[1].tobytes()


def test_gray_and_16bit_png_keep_their_values() -> None:
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8)
    assert np.array_equal(decode_bytes(png_bytes(gray), "m.png").array, gray)
    wide = (np.arange(64, dtype=np.uint16) * 1000).reshape(8, 8)
    decoded = decode_bytes(png_bytes(wide), "m.png")
    assert decoded.array.dtype == np.uint16 and np.array_equal(decoded.array, wide)


def test_palette_png_is_read_as_indices_not_colours() -> None:
    indices = np.array([[0, 1], [2, 1]], dtype=np.uint8)
    img = Image.fromarray(indices, mode="P")
    img.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    decoded = decode_bytes(buffer.getvalue(), "p.png")
    assert decoded.format == "png-palette"
    assert np.array_equal(decoded.array, indices)


def test_colour_png_comes_back_in_rgb_order() -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 200
    decoded = decode_bytes(png_bytes(rgb[..., ::-1].copy()), "c.png")
    assert decoded.array[0, 0].tolist() == [200, 0, 0]


def test_format_is_sniffed_from_bytes_not_extension() -> None:
    jpeg = cv2.imencode(".jpg", np.full((8, 8), 255, np.uint8))[1].tobytes()
    assert decode_bytes(jpeg, "mask.png").format == "jpeg"
    assert sniff(b"\x93NUMPY", "x.bin") == "npy"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"plain text, not an image", "not a supported"),
        (png_bytes(np.ones((32, 32), np.uint8) * 7)[:60], "PNG"),
        (cv2.imencode(".jpg", np.ones((32, 32), np.uint8))[1].tobytes()[:-40], "truncated JPEG"),
        (b"\x93NUMPY garbage", ".npy"),
    ],
    ids=["empty", "text", "truncated-png", "truncated-jpeg", "bad-npy"],
)
def test_broken_files_raise_decode_error(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_bytes(data, "x.png")


def test_arrays_from_npy_npz_tiff_and_bmp() -> None:
    cube = np.random.default_rng(0).normal(size=(3, 16, 12)).astype(np.float32)
    buffer = io.BytesIO()
    np.save(buffer, cube)
    decoded = decode_bytes(buffer.getvalue(), "x.npy")
    assert decoded.channels_first and decoded.array.shape == (3, 16, 12)

    buffer = io.BytesIO()
    np.savez(buffer, image=cube[0], mask=(cube[0] > 0).astype(np.uint8))
    assert decode_bytes(buffer.getvalue(), "x.npz").array.dtype == np.uint8

    tiff = cv2.imencode(".tiff", cube[0])[1].tobytes()
    decoded = decode_bytes(tiff, "x.tif")
    assert decoded.format == "tiff" and decoded.array.dtype == np.float32
    assert np.allclose(decoded.array, cube[0])

    bmp = cv2.imencode(".bmp", np.eye(8, dtype=np.uint8))[1].tobytes()
    assert decode_bytes(bmp, "x.bmp").format == "bmp"


def test_nifti_volume(tmp_path: Path) -> None:
    nibabel = pytest.importorskip("nibabel")
    volume = np.zeros((6, 5, 4), np.uint8)
    volume[2:4, 2:4, 1:3] = 1
    path = tmp_path / "seg.nii.gz"
    nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), path)
    decoded = decode_bytes(path.read_bytes(), path.name)
    assert decoded.volume and decoded.array.shape == (6, 5, 4)
    assert np.array_equal(decoded.array, volume)


def test_gzip_bomb_behind_a_nifti_header_inflates_no_further_than_the_header_declares(tmp_path: Path) -> None:
    nibabel = pytest.importorskip("nibabel")
    path = tmp_path / "seg.nii"
    nibabel.save(nibabel.Nifti1Image(np.ones((4, 4, 2), np.uint8), np.eye(4)), path)
    bomb = gzip.compress(path.read_bytes() + bytes(64 << 20))
    decoded = decode_bytes(bomb, "seg.nii.gz")
    assert decoded.array.shape == (4, 4, 2) and int(decoded.array.sum()) == 32
