"""A data folder of every file a scan must survive, and what the scan must say about each.

Every hostile file appears twice in the manifest: once as a mask beside a valid image and once as an image
beside a valid mask. Clean rows sit between them and must come through untouched. Nothing here reads a
hostile file or unpickles a payload: bombs are written from their compressed or declared form only.
"""

from __future__ import annotations

import csv
import os
import pickle
import socket
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

BOMB_SIDE = 24_000  # 576 million pixels: over the default --max-pixels, a few hundred KB on disk
SPARSE_BYTES = 1 << 30
CLEAN_ROWS = 6
SIDE = 64


@dataclass(frozen=True, slots=True)
class Hostile:
    """One hostile file: its manifest path and what the finding on it must say.

    found: the check family suffix, "unreadable" or "not-found"; keywords: words of which at least one must
    appear in the finding's message (case-insensitive).
    """

    name: str
    path: str
    found: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Row:
    index: int
    image_path: str
    mask_path: str
    split: str
    case: str | None = None
    role: str | None = None  # which column holds the hostile path: "image" or "mask"
    check: str | None = None  # the check that must report the row, e.g. "mask-unreadable"
    keywords: tuple[str, ...] = ()

    @property
    def hostile(self) -> bool:
        return self.case is not None


@dataclass(frozen=True, slots=True)
class Corpus:
    folder: Path  # holds the data folder and the files outside it
    data: Path  # the manifest's folder
    manifest: Path
    rows: tuple[Row, ...]
    markers: tuple[Path, ...]  # files a payload would create if it ever ran
    unreadable: tuple[Path, ...]  # FIFOs, sockets and the sparse file: compared by stat, never read

    @property
    def hostile_rows(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.hostile)

    @property
    def clean_rows(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if not row.hostile)


class _OpenOnUnpickle:
    """Pickles to a call of open(marker, "w"): unpickling it creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (self.marker, "w")


def build_corpus(folder: Path) -> Corpus:
    data = folder / "data"
    data.mkdir(parents=True)
    rng = np.random.default_rng(7)
    markers = (folder / "PICKLE-PAYLOAD-RAN",)
    unreadable: list[Path] = []
    cases: list[Hostile] = []

    def add(name: str, path: str, found: str, *keywords: str) -> None:
        cases.append(Hostile(name, path, found, keywords))

    fifo = data / "fifo.png"
    os.mkfifo(fifo)
    unreadable.append(fifo)
    add("fifo", fifo.name, "unreadable", "fifo, not a regular file")
    add("dev-zero", "/dev/zero", "unreadable", "character device, not a regular file")
    add("dev-null", "/dev/null", "unreadable", "character device, not a regular file")
    sock = _unix_socket(data / "sock.png")
    if sock is not None:
        unreadable.append(sock)
        add("socket", sock.name, "unreadable", "socket, not a regular file")
    (data / "folder.png").mkdir()
    add("directory", "folder.png", "unreadable", "directory, not a regular file")
    os.symlink("gone.png", data / "broken.png")
    add("broken-symlink", "broken.png", "not-found", "broken symlink")
    os.symlink("loop-b.png", data / "loop-a.png")
    os.symlink("loop-a.png", data / "loop-b.png")
    add("symlink-loop", "loop-a.png", "unreadable", "symlink loop")
    sparse = data / "sparse.png"
    with sparse.open("wb") as blank:
        blank.truncate(SPARSE_BYTES)
    unreadable.append(sparse)
    add("sparse-1gib", sparse.name, "unreadable", "unrecognised content")
    (data / "bomb.png").write_bytes(png_bomb(BOMB_SIDE, BOMB_SIDE))
    add("png-bomb", "bomb.png", "unreadable", "--max-pixels")
    (data / "bomb.jpg").write_bytes(jpeg_bomb(rng, 65_000, 65_000))
    add("jpeg-bomb", "bomb.jpg", "unreadable", "--max-pixels")
    (data / "bomb.tif").write_bytes(tiff_bomb(100_000, 100_000))
    add("tiff-bomb", "bomb.tif", "unreadable", "--max-pixels")
    (data / "bomb.bmp").write_bytes(bmp_bomb(30_000, 30_000))
    add("bmp-bomb", "bomb.bmp", "unreadable", "--max-pixels")
    (data / "bomb.npy").write_bytes(npy_header("<f8", (30_000, 30_000)))
    add("npy-bomb", "bomb.npy", "unreadable", "--max-pixels")
    npz_bomb(data / "bomb.npz", 17_000)
    add("npz-bomb", "bomb.npz", "unreadable", "--max-pixels")
    (data / "pickled.npy").write_bytes(pickled_npy(markers[0]))
    add("pickled-npy", "pickled.npy", "unreadable", "pickle")
    (data / "bad-crc.png").write_bytes(corrupt_idat(rng))
    add("corrupt-idat", "bad-crc.png", "unreadable", "corrupt", "crc", "decode")
    add("nul-in-path", "nul\x00byte.png", "not-found", "NUL")
    add("etc-hostname", "/etc/hostname", "unreadable", "unrecognised content")
    add("proc-status", "/proc/self/status", "unreadable", "unrecognised content", "empty")
    outside = folder / "outside.txt"
    outside.write_text("not an image, and outside the data folder\n")
    add("dot-dot-escape", "../outside.txt", "unreadable", "unrecognised content")

    rows: list[Row] = []
    counter = iter(range(1 << 20))

    def clean_pair(tag: str) -> tuple[str, str]:
        number = next(counter)
        image, mask = f"ok-{tag}-{number}-image.png", f"ok-{tag}-{number}-mask.png"
        _write_png(data / image, rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8))
        _write_png(data / mask, _mask(rng))
        return image, mask

    def add_clean(name: str | None = None) -> None:
        image, mask = clean_pair("clean")
        if name is not None:  # a legal file name a manifest must carry through intact
            os.rename(data / image, data / name)
            image = name
        rows.append(Row(len(rows), image, mask, "train"))

    for _ in range(CLEAN_ROWS // 2):
        add_clean()
    add_clean("new\nline.png")
    for case in cases:
        image, mask = clean_pair(case.name)
        rows.append(Row(len(rows), image, case.path, "train", case.name, "mask", f"mask-{case.found}",
                        case.keywords))
        rows.append(Row(len(rows), case.path, mask, "train", case.name, "image", f"image-{case.found}",
                        case.keywords))
    for _ in range(CLEAN_ROWS - CLEAN_ROWS // 2 - 1):
        add_clean()

    manifest = data / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["image_path", "mask_path", "split"])
        writer.writerows([row.image_path, row.mask_path, row.split] for row in rows)
    return Corpus(folder, data, manifest, tuple(rows), markers, tuple(unreadable))


# --- valid files ------------------------------------------------------------------------------------------


def _write_png(path: Path, array: NDArray[np.uint8]) -> None:
    ok, encoded = cv2.imencode(".png", array)
    assert ok
    path.write_bytes(encoded.tobytes())


def _mask(rng: np.random.Generator) -> NDArray[np.uint8]:
    mask = np.zeros((SIDE, SIDE), np.uint8)
    top, left = rng.integers(4, SIDE // 2, size=2)
    mask[top : top + SIDE // 3, left : left + SIDE // 3] = 1
    return mask


def _unix_socket(path: Path) -> Path | None:
    """A bound AF_UNIX socket's file (it stays after close), or None where the path is too long for one."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
    except OSError:
        return None
    finally:
        server.close()
    return path


