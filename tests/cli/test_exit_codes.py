"""Exit codes that mean one thing: 0/1 the verdict, 2 bad input, 3 a bug, 128 + signal when stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from maskaudit.cli import run, scan_command
from maskaudit.errors import Interrupted, UsageError
from tests.reports.tiny_dataset import Row, make_dataset


@pytest.fixture()
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return make_dataset(tmp_path / "data", [Row("a"), Row("b")])


def broken_audit(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a defect inside maskaudit")


def test_internal_error_exits_3_and_saves_the_traceback(
    manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setattr(scan_command, "run_audit", broken_audit)
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "internal error (a bug in maskaudit" in err and "RuntimeError: a defect inside maskaudit" in err
    saved = list((tmp_path / "tmp").glob(f"maskaudit-crash-*-{os.getpid()}.txt"))
    assert len(saved) == 1 and str(saved[0]) in err
    text = saved[0].read_text()
    assert "Traceback (most recent call last)" in text and "broken_audit" in text


def test_debug_prints_the_traceback(manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(scan_command, "run_audit", broken_audit)
    assert run(["--debug", "scan", str(manifest), "--out", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "broken_audit" in err


@pytest.mark.parametrize(("signum", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_a_stop_signal_exits_128_plus_its_number_after_cleanup(
    manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    signum: int, code: int, name: str,
) -> None:
    cleaned: list[bool] = []

    def audit_until_signalled(*args: Any, **kwargs: Any) -> Any:
        try:
            os.kill(os.getpid(), signum)
            signal.pause()
        finally:
            cleaned.append(True)

    monkeypatch.setattr(scan_command, "run_audit", audit_until_signalled)
    before = signal.getsignal(signal.SIGTERM)
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out")]) == code
    assert capsys.readouterr().err == f"maskaudit: interrupted ({name})\n"
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigterm_to_a_running_process(tmp_path: Path) -> None:
    """The real process, stopped by SIGTERM while a command blocks: 143 and the one-line message."""
    script = (
        "import signal, sys, typer\n"
        "from maskaudit.cli import run\n"
        "from maskaudit.cli.app import app\n"
        "@app.command('block')\n"
        "def block() -> None:\n"
        "    print('ready', flush=True)\n"
        "    signal.pause()\n"
        "sys.exit(run(['block']))\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert err == "maskaudit: interrupted (SIGTERM)\n"


def test_interrupted_carries_its_signal() -> None:
    assert Interrupted(signal.SIGTERM).exit_code == 143 and not isinstance(Interrupted(2), Exception)


def test_usage_errors_are_value_errors_for_api_callers() -> None:
    assert issubclass(UsageError, ValueError)


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out == f"maskaudit {metadata.version('maskaudit')}\n"


def test_findings_exit_1_bad_options_exit_2(manifest: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    empty = make_dataset(tmp_path / "empty", [Row("a", empty=True), Row("b")])
    assert run(["scan", str(empty), "--out", str(tmp_path / "o1"), "--quiet", "--fail-on", "warning"]) == 1
    assert run(["scan", str(manifest), "--out", str(tmp_path / "o2"), "--quiet"]) == 0
    assert run(["scan", str(manifest), "--workers", "0"]) == 2
    assert "Traceback" not in capsys.readouterr().err
