"""Keep decoder chatter (``libpng error: ...``) off the terminal while files are decoded.

Native decoders write to file descriptor 2 directly, so replacing ``sys.stderr`` does not stop them. For the
duration, descriptor 2 points at the null device and Python's ``sys.stderr`` (progress bar, warnings) writes to
a duplicate of the original descriptor. The reason a file failed reaches the user through its finding.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_lock = threading.Lock()
_depth = 0
_saved_fd: int | None = None
_saved_stream: TextIO | None = None


def _is_fd2(stream: TextIO) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a test harness or library replaced sys.stderr
        return False


def _silence() -> None:
    global _saved_fd, _saved_stream
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 at all: nothing to silence
        return
    null = os.open(os.devnull, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    os.dup2(null, 2)
    os.close(null)
    _saved_fd = saved
    if _is_fd2(sys.stderr):
        _saved_stream = sys.stderr
        sys.stderr = open(  # noqa: SIM115  # closed in _restore
            saved, "w", encoding=sys.stderr.encoding, errors="backslashreplace", closefd=False, buffering=1
        )


def _restore() -> None:
    global _saved_fd, _saved_stream
    if _saved_fd is None:
        return
    if _saved_stream is not None:
        sys.stderr.flush()
        sys.stderr.close()
        sys.stderr = _saved_stream
        _saved_stream = None
    os.dup2(_saved_fd, 2)
    os.close(_saved_fd)
    _saved_fd = None


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Descriptor 2 to the null device for the duration; nested and concurrent uses share one redirection."""
    global _depth
    with _lock:
        if _depth == 0:
            _silence()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _restore()
