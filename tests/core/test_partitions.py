"""The map and the reduce: partitions of any size give the findings one pass over the whole manifest gives, and
worker processes give the outputs one process gives."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from maskaudit.api import run_audit
from maskaudit.cli import run
from maskaudit.data_root import DataRoot
from maskaudit.facts_columns import FactsStore
from maskaudit.judge import Reduction, stream_order
from maskaudit.limits import Limits
from maskaudit.manifest import detect_columns, open_manifest
from maskaudit.partitions import iter_tasks, map_partition
from maskaudit.settings import Settings

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


@pytest.mark.parametrize("size", [1, 7, 46])
def test_partitions_of_any_size_find_what_one_partition_finds(size: int) -> None:
    manifest = DEMO / "train.parquet"
    whole = run_audit(manifest, Settings())
    opened = open_manifest(manifest)
    columns = detect_columns(opened, {})
    reduction = Reduction()
    batches = []
    found = []
    for task in iter_tasks(opened, columns, DEMO, Limits(), Settings(), size):
        result = map_partition(task)
        reduction.add(result)
        batches.append(result.facts)
        found.extend(sorted(result.findings, key=stream_order))
    judged = reduction.judge(Settings(), True, DataRoot(str(DEMO), declared=False), FactsStore.of(batches),
                             found.extend)
    assert found == list(whole.iter_findings()) and judged.dropped.tolist() == whole.dropped.tolist()
    split_stats = {name: stats.to_dict() for name, stats in judged.context.by_split_stats().items()}
    assert split_stats == {name: stats.to_dict() for name, stats in whole.context.by_split_stats().items()}


def test_two_worker_processes_write_what_one_writes(tmp_path: Path) -> None:
    frame = pd.read_parquet(DEMO / "train.parquet")
    tripled = pd.concat([frame, frame, frame], ignore_index=True)  # 141 rows: several partitions
    manifest = tmp_path / "tripled.parquet"
    tripled.to_parquet(manifest, index=False)
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        assert run(["scan", str(manifest), "--root", str(DEMO), "--out", str(out), "-q", "--keep-paths",
                    "--workers", str(workers)]) == 1
        report = json.loads((out / "report.json").read_text())
        outputs[workers] = (pq.read_table(out / "facts.parquet"), pq.read_table(out / "findings.parquet"),
                            report["findings"], report["splits"], (out / "filtered.parquet").read_bytes())
    one, two = outputs[1], outputs[2]
    assert one[0].equals(two[0]) and one[1].equals(two[1])
    assert one[2:] == two[2:]
    assert any(f["check"] == "duplicate-row" for f in one[2])
