"""The real CLI in a child process: interrupted, killed by a full disk, or racing another run for one --out."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import maskaudit.errors
from tests.outputs.dataset import csv_manifest, leftovers, snapshot

ROOT = Path(__file__).resolve().parents[2]
SLOW_ROWS = 200_000


def scan(manifest: Path, out: Path, preexec: Callable[[], None] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "maskaudit", "scan", str(manifest), "--out", str(out), "-q",
                             "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=preexec)


def wait_for_staging(parent: Path, child: subprocess.Popen[str]) -> None:
    """Until the child has checked --out, taken the lock and created its staging folder (the scan starts next)."""
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".out.tmp-") for p in parent.iterdir()):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the scan never staged its output"
        time.sleep(0.02)


@pytest.fixture
def previous_set(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / "out"
    first = scan(csv_manifest(tmp_path, 3, "small.csv"), out)
    assert first.wait(timeout=120) == 0, first.communicate()
    return out, snapshot(out)


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        (signal.SIGINT, 130),
        pytest.param(signal.SIGTERM, 143, marks=pytest.mark.skipif(
            not hasattr(maskaudit.errors, "Interrupted"), reason="SIGTERM is handled once the CLI installs it")),
    ],
    ids=["SIGINT", "SIGTERM"],
)
def test_an_interrupted_scan_leaves_the_previous_set_and_no_temporary_files(
    tmp_path: Path, previous_set: tuple[Path, dict[str, bytes]], sent: signal.Signals, code: int
) -> None:
    out, before = previous_set
    child = scan(csv_manifest(tmp_path, SLOW_ROWS), out)
    wait_for_staging(tmp_path, child)
    child.send_signal(sent)
    _, err = child.communicate(timeout=300)
    assert child.returncode == code, err
    assert "Traceback" not in err
    if hasattr(maskaudit.errors, "Interrupted"):  # the CLI's signal handler prints the message
        assert "interrupted" in err
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_a_second_real_run_exits_2_while_the_first_is_scanning(
    tmp_path: Path, previous_set: tuple[Path, dict[str, bytes]]
) -> None:
    out, before = previous_set
    first = scan(csv_manifest(tmp_path, SLOW_ROWS), out)
    try:
        wait_for_staging(tmp_path, first)
        second = scan(csv_manifest(tmp_path, 3, "small.csv"), out)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2 and f"another maskaudit run is writing to {out}" in err
        assert snapshot(out) == before
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=300)
    assert leftovers(tmp_path) == []


def limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG, as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_full_disk_is_exit_2_naming_the_folder_and_keeps_the_previous_set(
    tmp_path: Path, previous_set: tuple[Path, dict[str, bytes]]
) -> None:
    out, before = previous_set
    child = scan(csv_manifest(tmp_path, 500, "bigger.csv"), out, preexec=limit_file_size)
    _, err = child.communicate(timeout=300)
    assert child.returncode == 2, err
    assert f"cannot write to {out}" in err and err.count("\n") == 1
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []
