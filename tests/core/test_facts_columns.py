"""Row facts written as Arrow columns read back as the very records the scan measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from maskaudit.decode import Decoded
from maskaudit.facts import Problem, ProblemKind, RowFacts
from maskaudit.facts_columns import FactsStore, facts_batch, rows_of
from maskaudit.header import Traits
from maskaudit.limits import Limits
from maskaudit.manifest import detect_columns, open_manifest
from maskaudit.measure import measure_image, measure_mask
from maskaudit.scan import iter_specs, measure_chunk

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


def test_every_demo_row_reads_back_equal(tmp_path: Path) -> None:
    manifest = open_manifest(DEMO / "train.parquet")
    rows = measure_chunk(list(iter_specs(manifest, detect_columns(manifest, {}))), DEMO, Limits()).rows
    assert any(r.image_problem is not None or r.mask_problem is not None for r in rows)
    store = FactsStore.of([facts_batch(rows)])
    assert store.rows(range(len(rows))) == {r.row: r for r in rows}


def test_records_of_every_kind_read_back_equal() -> None:
    rng = np.random.default_rng(5)
    colour = rng.integers(0, 2, (9, 11, 3), dtype=np.uint8) * 255
    floats = rng.random((8, 8)).astype(np.float32)
    floats[0, 0] = np.nan
    image = measure_image(Decoded(rng.integers(0, 255, (12, 10, 3), dtype=np.uint8), "jpeg"))
    rows = [
        RowFacts(0, "a.jpg", "a.png", "train", True, "g1", "id0", image,
                 measure_mask(Decoded(colour, "png", traits=Traits(orientation=6, transparency=True)))),
        RowFacts(1, "b.jpg", None, None, None, None, None, None, None,
                 Problem(ProblemKind.UNREADABLE, "image file cannot be decoded: truncated"),
                 Problem(ProblemKind.MISSING_PATH, "mask path is empty"), "/elsewhere/b.jpg", None),
        RowFacts(2, "c.npy", "c.npy", "val", False, None, None, measure_image(Decoded(floats, "npy")),
                 measure_mask(Decoded(floats, "npy"))),
    ]
    read = FactsStore.of([facts_batch(rows)]).rows([2, 0, 1])
    assert repr(read) == repr({r.row: r for r in rows})  # repr: NaN equals NaN there


def test_a_slice_of_a_batch_reads_back_its_own_rows() -> None:
    manifest = open_manifest(DEMO / "train.parquet")
    rows = measure_chunk(list(iter_specs(manifest, detect_columns(manifest, {}))), DEMO, Limits()).rows
    batch = facts_batch(rows)
    assert rows_of(batch.slice(3, 4)) == rows[3:7]
    assert rows_of(pa.Table.from_batches([batch.slice(0, 2), batch.slice(5)])) == rows[:2] + rows[5:]
