"""The size a file declares in its header, read from its first bytes before anything is decoded.

Pure functions over bytes. A decoder allocates what the header declares, so a few kilobytes that declare
24000 x 24000 pixels cost gigabytes once decoded: the loader compares this declared size with the limit first.
Damaged headers raise HeaderError, whose message says what is wrong; nothing else escapes.
"""

from __future__ import annotations

import io
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np
from numpy.lib import format as npy_format

NIFTI1_HEADER = 348
NIFTI2_HEADER = 540
MAX_NIFTI_OFFSET = 1 << 24  # extensions before the voxels: kilobytes in practice
MAX_NPZ_MEMBERS = 256
NPY_HEAD = 1 << 16
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
Bytes = bytes | bytearray
PICKLE_MESSAGE = "holds Python objects (pickle); maskaudit never unpickles data"


class HeaderError(Exception):
    """The header is damaged or declares something maskaudit never loads; the message says which."""


class _Short(Exception):
    """The bytes end before the header does."""


@dataclass(frozen=True, slots=True)
class Declared:
    """What a header declares: the array's shape (height, width for pictures) and, for NIfTI, its raw size."""

    shape: tuple[int, ...]
    raw_bytes: int | None = None

    @property
    def elements(self) -> int:
        total = 1
        for size in self.shape:
            total *= size
        return total

    def describe(self) -> str:
        """ "24000 x 24000 = 576,000,000" (width first for pictures, as image tools show it)."""
        dims = " x ".join(str(s) for s in (self.shape[::-1] if len(self.shape) == 2 else self.shape))
        return f"{dims} = {self.elements:,}"


def declared(data: Bytes, fmt: str, complete: bool) -> Declared | None:
    """The declared size of a file of the sniffed format.

    ``data`` is the file's start, or all of it when ``complete``. None means the header lies beyond ``data``
    (read more and ask again); with ``complete`` a header that runs past the end is an error instead.
    """
    reader = _READERS.get(fmt)
    if reader is None:
        return None
    try:
        return reader(data, complete)
    except _Short:
        if complete:
            raise HeaderError(f"truncated {fmt.upper()} header") from None
        return None
    except HeaderError:
        raise
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        raise HeaderError(f"damaged {fmt.upper()} header ({exc})") from None


def _need(data: Bytes, end: int) -> None:
    if len(data) < end:
        raise _Short


def _positive(fmt: str, *sizes: int) -> tuple[int, ...]:
    if any(s <= 0 for s in sizes):
        raise HeaderError(f"{fmt} header declares a size of {' x '.join(str(s) for s in sizes)}")
    return sizes


def _png(data: Bytes, complete: bool) -> Declared:
    _need(data, 24)
    if data[12:16] != b"IHDR":
        raise HeaderError("PNG does not start with its IHDR header")
    width, height = struct.unpack(">II", data[16:24])
    return Declared(_positive("PNG", height, width))


JPEG_EOI, JPEG_SOS, JPEG_APP1 = 0xD9, 0xDA, 0xE1


def jpeg_segments(data: Bytes) -> Iterator[tuple[int, int, int]]:
    """Each JPEG segment before the image data as (marker, offset of the marker, end of the segment).

    Fill bytes, markers without a length and stray bytes between segments are skipped, as libjpeg skips them.
    The last item is the end-of-image or start-of-scan marker, if the data reaches it; data that ends first
    raises _Short. At most MAX_CHUNKS segments are walked.
    """
    i = 2
    for _ in range(MAX_CHUNKS):
        _need(data, i + 2)
        if data[i] != 0xFF:
            i = data.find(b"\xff", i)
            if i < 0:
                raise _Short
            continue
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0x00, 0x01) or 0xD0 <= marker <= 0xD8:
            i += 2
            continue
        if marker in (JPEG_EOI, JPEG_SOS):
            yield marker, i, i + 2
            return
        _need(data, i + 4)
        length = (data[i + 2] << 8) | data[i + 3]
        if length < 2:
            raise HeaderError("JPEG segment with a length under 2")
        yield marker, i, i + 2 + length
        i += 2 + length
    raise HeaderError(f"JPEG holds more than {MAX_CHUNKS} segments before its image data")


