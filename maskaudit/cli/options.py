"""Options that several commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import click
import typer

from maskaudit.checks.registry import find_check
from maskaudit.errors import UsageError
from maskaudit.findings import Severity
from maskaudit.replay.cli_help import PIPELINE_HELP, PREPROCESS_HELP, REPEATS_HELP, SAMPLES_HELP, SEED_HELP
from maskaudit.settings import FailOn
from maskaudit.sizes import parse_size

Manifest = Annotated[Path, typer.Argument(help="a .parquet file or folder, .csv or .jsonl manifest")]
Out = Annotated[Path | None, typer.Option("--out", help="output folder (default: <stem>.maskaudit/ beside it)")]
Root = Annotated[Path | None, typer.Option("--root", help="folder relative paths resolve against")]
Location = Annotated[str, typer.Argument(help="a .parquet file or folder, .csv or .jsonl manifest: a local path or "
                                              "a URL (s3://, gs://, az://, https://)")]
OutLocation = Annotated[str | None, typer.Option(
    "--out", help="output folder or URL prefix (default: <stem>.maskaudit/ beside a local manifest, in the "
                  "working directory for a manifest in a store)")]
RootLocation = Annotated[str | None, typer.Option(
    "--root", help="folder or URL prefix relative paths resolve against")]
StorageOption = Annotated[list[str] | None, typer.Option(
    "--storage-option", help="KEY=VALUE for the storage filesystem (endpoint_url=..., anon=true); repeat")]
IoConcurrency = Annotated[int | None, typer.Option(
    "--io-concurrency", min=1, help="requests in flight per worker and chunk of rows when reading from a "
                                    "store; a worker fetches the next chunk while it decodes one (default 32)")]
Engine = Annotated[str | None, typer.Option(
    "--engine", click_type=click.Choice(["local", "dask"]),
    help="where files are measured: local worker processes (default) or a Dask cluster (the dask extra)")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", help="Dask scheduler address for --engine dask, e.g. tcp://host:8786 (default: "
                        "$DASK_SCHEDULER_ADDRESS, else a local cluster of --workers processes)")]
ImageCol = Annotated[str | None, typer.Option("--image-col", help="column holding image paths")]
MaskCol = Annotated[str | None, typer.Option("--mask-col", help="column holding mask paths")]
SplitCol = Annotated[str | None, typer.Option("--split-col", help="column holding the split name")]
Select = Annotated[str | None, typer.Option("--select", help="run only these checks (names or codes)")]
Ignore = Annotated[str | None, typer.Option("--ignore", help="skip these checks (names or codes)")]
FailOnOption = Annotated[
    FailOn | None, typer.Option("--fail-on", help="exit 1 at: error (default), warning, never")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="print nothing but errors")]
ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", help="config file, trusted like the command line: its pipeline/preprocess may "
                                  "name code to import (default: the nearest maskaudit.toml or pyproject.toml "
                                  "[tool.maskaudit] walking up from the working directory, which may set every "
                                  "key but code to import)"),
]
SeverityOption = Annotated[
    list[str] | None,
    typer.Option("--severity", help="per-check severity, CHECK=LEVEL (info, warning, error); repeat or "
                                    "separate with commas; wins over the config file"),
]
MaxFileBytes = Annotated[
    str | None,
    typer.Option("--max-file-bytes", help="largest image or mask file read, in bytes or with a suffix "
                                          "such as 500M or 2GiB (default: 1GiB)"),
]
MaxPixels = Annotated[
    str | None,
    typer.Option("--max-pixels", help="largest image or mask decoded, in pixels or with a suffix such as "
                                      "300M (default: 268M, 16384 x 16384)"),
]
Pipeline = Annotated[str | None, typer.Option("--pipeline", help=PIPELINE_HELP)]
Preprocess = Annotated[str | None, typer.Option("--preprocess", help=PREPROCESS_HELP)]
ReplaySamples = Annotated[int | None, typer.Option("--replay-samples", help=SAMPLES_HELP)]
ReplayRepeats = Annotated[int | None, typer.Option("--replay-repeats", help=REPEATS_HELP)]
Seed = Annotated[int | None, typer.Option("--seed", help=SEED_HELP)]


def parse_severities(values: list[str] | None) -> dict[str, Severity] | None:
    """`--severity empty-mask=error,M003=info` (repeatable) as check name -> severity; None when not given."""
    if not values:
        return None
    chosen: dict[str, Severity] = {}
    levels = ", ".join(s.label for s in Severity)
    for item in (part.strip() for value in values for part in value.split(",")):
        if not item:
            continue
        key, equals, level = (part.strip() for part in item.partition("="))
        check = find_check(key)
        if not equals or check is None:
            raise UsageError(f"--severity {item!r}: give CHECK=LEVEL with a check name or code listed by "
                             f"`maskaudit checks` and a level ({levels})")
        try:
            chosen[check.name] = Severity.parse(level.lower())
        except (KeyError, ValueError):
            raise UsageError(f"--severity {item!r}: level {level!r} is not one of {levels}") from None
    return chosen


def parse_size_option(option: str, text: str | None) -> int | None:
    if text is None:
        return None
    size = parse_size(text)
    if size is None:
        raise UsageError(f"{option} {text!r}: give a positive whole number, optionally with a suffix such as "
                         "500M, 2GiB or 300M")
    return size
