"""The Dask engine on a real cluster of two worker processes on loopback: the same outputs as the local engine,
a worker killed mid-scan, a missing extra."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from maskaudit import partitions
from maskaudit.cli import run
from maskaudit.engines import dask as dask_engine

distributed = pytest.importorskip("distributed")

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "train.parquet"
SMALL_PARTITIONS = 4  # the 47 demo rows in 12 partitions: results come back out of order and are reordered


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                  host="127.0.0.1") as local:
        yield local


@pytest.fixture(autouse=True)
def small_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partitions, "MIN_PARTITION_ROWS", SMALL_PARTITIONS)


def scan(out: Path, *engine: str) -> Path:
    # --keep-paths: the filtered manifests are compared byte for byte, wherever each output folder lies
    assert run(["scan", str(DEMO), "--out", str(out), "--quiet", "--no-cache", "--workers", "2", "--keep-paths",
                *engine]) == 1
    return out


def report(out: Path) -> dict[str, Any]:
    loaded = json.loads((out / "report.json").read_text())
    loaded.pop("outputs")  # where the files were written
    loaded.pop("timings", None)
    loaded["manifest"].pop("config")  # which configuration file was used
    return loaded  # type: ignore[no-any-return]


def assert_same_outputs(local: Path, dask: Path) -> None:
    assert report(dask) == report(local)
    assert (dask / "filtered.parquet").read_bytes() == (local / "filtered.parquet").read_bytes()
    facts = pq.read_table(dask / "facts.parquet")
    assert facts.num_rows == 47
    assert facts.equals(pq.read_table(local / "facts.parquet"))


@pytest.fixture(scope="module")
def local_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(partitions, "MIN_PARTITION_ROWS", SMALL_PARTITIONS)
        return scan(tmp_path_factory.mktemp("local"), "--engine", "local")


def test_dask_engine_writes_what_the_local_engine_writes(cluster: Any, local_scan: Path, tmp_path: Path) -> None:
    dask = scan(tmp_path, "--engine", "dask", "--scheduler", cluster.scheduler_address)
    assert_same_outputs(local_scan, dask)


def test_the_scheduler_address_comes_from_the_environment(cluster: Any, local_scan: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    monkeypatch.setattr(distributed, "LocalCluster", None)  # starting a local cluster would fail
    assert_same_outputs(local_scan, scan(tmp_path, "--engine", "dask"))


def test_map_ordered_yields_in_task_order_with_bounded_tasks_in_flight(cluster: Any) -> None:
    with distributed.Client(cluster.scheduler_address) as client:
        results = dask_engine.map_ordered(client, _slow_for_even, range(40), slots=2)
        assert list(results) == [n * n for n in range(40)]


def _slow_for_even(n: int) -> int:
    if n % 2 == 0:
        import time

        time.sleep(0.01)
    return n * n


def test_a_worker_killed_mid_scan_is_recomputed_and_the_outputs_are_the_same(
        cluster: Any, local_scan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = dask_engine.map_ordered
    lost: list[str] = []  # partitions running on, or held by, the killed worker when it died
    killed: list[int] = []

    def killing_after_the_first_result(client: Any, fn: Callable[[Any], Any], tasks: Iterable[Any],
                                       slots: int) -> Iterator[Any]:
        for result in original(client, fn, tasks, slots):
            yield result
            if not killed:  # after the first result that leaves a partition on a worker
                processing = client.processing()
                held = {address: [*processing.get(address, ()), *keys]
                        for address, keys in client.has_what().items()}
                nanny = max(cluster.workers.values(), key=lambda n: len(held.get(n.worker_address, ())))
                if held.get(nanny.worker_address):
                    lost.extend(str(key) for key in held[nanny.worker_address])
                    killed.append(nanny.process.process.pid)
                    os.kill(killed[0], signal.SIGKILL)

    monkeypatch.setattr(dask_engine, "map_ordered", killing_after_the_first_result)
    dask = scan(tmp_path, "--engine", "dask", "--scheduler", cluster.scheduler_address)
    assert_same_outputs(local_scan, dask)
    assert any(key.startswith("partition-") for key in lost), lost  # the scan needed the killed worker's work
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)


def test_a_missing_extra_is_a_usage_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    code = run(["scan", str(DEMO), "--out", str(tmp_path), "--quiet", "--engine", "dask"])
    assert code == 2
    error = capsys.readouterr().err
    assert "maskaudit[dask]" in error and "Traceback" not in error


def test_an_unreachable_scheduler_is_a_usage_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(dask_engine, "CONNECT_TIMEOUT", "1s")
    code = run(["scan", str(DEMO), "--out", str(tmp_path), "--quiet", "--engine", "dask",
                "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
    error = capsys.readouterr().err
    assert "tcp://127.0.0.1:9" in error and "Traceback" not in error


def test_the_configuration_file_chooses_the_engine_and_scheduler(cluster: Any, local_scan: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "maskaudit.toml"
    config.write_text(f'engine = "dask"\nscheduler = "{cluster.scheduler_address}"\n')
    monkeypatch.setattr(distributed, "LocalCluster", None)  # the scan must use the configured scheduler
    out = tmp_path / "out"
    assert run(["scan", str(DEMO), "--out", str(out), "--quiet", "--no-cache", "--workers", "2",
                "--keep-paths", "--config", str(config)]) == 1
    assert_same_outputs(local_scan, out)


def test_an_unknown_engine_in_the_configuration_is_a_usage_error(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "maskaudit.toml"
    config.write_text('engine = "spark"\n')
    assert run(["scan", str(DEMO), "--out", str(tmp_path / "out"), "--quiet", "--config", str(config)]) == 2
    error = capsys.readouterr().err
    assert "engine" in error and "local, dask" in error
