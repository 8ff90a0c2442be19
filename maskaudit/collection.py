"""The cyclic garbage collector paused while records are made in bulk.

Facts records, findings and keys hold no reference cycles, yet each allocation of them counts towards the
collector's next pass, and a pass walks every young object: judging a partition from the cache made the
collector a fifth of its time. Pausing it there frees nothing later than reference counting would. The pause
is the process's (the collector has no other scope), so threads that overlap keep it: it is lifted once it
has lasted MAX_PAUSE_S, for whatever another thread leaves behind."""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

MAX_PAUSE_S = 1.0


@dataclass
class _Pause:
    inside: int = 0  # threads inside a pause
    since: float | None = None  # when this module turned the collector off; None while it has not


_lock = threading.Lock()
_pause = _Pause()


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No automatic collection inside; the collector is on again when the last thread leaves, or when a thread
    leaves after MAX_PAUSE_S of pause, if it was on when the pause began."""
    with _lock:
        if not _pause.inside and gc.isenabled():
            gc.disable()
            _pause.since = time.monotonic()
        _pause.inside += 1
    try:
        yield
    finally:
        with _lock:
            _pause.inside -= 1
            if _pause.since is not None and (not _pause.inside or time.monotonic() - _pause.since > MAX_PAUSE_S):
                gc.enable()
                _pause.since = None
