"""`maskaudit scan`: audit a manifest, write the report and a filtered manifest, exit by verdict."""

from __future__ import annotations

import sys
from collections.abc import Container
from dataclasses import replace
from pathlib import Path

import click
import typer

from maskaudit.annotations.command import scan_annotation_files
from maskaudit.annotations.detect import detect as detect_annotations
from maskaudit.api import run_audit
from maskaudit.baseline import AcceptEverything, Key, load_baseline, render_baseline
from maskaudit.checks.registry import find_check
from maskaudit.cli import options as opt
from maskaudit.cli.app import app, split_list
from maskaudit.config import COLUMN_KEYS, resolve_config
from maskaudit.errors import OutputNotWritten, UsageError
from maskaudit.findings_file import FINDINGS_FILE
from maskaudit.output import (
    SCAN_FILES,
    append_step_summary,
    atomic_write_text,
    default_out_dir,
    prepare_output,
    write_outputs,
)
from maskaudit.report import DEFAULT_EXAMPLES
from maskaudit.reporters.terminal import render_terminal
from maskaudit.settings import FailOn, Settings, check_mask_value, parse_labels
from maskaudit.shards import output_names
from maskaudit.storage import configure, is_remote, parse_options


def check_names(option: str, text: str | None) -> frozenset[str]:
    names = set()
    for key in split_list(text):
        check = find_check(key)
        if check is None:
            raise UsageError(f"{option} names unknown check {key!r}; run `maskaudit checks` to list them")
        names.add(check.name)
    return frozenset(names)


def build_settings(
    labels: str | None, ignore_index: int | None, select: str | None, ignore: str | None, drop: str | None,
    fail_on: FailOn,
) -> Settings:
    label_values: tuple[int, ...] | None = None
    label_names: dict[int, str] = {}
    if labels is not None:
        label_values, label_names = parse_labels(labels)
    chosen = check_names("--select", select)
    return Settings(
        labels=label_values,
        label_names=label_names,
        ignore_index=check_mask_value("--ignore-index", ignore_index) if ignore_index is not None else None,
        select=chosen or None,
        ignore=check_names("--ignore", ignore),
        drop=check_names("--drop", drop),
        fail_on=fail_on,
    )