def is_frame_header(marker: int) -> bool:
    """Start-of-frame markers (SOF0-SOF15), which are not DHT, JPG or DAC."""
    return 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC)


def jpeg_frame(data: Bytes) -> tuple[int, int, int, int]:
    """(precision, height, width, components) from the first frame header."""
    for marker, at, _end in jpeg_segments(data):
        if marker == JPEG_EOI:
            raise HeaderError("JPEG ends before its frame header")
        if marker == JPEG_SOS:
            raise HeaderError("JPEG scan data comes before any frame header")
        if is_frame_header(marker):
            _need(data, at + 10)
            precision, height, width, components = struct.unpack(">BHHB", data[at + 4 : at + 10])
            return precision, height, width, components
    raise _Short


def jpeg_components(data: Bytes) -> int | None:
    """The component count of an 8-bit JPEG's frame header; None for other precisions, damage or no header."""
    try:
        precision, _height, _width, components = jpeg_frame(data)
    except (_Short, HeaderError):
        return None
    return components if precision == 8 else None


def _jpeg(data: Bytes, complete: bool) -> Declared:
    _, height, width, _ = jpeg_frame(data)
    return Declared(_positive("JPEG", height, width))


_TIFF_TYPES = {3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}


def _tiff(data: Bytes, complete: bool) -> Declared:
    """ImageWidth and ImageLength of the first IFD (what a decoder reads first), classic or BigTIFF."""
    _need(data, 8)
    order = "<" if data[:2] == b"II" else ">"
    big = struct.unpack(order + "H", data[2:4])[0] == 43
    if big:
        _need(data, 16)
        offset = struct.unpack(order + "Q", data[8:16])[0]
        count_format, entry_size, value_size = "Q", 20, 8
    else:
        offset = struct.unpack(order + "I", data[4:8])[0]
        count_format, entry_size, value_size = "H", 12, 4
    count_size = struct.calcsize(count_format)
    _need(data, offset + count_size)
    count = struct.unpack(order + count_format, data[offset : offset + count_size])[0]
    if count > 1 << 16:
        raise HeaderError(f"TIFF directory declares {count:,} entries")
    _need(data, offset + count_size + count * entry_size)
    sizes: dict[int, int] = {}
    for n in range(count):
        at = offset + count_size + n * entry_size
        tag, kind = struct.unpack(order + "HH", data[at : at + 4])
        if tag not in (256, 257) or kind not in _TIFF_TYPES:
            continue
        code, width = _TIFF_TYPES[kind]
        if width > value_size:
            continue
        value_at = at + 4 + value_size
        sizes[tag] = struct.unpack(order + code, data[value_at : value_at + width])[0]
    if 256 not in sizes or 257 not in sizes:
        raise HeaderError("TIFF directory has no image width or length")
    return Declared(_positive("TIFF", sizes[257], sizes[256]))


def _bmp(data: Bytes, complete: bool) -> Declared:
    _need(data, 18)
    header_size = struct.unpack("<I", data[14:18])[0]
    if header_size == 12:
        _need(data, 22)
        width, height = struct.unpack("<HH", data[18:22])
    else:
        _need(data, 26)
        width, height = struct.unpack("<ii", data[18:26])
    return Declared(_positive("BMP", abs(height), width))


def _webp(data: Bytes, complete: bool) -> Declared:
    _need(data, 30)
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise HeaderError("WebP VP8 frame without its start code")
        width, height = struct.unpack("<HH", data[26:30])
        return Declared(_positive("WebP", height & 0x3FFF, width & 0x3FFF))
    if chunk == b"VP8L":
        bits = struct.unpack("<I", data[21:25])[0]
        if data[20] != 0x2F:
            raise HeaderError("WebP lossless frame without its signature")
        return Declared((((bits >> 14) & 0x3FFF) + 1, (bits & 0x3FFF) + 1))
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return Declared((height, width))
    raise HeaderError(f"WebP with an unknown first chunk {chunk!r}")


