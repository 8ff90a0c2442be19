"""`maskaudit scan` over annotation files: the same outputs and exit codes as a manifest scan."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click
import typer

from maskaudit.annotations.detect import Input
from maskaudit.annotations.remote import local_copies
from maskaudit.api import default_workers
from maskaudit.baseline import apply_baseline, load_baseline, render_baseline
from maskaudit.config import ScanConfig
from maskaudit.errors import UsageError
from maskaudit.output import append_step_summary, atomic_write_text, default_out_dir, prepare_output
from maskaudit.report import DEFAULT_EXAMPLES
from maskaudit.reporters.terminal import render_terminal
from maskaudit.settings import Settings
from maskaudit.storage import is_remote


def scan_annotation_files(given: Input, settings: Settings, config: ScanConfig, out: str | None, quiet: bool,
                          rasterize: bool = False, write_baseline: Path | None = None) -> None:
    """Audit the annotation files, write the output set, and exit 1 when the verdict fails (findings a baseline
    accepts aside), else 0."""
    from maskaudit.annotations.audit import content_hash, run_annotation_audit, write_annotation_outputs

    first = given.locations[0]
    if config.root is not None and not is_remote(config.root) and not os.path.isdir(os.fspath(config.root)):
        raise UsageError(f"--root {config.root} is not a folder of images")
    out_dir = out if out is not None else default_out_dir(first)
    given = click.get_current_context().with_resource(local_copies(given))
    paths = [path for path, _ in given.files]
    output = click.get_current_context().with_resource(prepare_output(out_dir, first, content_hash(paths)))
    accepted = load_baseline(config.baseline) if config.baseline is not None and write_baseline is None else None
    workers = min(config.workers or default_workers(), default_workers())
    run = run_annotation_audit(given, settings, root=config.root, split_field=config.columns.get("split"),
                               workers=workers, limits=config.limits(), config=config.source,
                               examples=config.examples if config.examples is not None else DEFAULT_EXAMPLES,
                               rasterize=rasterize)
    if write_baseline is not None:
        try:
            atomic_write_text(write_baseline, render_baseline(run.findings))
        except OSError as exc:
            raise UsageError(f"cannot write baseline {write_baseline} ({exc.strerror or exc})") from None
        accepted = load_baseline(write_baseline)
    if accepted is not None:
        findings = apply_baseline(run.findings, accepted)
        run = replace(run, findings=findings, report=run.report.with_findings(findings))
    try:
        report, written = write_annotation_outputs(run, output)
    except OSError as exc:
        raise UsageError(f"cannot write to {out_dir} ({exc.strerror or exc}); choose another --out") from None
    append_step_summary(report)
    if not quiet:
        typer.echo(render_terminal(report, {"report": str(written["report_md"]), "html report":
                                            str(written["report_html"]),
                                            "filtered annotations": str(written["filtered_manifest"])}), nl=False)
    raise typer.Exit(1 if report.failed() else 0)


