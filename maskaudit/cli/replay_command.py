"""`maskaudit replay`: replay the augmentation pipeline on sampled rows; write replay.json and replay.md."""

from __future__ import annotations

from dataclasses import replace

import click
import typer

from maskaudit.cli import options as opt
from maskaudit.cli.app import app
from maskaudit.cli.scan_command import build_settings
from maskaudit.config import COLUMN_KEYS, resolve_config
from maskaudit.errors import UsageError
from maskaudit.output import default_out_dir, prepare_output, write_text_set
from maskaudit.reporters.json_report import render_json
from maskaudit.reporters.markdown import render_markdown
from maskaudit.reporters.terminal import render_terminal
from maskaudit.settings import FailOn


@app.command("replay")
def replay(
    manifest: opt.Manifest,
    pipeline: opt.Pipeline = None,
    preprocess: opt.Preprocess = None,
    replay_samples: opt.ReplaySamples = None,
    replay_repeats: opt.ReplayRepeats = None,
    seed: opt.Seed = None,
    out: opt.Out = None,
    root: opt.Root = None,
    image_col: opt.ImageCol = None,
    mask_col: opt.MaskCol = None,
    split_col: opt.SplitCol = None,
    select: opt.Select = None,
    ignore: opt.Ignore = None,
    fail_on: opt.FailOnOption = None,
    workers: int | None = typer.Option(None, "--workers", min=1,
                                       help="replay threads (default and most: the usable cores)"),
    quiet: opt.Quiet = False,
    config_file: opt.ConfigFile = None,
) -> None:
    """Replay the training augmentation pipeline on sampled rows and report what it does to images and masks."""
    config = resolve_config(config_file).merged_with(
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
    if isinstance(config.root, str):
        raise UsageError(f"root {config.root} is a URL; maskaudit replay reads local folders only")
    if config.root is not None and not config.root.is_dir():
        raise UsageError(f"--root {config.root} is not a folder")
    from maskaudit.replay.run import prepare_replay  # albumentations loads only when this command runs
    from maskaudit.replay.standalone import replay_manifest

    prepared = prepare_replay(config.pipeline, config.preprocess, config.replay_samples, config.replay_repeats,
                              config.seed, config.workers, config.limits())
    assert prepared is not None
    columns = {key: config.columns.get(key) for key in COLUMN_KEYS}
    out_dir = out if out is not None else default_out_dir(manifest)
    output = click.get_current_context().with_resource(prepare_output(out_dir, manifest))
    report = replay_manifest(manifest, settings, prepared, root=config.root, columns=columns)
    try:
        paths = write_text_set(output, {"replay_md": ("replay.md", render_markdown(report)),
                                        "replay_json": ("replay.json", render_json(report))})
    except OSError as exc:
        raise UsageError(f"cannot write to {out_dir} ({exc.strerror or exc}); choose another --out") from None
    if not quiet:
        typer.echo(render_terminal(report, {"report": str(paths["replay_md"])}), nl=False)
    raise typer.Exit(1 if report.failed() else 0)
