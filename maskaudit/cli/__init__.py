"""Command-line entry point: exit codes that mean one thing, one-line errors, never a bare traceback.

0 pass, 1 findings at or above --fail-on, 2 bad input or options, 3 internal error (the traceback goes to a
file in the temp folder, or to stderr with --debug), 128 + signal number when interrupted.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click
import typer

from maskaudit.cli import (  # noqa: F401  (registers the commands)
    cache_command,
    init_command,
    registry_commands,
    replay_command,
    report_command,
    scan_command,
)
from maskaudit.cli.app import app, installed_version
from maskaudit.errors import Interrupted, UsageError

USAGE_EXIT = 2
CRASH_EXIT = 3
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def fail(message: str) -> int:
    sys.stderr.write(f"maskaudit: error: {message}\n")
    return USAGE_EXIT


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted in the main thread, so `finally` blocks clean up on either."""
    try:
        previous = {signum: signal.signal(signum, _raise_interrupted) for signum in STOP_SIGNALS}
    except ValueError:  # not the main thread: leave the handlers alone
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def interrupted(signum: int) -> int:
    sys.stderr.write(f"maskaudit: interrupted ({signal.Signals(signum).name})\n")
    return 128 + signum


def crashed(argv: Sequence[str], debug: bool) -> int:
    """An internal error: one line saying it is a bug and where the traceback is; never exit code 1."""
    exc = sys.exc_info()[1]
    details = traceback.format_exc()
    summary = f"{type(exc).__name__}: {exc}".splitlines()[0] if exc is not None else "unknown error"
    if debug:
        sys.stderr.write(details)
        sys.stderr.write(f"maskaudit: internal error (a bug in maskaudit, please report it): {summary}\n")
        return CRASH_EXIT
    name = f"maskaudit-crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    path = Path(tempfile.gettempdir()) / name
    try:
        path.write_text(f"maskaudit {installed_version()}\nargv: {list(argv)}\n\n{details}", encoding="utf-8")
    except OSError:
        sys.stderr.write(details)
        where = "printed above"
    else:
        where = f"written to {path}"
    sys.stderr.write(f"maskaudit: internal error (a bug in maskaudit, please report it): {summary}; "
                     f"full traceback {where} (or rerun with --debug)\n")
    return CRASH_EXIT


def run(argv: Sequence[str] | None = None) -> int:
    args = list(argv) if argv is not None else sys.argv[1:]
    command = typer.main.get_command(app)
    state: dict[str, Any] = {}
    try:
        with stop_signals_raise():
            result = command.main(args=args, prog_name="maskaudit", standalone_mode=False, obj=state)
    except click.exceptions.NoArgsIsHelpError as exc:
        sys.stdout.write(exc.ctx.get_help() + "\n" if exc.ctx else "")
        return 0
    except click.UsageError as exc:
        hint = f" (see maskaudit {exc.ctx.info_name} --help)" if exc.ctx and exc.ctx.info_name != "maskaudit" else ""
        return fail(exc.format_message().replace("\n", " ") + hint)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except UsageError as exc:
        return fail(str(exc))
    except Interrupted as exc:
        return interrupted(exc.signum)
    except (click.Abort, KeyboardInterrupt):
        return interrupted(signal.SIGINT)
    except BrokenPipeError:
        # The reader went away (`maskaudit checks | head`): stop quietly, as SIGPIPE would.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except Exception:
        return crashed(args, bool(state.get("debug")))
    return int(result) if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())