@app.command("scan")
def scan(
    manifest: opt.Location,
    more: list[str] | None = typer.Argument(
        None, help="more annotation files (COCO: one split each, named from the file)", show_default=False),
    out: opt.OutLocation = None,
    root: opt.RootLocation = None,
    image_col: opt.ImageCol = None,
    mask_col: opt.MaskCol = None,
    split_col: opt.SplitCol = None,
    flag_col: str | None = typer.Option(None, "--flag-col", help="column flagging rows that have a mask"),
    group_col: str | None = typer.Option(None, "--group-col", help="column grouping rows (e.g. patient_id)"),
    id_col: str | None = typer.Option(None, "--id-col", help="column identifying rows"),
    image_ext: str | None = typer.Option(None, "--image-ext", help="tar shards: the image members' extension (jpg)"),
    mask_ext: str | None = typer.Option(None, "--mask-ext", help="tar shards: the mask members' extension (seg.png)"),
    labels: str | None = typer.Option(None, "--labels", help="declared labels: 0,1 or names, or 0=bg,1=tumor"),
    ignore_index: int | None = typer.Option(None, "--ignore-index", help="mask value that is not a label"),
    select: opt.Select = None,
    ignore: opt.Ignore = None,
    drop: str | None = typer.Option(None, "--drop", help="also drop rows with these checks from the filtered manifest"),
    fail_on: opt.FailOnOption = None,
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="worker processes (default and most: the usable cores)"),
    severity: opt.SeverityOption = None,
    max_file_bytes: opt.MaxFileBytes = None,
    max_pixels: opt.MaxPixels = None,
    quiet: opt.Quiet = False,
    config_file: opt.ConfigFile = None,
    baseline: Path | None = typer.Option(None, "--baseline", help="accepted findings: fail only on findings not in it"),
    write_baseline: Path | None = typer.Option(None, "--write-baseline", help="record every current finding here"),
    pipeline: opt.Pipeline = None,
    preprocess: opt.Preprocess = None,
    replay_samples: opt.ReplaySamples = None,
    replay_repeats: opt.ReplayRepeats = None,
    seed: opt.Seed = None,
    rasterize: bool = typer.Option(False, "--rasterize", help="annotation files: also paint each image's instances "
                                   "into a label map and run the mask checks on it"),
    keep_paths: bool = typer.Option(False, "--keep-paths",
                                    help="write the filtered manifest's paths verbatim, not relative to --out"),
    write_shards: bool = typer.Option(False, "--write-shards",
                                      help="tar shards: also write new shards without the dropped samples to --out"),
    examples: int | None = typer.Option(
        None, "--examples", min=0,
        help=f"findings per check that report.json holds (default {DEFAULT_EXAMPLES:,}); "
             f"{FINDINGS_FILE} holds them all"),
    no_cache: bool = typer.Option(False, "--no-cache", help="read and decode every file; neither use nor fill the "
                                                            "facts cache"),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="facts cache folder (default: "
                                                                    "$XDG_CACHE_HOME/maskaudit or ~/.cache/maskaudit)"),
    storage_option: opt.StorageOption = None,
    io_concurrency: opt.IoConcurrency = None,
    engine: opt.Engine = None,
    scheduler: opt.Scheduler = None,
) -> None:
    """Scan a manifest and the files it points to; write report.json, report.md, facts and a filtered manifest."""
    flag_columns = {"image": image_col, "mask": mask_col, "split": split_col, "flag": flag_col,
                    "group": group_col, "id": id_col}
    given_root = root if root is None or is_remote(root) else Path(root)
    config = resolve_config(config_file).merged_with(
        columns=flag_columns, root=given_root, labels=labels, ignore_index=ignore_index, select=select, ignore=ignore,
        drop=drop, fail_on=fail_on, workers=workers, baseline=baseline, pipeline=pipeline, preprocess=preprocess,
        replay_samples=replay_samples, replay_repeats=replay_repeats, seed=seed,
        severities=opt.parse_severities(severity),
        max_file_bytes=opt.parse_size_option("--max-file-bytes", max_file_bytes),
        max_pixels=opt.parse_size_option("--max-pixels", max_pixels),
        keep_paths=True if keep_paths else None, write_shards=True if write_shards else None,
        examples=examples, cache=False if no_cache else None,
        cache_dir=cache_dir, storage_options=parse_options(storage_option or []) or None,
        io_concurrency=io_concurrency, engine=engine, scheduler=scheduler,
    )
    configure(config.storage_options, config.io_concurrency)
    settings = replace(
        build_settings(config.labels, config.ignore_index, config.select, config.ignore, config.drop,
                       config.fail_on or FailOn.ERROR),
        severities=config.severities, thresholds=config.thresholds,
    )
    annotations = detect_annotations([manifest, *(more or [])])
    if annotations is not None:
        scan_annotation_files(annotations, settings, config, out, quiet, rasterize, write_baseline)
    if rasterize:
        raise UsageError("--rasterize paints annotation files' instances (COCO); a manifest's masks are label maps "
                         "already: scan it without --rasterize")
    if more:
        raise UsageError(f"several inputs ({manifest}, {', '.join(more)}) scan together only as annotation files "
                         "(COCO, SA-1B); scan one manifest per run")
    columns = {**{key: config.columns.get(key) for key in COLUMN_KEYS}, "image_ext": image_ext,
               "mask_ext": mask_ext}
    scan_root = config.root
    if scan_root is not None and not is_remote(scan_root) and not Path(scan_root).is_dir():
        raise UsageError(f"--root {scan_root} is not a folder")
    accepted: Container[Key] | None = None
    if write_baseline is not None:
        accepted = AcceptEverything()
    elif config.baseline is not None:
        accepted = load_baseline(config.baseline)
    replay = None
    if config.pipeline is not None:
        # The replay (and albumentations) is imported only when a pipeline is named: a plain scan starts faster.
        from maskaudit.replay import run as replay_run

        replay = replay_run.prepare_replay(config.pipeline, config.preprocess, config.replay_samples,
                                           config.replay_repeats, config.seed, config.workers,
                                           config.limits())
    if config.write_shards:
        output_names(manifest)
    out_dir = out if out is not None else default_out_dir(manifest)
    output = click.get_current_context().with_resource(prepare_output(out_dir, manifest))
    try:
        run = run_audit(manifest, settings, root=scan_root, columns=columns, workers=config.workers,
                        progress=not quiet and sys.stderr.isatty(), limits=config.limits(), config=config.source,
                        examples=config.examples if config.examples is not None else DEFAULT_EXAMPLES,
                        cache=config.facts_cache(), facts_file=output.staged(SCAN_FILES["facts"]),
                        findings_file=output.staged(SCAN_FILES["findings"]), baseline=accepted, replay=replay,
                        engine=config.engine or "local", scheduler=config.scheduler)
    except OutputNotWritten as exc:
        raise UsageError(f"cannot write to {out_dir} ({exc.error.strerror or exc.error}); choose another --out") \
            from None
    if write_baseline is not None:
        try:
            atomic_write_text(write_baseline, render_baseline(run.iter_findings()))
        except OSError as exc:
            raise UsageError(f"cannot write baseline {write_baseline} ({exc.strerror or exc})") from None
    try:
        report, paths = write_outputs(run, output, keep_paths=bool(config.keep_paths),
                                      write_shards=bool(config.write_shards))
    except OSError as exc:
        raise UsageError(f"cannot write to {out_dir} ({exc.strerror or exc}); choose another --out") from None
    append_step_summary(report)
    if not quiet:
        typer.echo(render_terminal(report, {"report": str(paths["report_md"]), "html report": str(paths["report_html"]),
                                            "filtered manifest": str(paths["filtered_manifest"])}), nl=False)
        if run.cache is not None:
            typer.echo(run.cache.describe())
    raise typer.Exit(1 if report.failed() else 0)
