"""The local engine: results in task order from worker processes, and Ctrl-C ends a scan at once."""

from __future__ import annotations

import os
import subprocess
import sys
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


_FIRST_TASK_SEES_A_FORK_SERVER = """
import multiprocessing.forkserver, sys
from maskaudit.engines.local import map_ordered
from tests.core.test_scan_pool import whose
seen = []
def first_two(task):
    seen.append(multiprocessing.forkserver._forkserver._forkserver_pid is not None)
    return whose(task) if task < 2 else None
results = list(map_ordered(whose, range(6), workers=2, at_once=first_two, pool_likely=sys.argv[1] == "likely"))
assert [task for task, _ in results] == list(range(6))
print(seen[0])
"""


@pytest.mark.skipif("forkserver" not in __import__("multiprocessing").get_all_start_methods(),
                    reason="no fork server on this platform")
@pytest.mark.parametrize(("likely", "started"), [("likely", "True"), ("unlikely", "False")])
def test_a_likely_pool_has_its_fork_server_started_before_the_first_task(likely: str, started: str) -> None:
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _FIRST_TASK_SEES_A_FORK_SERVER, likely], cwd=repo,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == started
