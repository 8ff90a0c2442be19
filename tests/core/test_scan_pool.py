"""The local engine: results in task order from worker processes, and Ctrl-C ends a scan at once."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from maskaudit.engines.local import map_ordered


def whose(task: int) -> tuple[int, int]:
    return task, os.getpid()


def blocked(folder: str) -> int:
    """Marks that it started, then waits (at most a minute) for the test to release it."""
    started = Path(folder) / f"started-{os.getpid()}-{time.monotonic_ns()}"
    started.touch()
    deadline = time.monotonic() + 60
    while not (Path(folder) / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return 0


def test_results_come_in_task_order_from_worker_processes() -> None:
    results = list(map_ordered(whose, range(40), workers=2))
    assert [task for task, _ in results] == list(range(40))
    assert os.getpid() not in {pid for _, pid in results}


def test_one_worker_or_one_task_runs_in_this_process() -> None:
    assert {pid for _, pid in map_ordered(whose, range(5), workers=1)} == {os.getpid()}
    assert {pid for _, pid in map_ordered(whose, [7], workers=2)} == {os.getpid()}


def test_ctrl_c_ends_the_map_without_waiting_for_running_partitions(tmp_path: Path) -> None:
    def interrupted() -> Iterator[str]:
        for _ in range(3):
            yield str(tmp_path)
        while len(list(tmp_path.glob("started-*"))) < 2:
            time.sleep(0.01)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(map_ordered(blocked, interrupted(), workers=2))
    assert len(list(tmp_path.glob("started-*"))) == 2  # returned while both workers were still blocked
    pids = {int(p.name.split("-")[1]) for p in tmp_path.glob("started-*")}
    deadline = time.monotonic() + 30  # their tasks would block for a minute: only ended workers are gone sooner
    while not all(_ended(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_ended(pid) for pid in pids)


def _ended(pid: int) -> bool:
    """The process exited (a zombie not yet reaped counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_results_given_at_once_start_no_worker() -> None:
    results = list(map_ordered(whose, range(10), workers=2, at_once=whose))
    assert results == [(task, os.getpid()) for task in range(10)]


def test_the_first_task_that_needs_a_worker_starts_the_pool_for_the_rest() -> None:
    def first_three(task: int) -> tuple[int, int] | None:
        return whose(task) if task < 3 else None

    results = list(map_ordered(whose, range(12), workers=2, at_once=first_three))
    assert [task for task, _ in results] == list(range(12))
    assert {pid for _, pid in results[:3]} == {os.getpid()}
    assert os.getpid() not in {pid for _, pid in results[3:]}
