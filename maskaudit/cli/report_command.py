"""`maskaudit report`: render any format from a saved report.json, offline."""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path

import typer

from maskaudit.cli.app import app
from maskaudit.errors import UsageError
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


def load_report(path: Path) -> Report:
    """A saved report.json as a Report; a missing or malformed file is a usage error."""
    data = read_json(path, "report", "pass the report.json a scan wrote")
    try:
        return Report.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"report {path} is not a maskaudit report ({type(exc).__name__}: {exc})") from None


@app.command("report")
def report(
    path: Path = typer.Argument(..., help="a report.json written by `maskaudit scan`"),
    output_format: ReportFormat = typer.Option(ReportFormat.HTML, "--format", help="html, md, junit or json"),
    out: Path | None = typer.Option(None, "--out", help="write to this file instead of standard output"),
) -> None:
    """Render a saved report as HTML, Markdown, JUnit XML or JSON."""
    rendered = RENDERERS[output_format](load_report(path))
    if out is None:
        typer.echo(rendered, nl=False)
        return
    try:
        atomic_write_text(out, rendered)
    except OSError as exc:
        raise UsageError(f"cannot write {out} ({exc.strerror or exc}); choose another --out") from None
