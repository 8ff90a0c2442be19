"""The typer application; subcommands register themselves on it from their own modules."""

from __future__ import annotations

from importlib import metadata

import typer

from maskaudit.version import __version__

app = typer.Typer(
    name="maskaudit",
    help="Audit segmentation training data before a training run.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def installed_version() -> str:
    """The installed distribution's version; the source tree's when it runs uninstalled."""
    try:
        return metadata.version("maskaudit")
    except metadata.PackageNotFoundError:
        return __version__


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"maskaudit {installed_version()}")
        raise typer.Exit(0)


@app.callback()
def main(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="print the version and exit"),
    debug: bool = typer.Option(False, "--debug", help="on an internal error, print the full traceback"),
) -> None:
    """Audit segmentation training data before a training run.

    Exit codes: 0 pass, 1 findings at or above --fail-on, 2 bad input or options, 3 internal error (a bug),
    130/143 interrupted (SIGINT/SIGTERM).
    """
    if isinstance(ctx.obj, dict):
        ctx.obj["debug"] = debug


def split_list(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]
