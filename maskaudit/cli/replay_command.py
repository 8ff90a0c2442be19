"""`maskaudit replay`: replay the augmentation pipeline on sampled rows; write replay.json and replay.md."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from maskaudit.cli.app import app
from maskaudit.cli.scan_command import build_settings
from maskaudit.config import COLUMN_KEYS, resolve_config
from maskaudit.errors import UsageError
from maskaudit.output import atomic_write_text, default_out_dir
from maskaudit.replay.cli_help import PIPELINE_HELP, PREPROCESS_HELP
from maskaudit.replay.run import prepare_replay
from maskaudit.replay.standalone import replay_manifest
from maskaudit.reporters.json_report import render_json
from maskaudit.reporters.markdown import render_markdown
from maskaudit.reporters.terminal import render_terminal
from maskaudit.settings import FailOn


@app.command("replay")
def replay(
    manifest: Path = typer.Argument(..., help="a .parquet file or folder, .csv or .jsonl manifest"),
    pipeline: str | None = typer.Option(None, "--pipeline", help=PIPELINE_HELP),
    preprocess: str | None = typer.Option(None, "--preprocess", help=PREPROCESS_HELP + " (default: none)"),
    replay_samples: int | None = typer.Option(None, "--replay-samples",
                                              help="rows to replay, stratified by split (default: 64)"),
    replay_repeats: int | None = typer.Option(None, "--replay-repeats",
                                              help="augmented draws per replayed row (default: 8)"),
    seed: int | None = typer.Option(None, "--seed", help="replay seed: same seed, same report (default: 0)"),
    out: Path | None = typer.Option(None, "--out", help="output folder (default: <stem>.maskaudit/ beside it)"),
    root: Path | None = typer.Option(None, "--root", help="folder relative paths resolve against"),
    image_col: str | None = typer.Option(None, "--image-col", help="column holding image paths"),
    mask_col: str | None = typer.Option(None, "--mask-col", help="column holding mask paths"),
    split_col: str | None = typer.Option(None, "--split-col", help="column holding the split name"),
    select: str | None = typer.Option(None, "--select", help="run only these checks (names or codes)"),
    ignore: str | None = typer.Option(None, "--ignore", help="skip these checks (names or codes)"),
    fail_on: FailOn | None = typer.Option(None, "--fail-on", help="exit 1 at: error (default), warning, never"),
    workers: int | None = typer.Option(None, "--workers", min=1, help="replay processes (default: all cores)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    config_file: Path | None = typer.Option(None, "--config", help="config file (default: nearest maskaudit.toml "
                                            "or pyproject.toml [tool.maskaudit], walking up from the manifest)"),
) -> None:
    """Replay the training augmentation pipeline on sampled rows and report what it does to images and masks."""
    config = resolve_config(manifest, config_file).merged_with(
        columns={"image": image_col, "mask": mask_col, "split": split_col}, root=root, select=select,
        ignore=ignore, fail_on=fail_on, workers=workers, pipeline=pipeline, preprocess=preprocess,
        replay_samples=replay_samples, replay_repeats=replay_repeats, seed=seed,
    )
    if config.pipeline is None:
        raise UsageError("maskaudit replay needs --pipeline (or `pipeline` in the configuration file)")
    settings = replace(
        build_settings(None, None, config.select, config.ignore, None, config.fail_on or FailOn.ERROR),
        severities=config.severities, thresholds=config.thresholds,
    )
    if config.root is not None and not config.root.is_dir():
        raise UsageError(f"--root {config.root} is not a folder")
    prepared = prepare_replay(
        config.pipeline, config.preprocess if config.preprocess is not None else "none",
        config.replay_samples if config.replay_samples is not None else 64,
        config.replay_repeats if config.replay_repeats is not None else 8,
        config.seed if config.seed is not None else 0, config.workers,
    )
    assert prepared is not None
    columns = {key: config.columns.get(key) for key in COLUMN_KEYS}
    report = replay_manifest(manifest, settings, prepared, root=config.root, columns=columns)
    out_dir = out if out is not None else default_out_dir(manifest)
    paths = {"replay_json": out_dir / "replay.json", "replay_md": out_dir / "replay.md"}
    try:
        atomic_write_text(paths["replay_md"], render_markdown(report))
        atomic_write_text(paths["replay_json"], render_json(report))
    except OSError as exc:
        raise UsageError(f"cannot write to {out_dir} ({exc.strerror or exc}); choose another --out") from None
    if not quiet:
        typer.echo(render_terminal(report, {"report": str(paths["replay_md"])}), nl=False)
    raise typer.Exit(1 if report.failed() else 0)