# --- bombs: small files that declare huge images -----------------------------------------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A valid all-zero 8-bit grey PNG, compressed row block by row block: never the whole image in memory."""
    compressor = zlib.compressobj(9)
    rows = 256
    block = b"\x00" * ((width + 1) * rows)  # filter byte 0 then the row's zeros
    parts: list[bytes] = []
    for start in range(0, height, rows):
        count = min(rows, height - start)
        parts.append(compressor.compress(block if count == rows else block[: (width + 1) * count]))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


def jpeg_bomb(rng: np.random.Generator, width: int, height: int) -> bytes:
    """A small valid JPEG whose frame header is patched to claim width x height."""
    ok, encoded = cv2.imencode(".jpg", rng.integers(0, 256, (16, 16), dtype=np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    i = 2
    while data[i + 1] not in (0xC0, 0xC1, 0xC2):
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    data[i + 5 : i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def tiff_bomb(width: int, height: int) -> bytes:
    """A little-endian baseline grey TIFF declaring width x height, with a single 64-byte strip."""
    entries = [
        (256, 4, 1, width),  # ImageWidth, LONG
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # PhotometricInterpretation: black is zero
        (273, 4, 1, 0),  # StripOffsets, patched below
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, 64),  # StripByteCounts
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    strip_offset = 8 + ifd_size
    out = bytearray(b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries)))
    for tag, kind, count, value in entries:
        value = strip_offset if tag == 273 else value
        packed = struct.pack("<HI", value, 0)[:4] if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed
    out += struct.pack("<I", 0) + bytes(64)
    return bytes(out)


def bmp_bomb(width: int, height: int) -> bytes:
    """A 24-bit BMP header declaring width x height, followed by a few bytes of pixels."""
    row = (width * 3 + 3) & ~3
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, row * height, 2835, 2835, 0, 0)
    header = struct.pack("<2sIHHI", b"BM", 14 + 40 + row * height, 0, 0, 14 + 40)
    return header + info + bytes(64)


def npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    """A version 1.0 .npy header alone: the file claims the array but holds none of its data."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    pad = 64 - (10 + len(text) + 1) % 64
    text = text + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def npz_bomb(path: Path, side: int) -> None:
    """An .npz whose one uint8 side x side array of zeros deflates to a few hundred KB, written in blocks."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open("mask.npy", "w", force_zip64=True) as member:
        member.write(npy_header("|u1", (side, side)))
        block = bytes(side * 512)
        for start in range(0, side, 512):
            member.write(block if start + 512 <= side else bytes(side * (side - start)))


def pickled_npy(marker: Path) -> bytes:
    """An object-dtype .npy whose payload, if unpickled, creates marker. Built with pickle, never loaded."""
    return npy_header("|O", (1,)) + pickle.dumps([_OpenOnUnpickle(marker)], protocol=3)


def corrupt_idat(rng: np.random.Generator) -> bytes:
    """A valid 64 x 64 PNG whose IDAT chunk CRC is wrong."""
    ok, encoded = cv2.imencode(".png", rng.integers(0, 256, (SIDE, SIDE), dtype=np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    for start, kind, length in _png_chunks(bytes(data)):
        if kind == b"IDAT":
            data[start + 8 + length] ^= 0xFF
            return bytes(data)
    raise AssertionError("the encoder wrote no IDAT chunk")


def _png_chunks(data: bytes) -> Iterator[tuple[int, bytes, int]]:
    i = 8
    while i < len(data):
        length = int.from_bytes(data[i : i + 4], "big")
        yield i, data[i + 4 : i + 8], length
        i += 12 + length
