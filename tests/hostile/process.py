"""Run a command in its own process group, bounded in address space and time, and measure its memory."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ADDRESS_CAP = 4 << 30  # a regression fails the run with MemoryError instead of taking the machine down
POLL_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class Measured:
    returncode: int | None  # None: killed at the timeout
    seconds: float
    peak_rss: int  # bytes, the largest sum of VmRSS over the process tree, sampled
    peak_process: int  # bytes, the largest VmHWM (a process's own exact peak) seen in the tree
    children_maxrss: int  # bytes, ru_maxrss of RUSAGE_CHILDREN: the largest of every child this process waited for
    stdout: str
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def _kib(field: str) -> int:
    return int(field.split()[0]) * 1024 if field.strip() else 0


def tree_memory(root: int) -> tuple[int, int]:
    """Summed VmRSS and largest VmHWM (bytes) of root and every descendant, read from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    hwm: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                status = handle.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry)] = int(fields.get("PPid", "0").strip() or 0)
        rss[int(entry)] = _kib(fields.get("VmRSS", ""))
        hwm[int(entry)] = _kib(fields.get("VmHWM", ""))
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(rss.get(pid, 0) for pid in tree), max(hwm.get(pid, 0) for pid in tree)


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_CAP, ADDRESS_CAP))


def measure(command: list[str], timeout: float, cwd: Path | None = None) -> Measured:
    """Run command in its own process group under the address cap; kill what is left of the group at the end
    (at the timeout, or descendants outliving the command)."""
    peak = largest = 0
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 start_new_session=True, preexec_fn=_cap_address_space)
        done = threading.Event()

        def poll() -> None:
            nonlocal peak, largest
            while not done.is_set():
                total, high = tree_memory(child.pid)
                peak, largest = max(peak, total), max(largest, high)
                done.wait(POLL_SECONDS)

        sampler = threading.Thread(target=poll, daemon=True)
        sampler.start()
        try:
            returncode: int | None = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            returncode = None
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    with_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return Measured(returncode, seconds, peak, largest, with_children, stdout, stderr)


