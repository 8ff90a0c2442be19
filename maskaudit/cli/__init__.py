"""Command-line entry point: one-line errors with exit code 2, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
import typer

from maskaudit.cli import (  # noqa: F401  (registers the commands)
    init_command,
    registry_commands,
    replay_command,
    report_command,
    scan_command,
)
from maskaudit.cli.app import app
from maskaudit.errors import UsageError

USAGE_EXIT = 2


def fail(message: str) -> int:
    sys.stderr.write(f"maskaudit: error: {message}\n")
    return USAGE_EXIT


def run(argv: Sequence[str] | None = None) -> int:
    command = typer.main.get_command(app)
    try:
        result = command.main(args=list(argv) if argv is not None else None, prog_name="maskaudit",
                              standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        sys.stdout.write(exc.ctx.get_help() + "\n" if exc.ctx else "")
        return 0
    except click.UsageError as exc:
        hint = f" (see maskaudit {exc.ctx.info_name} --help)" if exc.ctx and exc.ctx.info_name != "maskaudit" else ""
        return fail(exc.format_message().replace("\n", " ") + hint)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        sys.stderr.write("maskaudit: interrupted\n")
        return 130
    except UsageError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        sys.stderr.write("maskaudit: interrupted\n")
        return 130
    return int(result) if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())
