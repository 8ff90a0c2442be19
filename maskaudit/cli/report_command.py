"""`maskaudit report`: render any format from a saved report.json, offline.

The report holds counts and the first findings of each check; with the findings file of the same scan beside
it, counts and examples are read from that file instead, so ``--examples`` may list more than the scan kept.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PurePath

import typer

from maskaudit.cli.app import app
from maskaudit.errors import UsageError
from maskaudit.findings_file import FINDINGS_FILE, findings_in, read_findings
from maskaudit.jsonfile import read_json
from maskaudit.output import atomic_write_text
from maskaudit.report import Report
from maskaudit.reporters.html import render_html
from maskaudit.reporters.json_report import render_json
from maskaudit.reporters.junit import render_junit
from maskaudit.reporters.markdown import render_markdown


class ReportFormat(str, enum.Enum):
    HTML = "html"
    MD = "md"
    JUNIT = "junit"
    JSON = "json"


RENDERERS: dict[ReportFormat, Callable[[Report], str]] = {
    ReportFormat.HTML: render_html,
    ReportFormat.MD: render_markdown,
    ReportFormat.JUNIT: render_junit,
    ReportFormat.JSON: render_json,
}


def load_report(path: Path, examples: int | None = None) -> Report:
    """A saved report.json as a Report, its findings read from the findings file beside it when there is one;
    a missing or malformed file is a usage error."""
    data = read_json(path, "report", "pass the report.json a scan wrote")
    try:
        report = Report.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"report {path} is not a maskaudit report ({type(exc).__name__}: {exc})") from None
    if examples is not None:
        report = replace(report, examples_per_check=examples)
    beside = path.parent / PurePath(report.outputs["findings"]).name if "findings" in report.outputs else None
    if beside is None or not beside.is_file():
        if examples is not None and len(report.examples) < report.finding_count:
            raise UsageError(f"--examples needs every finding, and {path} lists {len(report.examples)} of "
                             f"{report.finding_count}; keep the {FINDINGS_FILE} the scan wrote beside it")
        return report if examples is None else report.with_findings(report.examples)
    written = findings_in(beside)
    if written != report.finding_count:
        raise UsageError(f"{beside} holds {written} findings and {path} counts {report.finding_count}; "
                         "pass the report.json and findings file of one scan")
    return report.with_findings(read_findings(beside))


@app.command("report")
def report(
    path: Path = typer.Argument(..., help="a report.json written by `maskaudit scan`"),
    output_format: ReportFormat = typer.Option(ReportFormat.HTML, "--format", help="html, md, junit or json"),
    out: Path | None = typer.Option(None, "--out", help="write to this file instead of standard output"),
    examples: int | None = typer.Option(
        None, "--examples", min=0,
        help=f"findings per check to keep (default: as the scan kept them); needs {FINDINGS_FILE} beside the report"),
) -> None:
    """Render a saved report as HTML, Markdown, JUnit XML or JSON."""
    rendered = RENDERERS[output_format](load_report(path, examples))
    if out is None:
        typer.echo(rendered, nl=False)
        return
    try:
        atomic_write_text(out, rendered)
    except OSError as exc:
        raise UsageError(f"cannot write {out} ({exc.strerror or exc}); choose another --out") from None
