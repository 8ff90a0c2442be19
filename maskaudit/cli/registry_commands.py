"""`maskaudit checks` and `maskaudit explain`: print the registry."""

from __future__ import annotations

import enum
import json

import typer

from maskaudit.checks.base import DOC_SECTIONS, Check
from maskaudit.checks.registry import all_checks, find_check
from maskaudit.cli.app import app
from maskaudit.errors import UsageError


class ListFormat(str, enum.Enum):
    TEXT = "text"
    MD = "md"
    JSON = "json"


def checks_markdown(checks: tuple[Check, ...]) -> str:
    lines = ["# maskaudit checks", "", "Generated from the registry by `maskaudit checks --format md`.", "",
             "| code | name | severity | family | what it finds |", "|---|---|---|---|---|"]
    lines += [f"| {c.code} | `{c.name}` | {c.severity.label} | {c.family.value} | {c.summary} |" for c in checks]
    for check in checks:
        lines += ["", f"## {check.name} ({check.code})", "",
                  f"Default severity: **{check.severity.label}**. Family: {check.family.value}."]
        for heading, body in check.sections().items():
            lines += ["", f"**{heading}.** {body}"]
        if check.options:
            lines += ["", "Thresholds:", ""]
            lines += [f"- `{key}` = {value:g}: {check.option_help.get(key, '')}"
                      for key, value in check.options.items()]
    return "\n".join(lines) + "\n"


def explain_text(check: Check) -> str:
    lines = [f"{check.name} ({check.code}), default severity {check.severity.label}, family {check.family.value}"]
    sections = check.sections()
    for heading in DOC_SECTIONS:
        lines += ["", f"{heading}:", f"  {sections.get(heading, '')}"]
    if check.options:
        lines += ["", "Thresholds:"]
        lines += [f"  {check.name}.{key} = {value:g}  ({check.option_help.get(key, '')})"
                  for key, value in check.options.items()]
    return "\n".join(lines) + "\n"


@app.command("checks")
def list_checks(
    output_format: ListFormat = typer.Option(ListFormat.TEXT, "--format", help="text, md or json"),
) -> None:
    """List every check: code, name, default severity and what it finds."""
    checks = all_checks()
    if output_format is ListFormat.MD:
        typer.echo(checks_markdown(checks), nl=False)
    elif output_format is ListFormat.JSON:
        data = [{"code": c.code, "name": c.name, "severity": c.severity.label, "family": c.family.value,
                 "sections": c.sections(), "options": dict(c.options)} for c in checks]
        typer.echo(json.dumps(data, indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for check in checks:
            typer.echo(f"{check.code}  {check.name:<{width}}  {check.severity.label:<7}  {check.summary}")


@app.command("explain")
def explain(name: str = typer.Argument(..., help="a check's name or code")) -> None:
    """Explain one check: what it finds, why it breaks training, how to fix it."""
    check = find_check(name)
    if check is None:
        raise UsageError(f"no check named {name!r}; run `maskaudit checks` to list them")
    typer.echo(explain_text(check), nl=False)