# numpy parses a .npy header with ast.literal_eval, which CPython 3.11 cannot run in two threads at once
# ("SystemError: AST constructor recursion depth mismatch"): every .npy header is parsed under this lock.
NPY_HEADER_LOCK = threading.Lock()


def _npy_header(stream: IO[bytes]) -> tuple[tuple[int, ...], np.dtype[np.generic]]:
    with NPY_HEADER_LOCK:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, _fortran, dtype = npy_format.read_array_header_1_0(stream)
        else:
            shape, _fortran, dtype = npy_format.read_array_header_2_0(stream)
    if dtype.hasobject:
        raise HeaderError(PICKLE_MESSAGE)
    return tuple(int(s) for s in shape), dtype


def _npy(data: Bytes, complete: bool) -> Declared:
    try:
        shape, _dtype = _npy_header(io.BytesIO(data[:NPY_HEAD]))
    except HeaderError:
        raise
    except (ValueError, EOFError, SyntaxError, TypeError) as exc:
        if len(data) < NPY_HEAD and not complete:
            raise _Short from None
        raise HeaderError(f"damaged .npy header ({exc})") from None
    return Declared(shape)


def _npz(data: Bytes, complete: bool) -> Declared:
    """The largest array an archive holds, from each member's npy header; nothing is extracted."""
    if not complete:
        raise _Short
    largest: Declared | None = None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if m.filename.endswith(".npy")]
            if len(members) > MAX_NPZ_MEMBERS:
                raise HeaderError(f".npz archive holds {len(members):,} arrays, over {MAX_NPZ_MEMBERS}")
            for member in members:
                with archive.open(member) as stream:
                    shape, dtype = _npy_header(stream)
                found = Declared(shape)
                if member.file_size > found.elements * dtype.itemsize + NPY_HEAD:
                    raise HeaderError(f".npz member {member.filename} inflates to {member.file_size:,} bytes, "
                                      f"more than its array needs")
                if largest is None or found.elements > largest.elements:
                    largest = found
    except HeaderError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, SyntaxError, TypeError,
            NotImplementedError, RuntimeError, zlib.error) as exc:
        raise HeaderError(f"corrupt .npz archive ({type(exc).__name__}: {exc})") from None
    if largest is None:
        raise HeaderError(".npz archive holds no array")
    return largest


def nifti_prefix(data: Bytes) -> Bytes:
    """The first bytes of a NIfTI file's header, gunzipping at most that many of a .nii.gz."""
    if not data.startswith(b"\x1f\x8b"):
        return data[:NIFTI2_HEADER]
    try:
        return zlib.decompressobj(wbits=31).decompress(data, NIFTI2_HEADER)
    except zlib.error as exc:
        raise HeaderError(f"corrupt gzip stream ({exc})") from None


