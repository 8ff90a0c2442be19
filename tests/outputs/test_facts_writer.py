"""The facts file is written on a thread of its own: every batch lands, in order, and a failed write is the
scan's OutputNotWritten."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from maskaudit.api import WRITES_AHEAD, FactsWriter
from maskaudit.errors import OutputNotWritten
from maskaudit.facts import RowFacts
from maskaudit.facts_columns import facts_batch


def _batch(first: int, size: int) -> pa.RecordBatch:
    return facts_batch([RowFacts(n, f"{n}.png", f"{n}-mask.png", "train", None, None, None, None, None)
                        for n in range(first, first + size)])


def test_every_batch_lands_in_order_and_the_thread_ends(tmp_path: Path) -> None:
    path = tmp_path / "facts.parquet"
    with FactsWriter(path) as writer:
        for start in range(0, 3 * 50, 3):
            writer.write(_batch(start, 3))
    assert pq.read_table(path).column("row").to_pylist() == list(range(150))
    assert not [t for t in threading.enumerate() if t.name.startswith("facts-writer")]


def test_without_a_file_nothing_is_written_and_no_thread_starts(tmp_path: Path) -> None:
    with FactsWriter(None) as writer:
        writer.write(_batch(0, 2))
    assert not [t for t in threading.enumerate() if t.name.startswith("facts-writer")]


def test_a_failed_write_is_output_not_written(tmp_path: Path) -> None:
    path = tmp_path / "facts.parquet"
    with pytest.raises(OutputNotWritten), FactsWriter(path) as writer:
        writer.write(_batch(0, 2))
        full = os.open("/dev/full", os.O_WRONLY)
        os.dup2(full, _descriptor_of(path))  # every later write of the file fails as on a full disk
        os.close(full)
        for start in range(2, 2 + 200 * (WRITES_AHEAD + 2), 200):
            writer.write(_batch(start, 200))
    assert not [t for t in threading.enumerate() if t.name.startswith("facts-writer")]


def _descriptor_of(path: Path) -> int:
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == str(path):
                return int(name)
        except OSError:
            continue
    raise AssertionError(f"{path} is not open")
