from maskaudit.report import Report

SHOWN = 3


def render_terminal(report: Report, paths: dict[str, str] | None = None) -> str:
    """A compact summary for the terminal, verdict first."""
    counts = report.counts_by_severity
    lines = [
        report.verdict,
        f"{report.manifest.rows} rows: {report.rows_kept} kept, {report.rows_dropped} dropped; "
        f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info",
    ]
    for tally in report.tallies:
        examples = report.examples_for(tally.check)[:SHOWN]
        where = ", ".join(f.location for f in examples)
        more = ", ..." if tally.count > len(examples) else ""
        lines.append(f"  {tally.severity.label:<7} {tally.code} {tally.check:<28} {tally.count:>6}  ({where}{more})")
    lines += [f"note: {note}" for note in report.notes]
    for key, path in (paths or {}).items():
        lines.append(f"{key.replace('_', ' ')}: {path}")
    return "\n".join(lines) + "\n"
