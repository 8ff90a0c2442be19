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
    for name, entry in report.counts_by_check.items():
        examples = report.findings_by_check[name][:SHOWN]
        where = ", ".join(f.location for f in examples)
        more = ", ..." if entry["count"] > SHOWN else ""
        lines.append(f"  {entry['severity']:<7} {entry['code']} {name:<28} {entry['count']:>6}  ({where}{more})")
    lines += [f"note: {note}" for note in report.notes]
    for key, path in (paths or {}).items():
        lines.append(f"{key.replace('_', ' ')}: {path}")
    return "\n".join(lines) + "\n"
