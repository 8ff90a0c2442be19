"""Turn a file's bytes into an array, keeping what a training loader would lose.

The format is sniffed from the bytes, not the extension: a JPEG saved as ``.png`` is still lossy.
Palette PNGs are read as their indices, never expanded to colours.
"""

from __future__ import annotations

import contextlib
import io
import zlib
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import xxhash
from numpy.typing import NDArray
from PIL import Image

from maskaudit.header import NPY_HEADER_LOCK, PLAIN, Bytes, HeaderError, Traits, declared, jpeg_components, png_damage
from maskaudit.limits import DEFAULT_MAX_PIXELS

cv2.setNumThreads(1)
with contextlib.suppress(AttributeError):  # older OpenCV builds have no logging module
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


class DecodeError(Exception):
    """The file exists but cannot be decoded; the message says why."""


@dataclass(frozen=True, slots=True)
class Decoded:
    array: NDArray[Any]
    format: str
    channels_first: bool = False
    volume: bool = False
    traits: Traits = PLAIN  # what the header says loaders differ on; the loading layer fills it in
    file_hash: str = ""  # xxh3-128 of the file's bytes: byte-identical copies share it


# OpenCV 4.10 and later decode colour JPEGs to RGB directly; IMREAD_UNCHANGED ignores EXIF orientation, so do we
JPEG_RGB: int | None = (
    cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION if hasattr(cv2, "IMREAD_COLOR_RGB") else None
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PNG_PALETTE = 3


def sniff(data: Bytes, name: str) -> str:
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if data.startswith(b"BM"):
        return "bmp"
    if data.startswith(b"\x93NUMPY"):
        return "npy"
    lower = name.lower()
    if data.startswith(b"PK\x03\x04") and lower.endswith(".npz"):
        return "npz"
    if lower.endswith((".nii", ".nii.gz")):
        return "nifti"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    return "unknown"


def decode_bytes(
    data: Bytes, name: str, prefer: tuple[str, ...] = ("mask", "label", "seg"), max_pixels: int = DEFAULT_MAX_PIXELS
) -> Decoded:
    """Decode a whole file's bytes (the loader has checked the declared size against the limits)."""
    found = _decode(data, name, prefer, max_pixels)  # built anew: replace() costs microseconds a file
    return Decoded(found.array, found.format, found.channels_first, found.volume, found.traits,
                   xxhash.xxh3_128_hexdigest(data))


def _decode(data: Bytes, name: str, prefer: tuple[str, ...], max_pixels: int) -> Decoded:
    array: NDArray[Any]
    if not data:
        raise DecodeError("file is empty (0 bytes)")
    fmt = sniff(data, name)
    if fmt == "unknown":
        raise DecodeError("not a supported image or array file (unrecognised content)")
    if fmt == "npy":
        array = _load_npy(data)
        return Decoded(array, fmt, channels_first=_looks_channels_first(array.shape))
    if fmt == "npz":
        array = _load_npz(data, prefer)
        return Decoded(array, fmt, channels_first=_looks_channels_first(array.shape))
    if fmt == "nifti":
        return Decoded(_load_nifti(data, name), fmt, volume=True)
    if fmt == "png" and len(data) > 25 and data[25] == PNG_PALETTE:
        return Decoded(_load_palette_png(data, max_pixels), "png-palette")
    if fmt == "jpeg" and not data[-(1 << 20) :].rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise DecodeError("truncated JPEG (no end-of-image marker)")
    if fmt == "jpeg" and JPEG_RGB is not None and jpeg_components(data) == 3:
        # an 8-bit three-component JPEG straight to RGB: the pixels IMREAD_UNCHANGED + BGR2RGB give, one pass less
        rgb = cv2.imdecode(np.frombuffer(data, np.uint8), JPEG_RGB)
        if rgb is not None and rgb.ndim == 3 and rgb.shape[2] == 3:
            return Decoded(rgb, fmt)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        reason = png_damage(data) if fmt == "png" else None
        raise DecodeError(f"corrupt or truncated {fmt.upper()} file" + (f" ({reason})" if reason else ""))
    array = decoded
    if array.ndim == 3 and array.shape[2] >= 3:
        array = _bgr_to_rgb(array)
    return Decoded(array, fmt)


def _bgr_to_rgb(array: NDArray[Any]) -> NDArray[Any]:
    if array.shape[2] == 3:
        return cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    if array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2RGBA)
    return array


def _load_palette_png(data: Bytes, max_pixels: int) -> NDArray[Any]:
    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow's own bomb guard, as a second line behind the header check
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return np.asarray(img)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DecodeError(f"corrupt or truncated palette PNG ({exc})") from None


def _load_npy(data: Bytes) -> NDArray[Any]:
    try:
        with NPY_HEADER_LOCK:
            array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DecodeError(f"corrupt or truncated .npy file ({exc})") from None
    if not isinstance(array, np.ndarray):
        raise DecodeError(".npy file does not hold an array")
    return _check_array(array)


def _load_npz(data: Bytes, prefer: tuple[str, ...]) -> NDArray[Any]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            keys = list(archive.files)
            if not keys:
                raise DecodeError(".npz archive holds no array")
            key = next((k for k in keys if k.lower() in prefer), keys[0])
            with NPY_HEADER_LOCK:
                member = np.asarray(archive[key])
            return _check_array(member)
    except DecodeError:
        raise
    except Exception as exc:  # zipfile and numpy raise many kinds on damaged archives
        raise DecodeError(f"corrupt .npz archive ({type(exc).__name__}: {exc})") from None


def _load_nifti(data: Bytes, name: str) -> NDArray[Any]:
    try:
        import nibabel
    except ImportError:
        raise DecodeError("NIfTI needs the medical extra: pip install 'maskaudit[medical]'") from None
    try:
        raw = _gunzip_nifti(data) if data.startswith(b"\x1f\x8b") else data
        image = nibabel.Nifti1Image.from_bytes(bytes(raw))
        return _check_array(np.asanyarray(image.dataobj))
    except DecodeError:
        raise
    except Exception as exc:  # nibabel raises many kinds on damaged headers
        raise DecodeError(f"corrupt NIfTI file {name} ({type(exc).__name__}: {exc})") from None


def _gunzip_nifti(data: Bytes) -> Bytes:
    """A .nii.gz inflated to the size its header declares, never further: a gzip bomb stops there."""
    try:
        found = declared(data, "nifti", complete=True)
        if found is None or found.raw_bytes is None:
            raise DecodeError("NIfTI header not found")
        return zlib.decompressobj(wbits=31).decompress(data, found.raw_bytes)
    except (HeaderError, zlib.error) as exc:
        raise DecodeError(f"corrupt NIfTI file ({exc})") from None


def _check_array(array: NDArray[Any]) -> NDArray[Any]:
    if array.dtype.kind not in "biuf":
        raise DecodeError(f"array has dtype {array.dtype}, not numeric")
    if array.ndim < 2:
        raise DecodeError(f"array has {array.ndim} dimension(s); an image needs at least 2")
    return array


def _looks_channels_first(shape: tuple[int, ...]) -> bool:
    return len(shape) == 3 and shape[0] in (1, 2, 3, 4) and shape[2] not in (1, 2, 3, 4)
