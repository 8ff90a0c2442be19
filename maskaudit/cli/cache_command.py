"""`maskaudit cache info` and `maskaudit cache clear`: what the facts cache holds, and emptying it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import typer

from maskaudit.cache import DEFAULT_MAX_BYTES, clear, default_dir, info
from maskaudit.cli.app import app
from maskaudit.errors import UsageError
from maskaudit.loading import size_text

cache_app = typer.Typer(help="Show or clear the facts cache that lets a re-scan skip unchanged files.",
                        no_args_is_help=True)
app.add_typer(cache_app, name="cache")

CacheDir = typer.Option(None, "--cache-dir", help="facts cache folder (default: $XDG_CACHE_HOME/maskaudit or "
                                                  "~/.cache/maskaudit)")


@cache_app.command("info")
def cache_info(cache_dir: Path | None = CacheDir) -> None:
    """Print where the cache is, how many entries it holds, its size and what the last scan took from it."""
    folder = cache_dir if cache_dir is not None else default_dir()
    try:
        found = info(folder)
    except sqlite3.Error as exc:
        raise UsageError(f"cache {folder} cannot be read ({exc}); remove it with `maskaudit cache clear`") from None
    typer.echo(f"cache: {found.path}")
    if not found.exists:
        typer.echo("empty: no scan has stored facts here yet")
        return
    typer.echo(f"entries: {found.facts:,} facts, {found.files:,} indexed files, {found.partitions:,} partitions")
    typer.echo(f"size: {size_text(found.content_bytes)} of entries (bound {size_text(DEFAULT_MAX_BYTES)} unless "
               f"cache_max_bytes is set), {size_text(found.file_bytes)} on disk")
    if found.last_run is not None:
        typer.echo(f"last scan: {found.last_run.describe()}, {found.last_run.measured:,} decoded")


@cache_app.command("clear")
def cache_clear(cache_dir: Path | None = CacheDir) -> None:
    """Delete the cache; the next scan reads and decodes every file again."""
    folder = cache_dir if cache_dir is not None else default_dir()
    try:
        freed = clear(folder)
    except OSError as exc:
        raise UsageError(f"cannot delete the cache in {folder} ({exc.strerror or exc})") from None
    typer.echo(f"cleared {folder}: {size_text(freed)} freed")
