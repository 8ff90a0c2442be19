"""An interrupted scan ends at once: queued chunks are cancelled and running ones are not waited for."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from maskaudit import scan
from maskaudit.facts import RowFacts
from maskaudit.limits import Limits
from maskaudit.scan import CHUNK_ROWS, RowSpec, scan_rows


def test_ctrl_c_cancels_queued_chunks_and_does_not_wait_for_the_running_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, started = threading.Event(), threading.Event()
    calls: list[int] = []
    finished: list[int] = []

    def blocked_chunk(specs: Sequence[RowSpec], root: Path, limits: Limits, cache: object = None) -> list[RowFacts]:
        calls.append(specs[0].row)
        started.set()
        release.wait(timeout=60)
        finished.append(specs[0].row)
        return []

    def interrupted() -> Iterator[RowSpec]:
        for n in range(CHUNK_ROWS * 3):
            yield RowSpec(n, f"{n}.png", None, None, None, None, None)
        started.wait(timeout=60)
        raise KeyboardInterrupt

    monkeypatch.setattr(scan, "measure_chunk", blocked_chunk)
    try:
        with pytest.raises(KeyboardInterrupt):
            scan_rows(interrupted(), tmp_path, workers=1)
        assert finished == []  # the scan returned while its one running chunk was still blocked
    finally:
        release.set()
    assert calls == [0]  # the two queued chunks never started
