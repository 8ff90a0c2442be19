"""Decoder messages written by native code to descriptor 2 never reach the terminal; findings carry the reason."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np

from maskaudit.native_stderr import native_stderr_silenced


def corrupt_idat_png() -> bytes:
    ok, encoded = cv2.imencode(".png", np.random.default_rng(1).integers(0, 255, (64, 64), dtype=np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    idat = data.find(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    data[idat + 6 : idat + 4 + length] = b"\xff" * (length - 2)
    data[idat + 4 + length : idat + 8 + length] = struct.pack(">I", zlib.crc32(bytes(data[idat : idat + 4 + length])))
    return bytes(data)


def test_a_corrupt_png_scanned_quietly_prints_nothing_and_the_finding_says_why(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(corrupt_idat_png())
    _, good = cv2.imencode(".png", np.zeros((64, 64), np.uint8))
    (tmp_path / "mask.png").write_bytes(good.tobytes())
    (tmp_path / "m.csv").write_text("image,mask\nbad.png,mask.png\n")
    result = subprocess.run(
        [sys.executable, "-m", "maskaudit", "scan", str(tmp_path / "m.csv"), "--out", str(tmp_path / "out"),
         "--quiet"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    findings = json.loads((tmp_path / "out" / "report.json").read_text())["findings"]
    unreadable = [f for f in findings if f["check"] == "image-unreadable"]
    assert len(unreadable) == 1 and "corrupt or truncated PNG file (IDAT: " in unreadable[0]["message"]


def test_descriptor_2_goes_to_the_null_device_inside_and_comes_back_after(tmp_path: Path) -> None:
    saved = os.dup(2)
    capture = os.open(tmp_path / "fd2.txt", os.O_WRONLY | os.O_CREAT)
    os.dup2(capture, 2)
    try:
        with native_stderr_silenced(), native_stderr_silenced():
            os.write(2, b"native chatter\n")
        os.write(2, b"after\n")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(capture)
    assert (tmp_path / "fd2.txt").read_bytes() == b"after\n"


def test_python_stderr_still_reaches_the_terminal_while_native_writes_do_not() -> None:
    code = ("import os, sys\n"
            "from maskaudit.native_stderr import native_stderr_silenced\n"
            "with native_stderr_silenced():\n"
            "    print('progress', file=sys.stderr)\n"
            "    os.write(2, b'libpng error: chatter\\n')\n"
            "print('restored', file=sys.stderr)\n"
            "os.write(2, b'native after\\n')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    assert result.stderr == "progress\nrestored\nnative after\n"
