"""`maskaudit replay`: replay the augmentation pipeline on sampled rows; write replay.json and replay.md."""

from __future__ import annotations

from pathlib import Path

import typer

from maskaudit.cli.app import app
from maskaudit.cli.scan_command import build_settings
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
    pipeline: str = typer.Option(..., "--pipeline", help=PIPELINE_HELP),
    preprocess: str = typer.Option("none", "--preprocess", help=PREPROCESS_HELP),
    replay_samples: int = typer.Option(64, "--replay-samples", help="rows to replay, stratified by split"),
    replay_repeats: int = typer.Option(8, "--replay-repeats", help="augmented draws per replayed row"),
    seed: int = typer.Option(0, "--seed", help="replay seed: same seed, same report"),
    out: Path | None = typer.Option(None, "--out", help="output folder (default: <stem>.maskaudit/ beside it)"),
    root: Path | None = typer.Option(None, "--root", help="folder relative paths resolve against"),
    image_col: str | None = typer.Option(None, "--image-col", help="column holding image paths"),
    mask_col: str | None = typer.Option(None, "--mask-col", help="column holding mask paths"),
    split_col: str | None = typer.Option(None, "--split-col", help="column holding the split name"),
    select: str | None = typer.Option(None, "--select", help="run only these checks (names or codes)"),
    ignore: str | None = typer.Option(None, "--ignore", help="skip these checks (names or codes)"),
    fail_on: FailOn = typer.Option(FailOn.ERROR, "--fail-on", help="exit 1 at: error (default), warning, never"),
    workers: int | None = typer.Option(None, "--workers", min=1, help="replay processes (default: all cores)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
) -> None:
    """Replay the training augmentation pipeline on sampled rows and report what it does to images and masks."""
    settings = build_settings(None, None, select, ignore, None, fail_on)
    if root is not None and not root.is_dir():
        raise UsageError(f"--root {root} is not a folder")
    prepared = prepare_replay(pipeline, preprocess, replay_samples, replay_repeats, seed, workers)
    assert prepared is not None
    columns = {"image": image_col, "mask": mask_col, "split": split_col}
    report = replay_manifest(manifest, settings, prepared, root=root, columns=columns)
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
