"""The loader on hostile files: each ends as a Problem whose message says what is wrong, and none hangs."""

from __future__ import annotations

import io
import os
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from maskaudit.facts import ProblemKind
from maskaudit.limits import Limits
from maskaudit.loading import load, outside_root


def encoded(ext: str, shape: tuple[int, ...] = (16, 24)) -> bytes:
    array = np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8)
    ok, data = cv2.imencode(ext, array)
    assert ok
    return data.tobytes()


def problem_of(path: str | Path, root: Path, limits: Limits = Limits()) -> tuple[ProblemKind, str]:
    decoded, problem = load(str(path), root, "image", limits)
    assert decoded is None and problem is not None
    return problem.kind, problem.message


def test_a_regular_image_loads(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(encoded(".png"))
    decoded, problem = load("a.png", tmp_path, "image")
    assert problem is None and decoded is not None and decoded.array.shape == (16, 24)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.png")
    assert problem_of("pipe.png", tmp_path) == (
        ProblemKind.UNREADABLE, f"image file {tmp_path / 'pipe.png'} is a FIFO, not a regular file")


def test_character_device_and_directory_are_refused(tmp_path: Path) -> None:
    assert problem_of("/dev/zero", tmp_path)[1] == "image file /dev/zero is a character device, not a regular file"
    (tmp_path / "folder.png").mkdir()
    assert problem_of("folder.png", tmp_path)[1].endswith("folder.png is a directory, not a regular file")


def test_broken_symlink_names_its_target_and_a_loop_is_a_loop(tmp_path: Path) -> None:
    (tmp_path / "dangling.png").symlink_to(tmp_path / "gone.png")
    assert problem_of("dangling.png", tmp_path) == (
        ProblemKind.NOT_FOUND, f"image file {tmp_path / 'dangling.png'} is a broken symlink to {tmp_path / 'gone.png'}")
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    loop = (ProblemKind.UNREADABLE, f"image file {tmp_path / 'a.png'} is a symlink loop")
    assert problem_of("a.png", tmp_path) == loop


def test_nul_in_a_path_is_a_missing_file(tmp_path: Path) -> None:
    kind, message = problem_of("a\x00.png", tmp_path)
    assert kind is ProblemKind.NOT_FOUND and "NUL byte" in message


def test_a_sparse_file_of_zeros_is_refused_from_its_first_bytes(tmp_path: Path) -> None:
    sparse = tmp_path / "sparse.png"
    with open(sparse, "wb") as handle:
        handle.truncate(1 << 30)
    assert problem_of("sparse.png", tmp_path)[1] == (
        "image file cannot be decoded: not a supported image or array file (unrecognised content)")


def test_a_file_over_max_file_bytes_is_refused_before_reading(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(encoded(".png"))
    size = (tmp_path / "a.png").stat().st_size
    kind, message = problem_of("a.png", tmp_path, Limits(max_file_bytes=100))
    assert kind is ProblemKind.UNREADABLE
    assert message == (f"image file cannot be decoded: is {size} bytes, over --max-file-bytes 100 bytes; raise it "
                       f"with --max-file-bytes if the file is genuine")


def png_declaring(width: int, height: int) -> bytes:
    data = bytearray(encoded(".png"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def jpeg_declaring(width: int, height: int) -> bytes:
    data = bytearray(encoded(".jpg"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def bmp_declaring(width: int, height: int) -> bytes:
    data = bytearray(encoded(".bmp"))
    data[18:26] = struct.pack("<ii", width, -height)
    return bytes(data)


def tiff_declaring(width: int, height: int) -> bytes:
    data = bytearray(encoded(".tif"))
    offset = struct.unpack("<I", data[4:8])[0]
    for n in range(struct.unpack("<H", data[offset : offset + 2])[0]):
        at = offset + 2 + 12 * n
        tag = struct.unpack("<H", data[at : at + 2])[0]
        if tag in (256, 257):
            data[at + 2 : at + 4] = struct.pack("<H", 4)
            data[at + 8 : at + 12] = struct.pack("<I", width if tag == 256 else height)
    return bytes(data)


def webp_declaring(width: int, height: int) -> bytes:
    """An extended WebP (a VP8X canvas before the frame): the only layout that can declare 24000 pixels a side."""
    frame = encoded(".webp")[12:]
    canvas = b"VP8X" + struct.pack("<I", 10) + bytes(4) + (width - 1).to_bytes(3, "little") + (
        height - 1).to_bytes(3, "little")
    body = b"WEBP" + canvas + frame
    return b"RIFF" + struct.pack("<I", len(body)) + body


def npy_declaring(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((4, 6), np.uint8))
    header = buffer.getvalue()
    return header.replace(b"(4, 6)", f"({height}, {width})".encode()).replace(b" " * 8, b"", 1)[:128] + bytes(24)


def npz_declaring(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mask.npy", npy_declaring(width, height))
    return buffer.getvalue()


BOMBS = {"png": png_declaring, "jpg": jpeg_declaring, "bmp": bmp_declaring, "tif": tiff_declaring,
         "webp": webp_declaring, "npy": npy_declaring, "npz": npz_declaring}


@pytest.mark.parametrize("ext", sorted(BOMBS))
def test_a_header_declaring_too_many_pixels_is_refused_before_decoding(tmp_path: Path, ext: str) -> None:
    (tmp_path / f"bomb.{ext}").write_bytes(BOMBS[ext](24000, 24000))
    kind, message = problem_of(f"bomb.{ext}", tmp_path)
    assert kind is ProblemKind.UNREADABLE
    assert message == ("image file cannot be decoded: declares 24000 x 24000 = 576,000,000 pixels, over "
                       "--max-pixels 268,435,456; raise it with --max-pixels if the file is genuine")


def test_nifti_bomb_is_refused_from_its_gzipped_header(tmp_path: Path) -> None:
    nibabel = pytest.importorskip("nibabel")
    nibabel.save(nibabel.Nifti1Image(np.zeros((4, 4, 4), np.uint8), np.eye(4)), tmp_path / "v.nii")
    raw = bytearray((tmp_path / "v.nii").read_bytes())
    raw[40:56] = struct.pack("<8h", 3, 2000, 2000, 2000, 1, 1, 1, 1)
    (tmp_path / "v.nii.gz").write_bytes(zlib.compress(bytes(raw), wbits=31))
    assert "declares 2000 x 2000 x 2000 = 8,000,000,000 values" in problem_of("v.nii.gz", tmp_path)[1]


def test_a_pickled_npy_is_refused_and_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.mkdir, (str(marker),))

    np.save(tmp_path / "evil.npy", np.array([Payload()], dtype=object), allow_pickle=True)
    kind, message = problem_of("evil.npy", tmp_path)
    assert kind is ProblemKind.UNREADABLE
    assert message == "image file cannot be decoded: holds Python objects (pickle); maskaudit never unpickles data"
    assert not marker.exists()


def test_corrupt_idat_gives_the_reason(tmp_path: Path) -> None:
    data = bytearray(encoded(".png", (64, 64)))
    idat = data.find(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    data[idat + 6 : idat + 4 + length] = bytes(length - 2)
    data[idat + 4 + length : idat + 8 + length] = struct.pack(">I", zlib.crc32(bytes(data[idat : idat + 4 + length])))
    (tmp_path / "bad.png").write_bytes(bytes(data))
    kind, message = problem_of("bad.png", tmp_path)
    assert kind is ProblemKind.UNREADABLE
    assert message.startswith("image file cannot be decoded: corrupt or truncated PNG file (IDAT: ")


def test_a_name_that_differs_by_normalisation_or_case_is_pointed_out(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "café.png")
    (tmp_path / nfd).write_bytes(encoded(".png"))
    (tmp_path / "Scan.PNG").write_bytes(encoded(".png"))
    kind, message = problem_of(unicodedata.normalize("NFC", "café.png"), tmp_path)
    assert kind is ProblemKind.NOT_FOUND
    assert message.endswith(f"; a file named {nfd!r} exists there (differs only by Unicode normalisation (NFC/NFD))")
    assert problem_of("scan.png", tmp_path)[1].endswith(
        "; a file named 'Scan.PNG' exists there (differs only by letter case)")
    assert problem_of("other.png", tmp_path)[1] == f"image file {tmp_path / 'other.png'} does not exist"


def test_outside_root_is_decided_on_the_normalised_text(tmp_path: Path) -> None:
    root = tmp_path / "data"
    assert outside_root("a/../b.png", root) is None
    assert outside_root(str(root / "x.png"), root) is None
    assert outside_root("../data2/x.png", root) == str(tmp_path / "data2" / "x.png")
    assert outside_root("/etc/passwd", root) == "/etc/passwd"
    assert outside_root(None, root) is None


def test_a_scan_reads_a_path_outside_the_declared_root_and_warns_naming_it(tmp_path: Path) -> None:
    from maskaudit.data_root import DataRoot
    from maskaudit.judge import judge
    from maskaudit.scan import RowSpec, measure_row
    from maskaudit.settings import Settings

    root = tmp_path / "data"
    root.mkdir()
    (tmp_path / "elsewhere.png").write_bytes(encoded(".png"))
    (root / "mask.png").write_bytes(encoded(".png"))
    row = measure_row(RowSpec(0, "../elsewhere.png", "mask.png", None, None, None, None), root)
    target = str(tmp_path / "elsewhere.png")
    assert row.image is not None and row.image_outside_root == target and row.mask_outside_root is None
    judged = judge([row], Settings(), has_splits=False, root=DataRoot(str(root), declared=True))
    findings = [f for f in judged.findings if f.check == "path-outside-root"]
    assert [f.message for f in findings] == [
        f"image path ../elsewhere.png leads to {target}, outside the root {root}; pass --root "
        f"to declare where the data lives"]
    assert findings[0].severity.name == "WARNING"



@given(st.text(alphabet="ab./~:\\", max_size=12),
       st.sampled_from(["/data", "/data/", "data", ".", "/", "s3://bucket/prefix", "s3://bucket"]))
def test_the_shortcut_for_relative_paths_agrees_with_the_full_answer(path: str, root: str) -> None:
    from maskaudit.loading import _outside

    assert outside_root(path, root) == _outside(path, root)
