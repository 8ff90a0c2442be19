"""`maskaudit init`: write a commented starter configuration built from the check registry."""

from __future__ import annotations

from pathlib import Path

import typer

from maskaudit.checks.base import Check
from maskaudit.checks.registry import all_checks
from maskaudit.cli.app import app
from maskaudit.errors import UsageError
from maskaudit.limits import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_PIXELS
from maskaudit.output import atomic_write_text
from maskaudit.replay.cli_help import DEFAULT_PREPROCESS, DEFAULT_REPEATS, DEFAULT_SAMPLES, DEFAULT_SEED
from maskaudit.report import DEFAULT_EXAMPLES


def _check_block(check: Check) -> list[str]:
    lines = [f"# {check.code} {check.name}: {check.summary}", f"# [checks.{check.name}]",
             f'# severity = "{check.severity.label}"']
    for key, value in check.options.items():
        lines.append(f"# {key} = {value:g}  # {check.option_help.get(key, '')}".rstrip())
    return lines


def starter_config(checks: tuple[Check, ...] | None = None) -> str:
    """Every setting commented out at its default: uncomment what this dataset needs."""
    lines = [
        "# maskaudit configuration. Command-line flags override every value here.",
        "# Found walking up from the working directory, or passed with --config.",
        "# The same keys work under [tool.maskaudit] in pyproject.toml.",
        "",
        "# Folder relative paths resolve against (relative to this file; default: the manifest's folder).",
        '# root = "data"',
        "# Declared labels: values, names, or value=name pairs.",
        '# labels = ["background", "tumor"]',
        "# Mask value that is not a label (e.g. 255 for 'unlabelled').",
        "# ignore_index = 255",
        "",
        "# Which checks run, by name or code.",
        '# select = ["M002", "shape-mismatch"]',
        '# ignore = ["class-imbalance"]',
        "# Also drop rows with these findings from the filtered manifest (errors always drop the row).",
        '# drop = ["empty-mask"]',
        "# Exit 1 at this severity: error, warning or never.",
        '# fail_on = "error"',
        "# Accepted findings: only findings not in this file fail the gate.",
        '# baseline = "maskaudit-baseline.json"',
        "# Decoding threads (default and most: the usable cores).",
        "# workers = 4",
        "# Largest file read and largest image decoded; bigger files become findings.",
        f'# max_file_bytes = "{DEFAULT_MAX_FILE_BYTES >> 30}GiB"',
        f"# max_pixels = {DEFAULT_MAX_PIXELS}",
        "# Write the filtered manifest's paths verbatim instead of relative to the output folder.",
        "# keep_paths = false",
        "# Tar shards: also write new shards without the dropped samples beside the filtered manifest.",
        "# write_shards = false",
        "# Findings per check that report.json holds; findings.parquet holds them all.",
        f"# examples = {DEFAULT_EXAMPLES}",
        "",
        "# Augmentation replay. A pipeline saved with A.save (.yaml/.json) works from any configuration file;",
        "# module:name or file.py:name (code to import) only from a file passed with --config.",
        '# pipeline = "augment.yaml"',
        "# none, zscore, zscore-channel, minmax or unit (module:fn only from a file passed with --config).",
        f'# preprocess = "{DEFAULT_PREPROCESS}"',
        f"# replay_samples = {DEFAULT_SAMPLES}",
        f"# replay_repeats = {DEFAULT_REPEATS}",
        f"# seed = {DEFAULT_SEED}",
        "",
        "# Manifest columns (detected from common names when unset).",
        "# [columns]",
        '# image = "image_path"',
        '# mask = "mask_path"',
        '# split = "split"',
        '# flag = "has_segmentation"',
        '# group = "patient_id"',
        '# id = "id"',
        "",
        "# Per-check severity and thresholds; every value below is the default.",
    ]
    for check in checks if checks is not None else all_checks():
        lines += ["", *_check_block(check)]
    return "\n".join(lines) + "\n"


@app.command("init")
def init(
    path: Path = typer.Argument(Path("maskaudit.toml"), help="file to write (default: maskaudit.toml)"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing file"),
) -> None:
    """Write a commented starter maskaudit.toml: every check, severity and threshold at its default."""
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; pass --force to overwrite it")
    if path.name == "pyproject.toml":
        raise UsageError("init writes a standalone file; copy its keys under [tool.maskaudit] in pyproject.toml")
    try:
        atomic_write_text(path, starter_config())
    except OSError as exc:
        raise UsageError(f"cannot write {path} ({exc.strerror or exc}); choose another path") from None
    typer.echo(f"wrote {path}")