def _nifti(data: Bytes, complete: bool) -> Declared:
    head = nifti_prefix(data)
    _need(head, 4)
    for order in "<>":
        size = struct.unpack(order + "i", head[:4])[0]
        if size == NIFTI1_HEADER:
            _need(head, NIFTI1_HEADER)
            dims = struct.unpack(order + "8h", head[40:56])
            bitpix = struct.unpack(order + "h", head[72:74])[0]
            offset = int(struct.unpack(order + "f", head[108:112])[0])
            break
        if size == NIFTI2_HEADER:
            _need(head, NIFTI2_HEADER)
            bitpix = struct.unpack(order + "h", head[14:16])[0]
            dims = struct.unpack(order + "8q", head[16:80])
            offset = struct.unpack(order + "q", head[168:176])[0]
            break
    else:
        raise HeaderError("not a NIfTI header (its size field is neither 348 nor 540)")
    rank = dims[0]
    if not 1 <= rank <= 7:
        raise HeaderError(f"NIfTI header declares {rank} dimensions")
    shape = _positive("NIfTI", *dims[1 : rank + 1])
    if bitpix <= 0 or bitpix % 8 or bitpix > 256:
        raise HeaderError(f"NIfTI header declares {bitpix} bits per voxel")
    if not 0 <= offset <= MAX_NIFTI_OFFSET:
        raise HeaderError(f"NIfTI header puts its voxels at byte {offset:,}")
    found = Declared(shape)
    return Declared(shape, raw_bytes=max(offset, NIFTI1_HEADER) + found.elements * bitpix // 8)


_READERS = {
    "png": _png, "jpeg": _jpeg, "tiff": _tiff, "bmp": _bmp, "webp": _webp, "npy": _npy, "npz": _npz,
    "nifti": _nifti,
}


def png_damage(data: Bytes, budget: int = 1 << 32) -> str | None:
    """Why a PNG that a decoder refused is damaged: a chunk CRC or the compressed image data.

    Inflates the image data in slices and keeps none of it; stops after ``budget`` output bytes.
    """
    if not data.startswith(PNG_MAGIC):
        return None
    at, inflater, produced = 8, zlib.decompressobj(), 0
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = bytes(data[at + 4 : at + 8])
        name = kind.decode("latin-1")
        end = at + 8 + length
        if end + 4 > len(data):
            return f"{name} chunk cut off by the end of the file"
        body = data[at + 8 : end]
        if zlib.crc32(kind + body) != int.from_bytes(data[end : end + 4], "big"):
            return f"{name} chunk fails its CRC check"
        if kind == b"IDAT":
            try:
                pending = bytes(body)
                while pending and produced < budget:
                    produced += len(inflater.decompress(pending, 1 << 20))
                    pending = inflater.unconsumed_tail
            except zlib.error as exc:
                return f"IDAT: {str(exc).split(': ', 1)[-1]}"
        if kind == b"IEND":
            return None if inflater.eof else "IDAT: image data ends early"
        at = end + 4
    return "no IEND chunk: the file is cut short"


ORIENTATION_TAG = 0x0112
MAX_CHUNKS = 4096  # chunks or segments walked looking for metadata: real files hold dozens
PNG_RGB, PNG_PALETTE = 2, 3


@dataclass(frozen=True, slots=True)
class Traits:
    """What a file's header says about how training loaders will read it, where cv2 and PIL differ.

    ``orientation`` is the EXIF Orientation (1-8; 1 when the file has none or an invalid one).
    ``upright`` is set by the loading layer when the scan's own decoder already applied the orientation.
    """

    orientation: int = 1
    palette: bool = False  # a palette PNG: PIL gives indices, cv2 gives colours
    transparency: bool = False  # an RGB or palette PNG with a tRNS chunk: cv2 adds an alpha channel
    cmyk: bool = False  # a four-component (CMYK or YCCK) JPEG: PIL gives four channels, cv2 three
    upright: bool = False

    @property
    def rotated(self) -> bool:
        """The orientation turns the picture by 90 degrees: height and width trade places when applied."""
        return self.orientation >= 5


PLAIN = Traits()


def traits(data: Bytes, fmt: str) -> Traits:
    """The loader-relevant metadata of a file of the sniffed format; PLAIN where it holds none.

    Walks segment and chunk headers only, within ``data``; damaged metadata counts as absent, as decoders
    that skip it treat it.
    """
    reader = _TRAITS.get(fmt)
    if reader is None:
        return PLAIN
    try:
        found = reader(data)
    except (HeaderError, _Short, struct.error, IndexError, ValueError):
        return PLAIN
    return PLAIN if found == PLAIN else found


def exif_orientation(block: Bytes) -> int | None:
    """The Orientation tag in the first directory of an EXIF block (a TIFF header, optionally after "Exif\\0\\0").

    None when the block has no valid orientation (1-8). Raises HeaderError, and nothing else, when the block
    is damaged; reads nothing beyond ``block``.
    """
    if block[:6] == b"Exif\x00\x00":
        block = block[6:]
    if len(block) < 8:
        raise HeaderError("EXIF block shorter than its TIFF header")
    if block[:2] == b"II":
        order = "<"
    elif block[:2] == b"MM":
        order = ">"
    else:
        raise HeaderError("EXIF block without a byte-order mark")
    magic = struct.unpack(order + "H", block[2:4])[0]
    if magic == 42:
        offset = struct.unpack(order + "I", block[4:8])[0]
        count_format, entry_size, value_at = "H", 12, 8
    elif magic == 43:
        if len(block) < 16:
            raise HeaderError("EXIF block shorter than its BigTIFF header")
        offset = struct.unpack(order + "Q", block[8:16])[0]
        count_format, entry_size, value_at = "Q", 20, 12
    else:
        raise HeaderError(f"EXIF block with TIFF magic {magic}")
    count_size = struct.calcsize(count_format)
    if offset + count_size > len(block):
        raise HeaderError("EXIF directory lies beyond the block")
    count = struct.unpack(order + count_format, block[offset : offset + count_size])[0]
    first = offset + count_size
    entries = min(count, (len(block) - first) // entry_size)
    for n in range(entries):
        at = first + n * entry_size
        tag, kind = struct.unpack(order + "HH", block[at : at + 4])
        if tag == ORIENTATION_TAG:
            if kind != 3:  # SHORT, as the standard requires; decoders ignore any other type
                return None
            value = struct.unpack(order + "H", block[at + value_at : at + value_at + 2])[0]
            return value if 1 <= value <= 8 else None
    return None


def _orientation(block: Bytes) -> int:
    try:
        return exif_orientation(block) or 1
    except HeaderError:
        return 1


def _jpeg_traits(data: Bytes) -> Traits:
    """APP1 "Exif" for the orientation, the frame header's component count for CMYK/YCCK; stops at the scan."""
    orientation, components, exif_seen = 1, 0, False
    try:
        for marker, at, end in jpeg_segments(data):
            stop = min(end, len(data))
            if marker == JPEG_APP1 and not exif_seen and data[at + 4 : at + 10] == b"Exif\x00\x00":
                exif_seen = True  # decoders read the first EXIF segment only
                orientation = _orientation(data[at + 4 : stop])
            elif is_frame_header(marker) and at + 10 <= stop:
                components = data[at + 9]
    except (_Short, HeaderError):
        pass  # what was found before the damage stands
    return Traits(orientation=orientation, cmyk=components == 4)


def _png_traits(data: Bytes) -> Traits:
    """Colour type from IHDR; tRNS and eXIf from the chunks before the image data."""
    if len(data) < 26:
        raise _Short
    colour = data[25]
    orientation, transparency, at, end = 1, False, 8, len(data)
    for _ in range(MAX_CHUNKS):
        if at + 8 > end:
            break
        length, kind = _PNG_CHUNK.unpack_from(data, at)
        if kind == b"IDAT" or kind == b"IEND":
            break
        if kind == b"eXIf":
            orientation = _orientation(data[at + 8 : min(at + 8 + length, end)])
        elif kind == b"tRNS":
            transparency = colour in (PNG_RGB, PNG_PALETTE)
        at += 12 + length
    if orientation == 1 and not transparency and colour != PNG_PALETTE:
        return PLAIN
    return Traits(orientation=orientation, palette=colour == PNG_PALETTE, transparency=transparency)


_PNG_CHUNK = struct.Struct(">I4s")  # a chunk's length and type


def _webp_traits(data: Bytes) -> Traits:
    """The EXIF chunk of an extended WebP; it follows the image data, so chunk headers are walked to it."""
    if data[12:16] != b"VP8X" or len(data) < 21 or not data[20] & 0x08:
        return PLAIN
    at = 12
    for _ in range(MAX_CHUNKS):
        if at + 8 > len(data):
            break
        size = int.from_bytes(data[at + 4 : at + 8], "little")
        if data[at : at + 4] == b"EXIF":
            return Traits(orientation=_orientation(data[at + 8 : min(at + 8 + size, len(data))]))
        at += 8 + size + (size & 1)
    return PLAIN


def _tiff_traits(data: Bytes) -> Traits:
    return Traits(orientation=_orientation(data))


_TRAITS = {"jpeg": _jpeg_traits, "png": _png_traits, "webp": _webp_traits, "tiff": _tiff_traits}
