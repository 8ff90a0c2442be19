"""The cyclic garbage collector paused while records are made in bulk.

Facts records, findings and keys hold no reference cycles, yet each allocation of them counts towards the
collector's next pass, and a pass walks every young object: judging a partition from the cache made the
collector a third of its time. Pausing it there frees nothing later than reference counting would."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_paused = [0, False]  # how many threads are inside, and whether the collector was on when the first came in


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No automatic collection inside (any thread of the process); on again when the last thread leaves, if it
    was on before the first came in."""
    with _lock:
        if not _paused[0]:
            _paused[1] = gc.isenabled()
            gc.disable()
        _paused[0] += 1
    try:
        yield
    finally:
        with _lock:
            _paused[0] -= 1
            if not _paused[0] and _paused[1]:
                gc.enable()
