"""Options that several commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maskaudit.replay.cli_help import PIPELINE_HELP, PREPROCESS_HELP, REPEATS_HELP, SAMPLES_HELP, SEED_HELP
from maskaudit.settings import FailOn

Manifest = Annotated[Path, typer.Argument(help="a .parquet file or folder, .csv or .jsonl manifest")]
Out = Annotated[Path | None, typer.Option("--out", help="output folder (default: <stem>.maskaudit/ beside it)")]
Root = Annotated[Path | None, typer.Option("--root", help="folder relative paths resolve against")]
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
    typer.Option("--config", help="config file (default: nearest maskaudit.toml or pyproject.toml "
                                  "[tool.maskaudit], walking up from the manifest)"),
]
Pipeline = Annotated[str | None, typer.Option("--pipeline", help=PIPELINE_HELP)]
Preprocess = Annotated[str | None, typer.Option("--preprocess", help=PREPROCESS_HELP)]
ReplaySamples = Annotated[int | None, typer.Option("--replay-samples", help=SAMPLES_HELP)]
ReplayRepeats = Annotated[int | None, typer.Option("--replay-repeats", help=REPEATS_HELP)]
Seed = Annotated[int | None, typer.Option("--seed", help=SEED_HELP)]
