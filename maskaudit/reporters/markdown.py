from pathlib import PurePath

from maskaudit.checks.registry import find_check
from maskaudit.replay.markdown import render_pipeline
from maskaudit.report import Report


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_summary(report: Report) -> list[str]:
    counts = report.counts_by_severity
    lines = [
        f"**{report.verdict}**",
        "",
        f"- Manifest: `{report.manifest.path}` ({report.manifest.rows} rows, {report.manifest.format})",
        f"- Findings: {counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info",
        f"- Rows kept: {report.rows_kept}, dropped: {report.rows_dropped}",
    ]
    lines += [f"- Note: {_cell(note)}" for note in report.notes]
    if report.baselined_count:
        lines.append(f"- Baseline: {report.new_count} new finding(s), {report.baselined_count} baselined")
    if report.tallies:
        lines += ["", "| check | code | severity | count |", "|---|---|---|---|"]
        lines += [f"| {t.check} | {t.code} | {t.severity.label} | {t.count} |" for t in report.tallies]
    return lines


def render_markdown(report: Report) -> str:
    """The human report: verdict, counts, per-split statistics and the first findings of each check."""
    lines = ["# maskaudit report", "", *render_summary(report)]
    if report.splits:
        lines += ["", "## Splits", "", "| split | rows | kept | empty share | foreground share | encoding |",
                  "|---|---|---|---|---|---|"]
        for name, stats in report.splits.items():
            shares = ", ".join(f"{label}: {share:.3%}" for label, share in stats.foreground_share.items())
            kept = "" if stats.rows_kept is None else stats.rows_kept
            lines.append(
                f"| {_cell(name)} | {stats.rows} | {kept} | "
                f"{stats.empty_share:.1%} | {_cell(shares or '-')} | {_cell(stats.encoding or '-')} |"
            )
    if report.pipeline is not None:
        lines += render_pipeline(report.pipeline)
    if report.tallies:
        lines += ["", "## Findings"]
    full_list = PurePath(report.findings_file).name
    for tally in report.tallies:
        examples = report.examples_for(tally.check)
        check = find_check(tally.check)
        lines += ["", f"### {tally.check} ({tally.code}, {tally.severity.label}): {tally.count}"]
        if check is not None and check.summary:
            lines += ["", check.summary]
        lines += ["", "| where | path | message |", "|---|---|---|"]
        listed = examples[:report.listed_per_check]
        for finding in listed:
            message = _cell(finding.message) + (" (baselined)" if finding.baselined else "")
            lines.append(f"| {_cell(finding.location)} | {_cell(finding.path or '')} | {message} |")
        if tally.count > len(listed):
            lines.append(f"| ... | | {tally.count - len(listed)} more in {_cell(full_list)} |")
    return "\n".join(lines) + "\n"
