from collections import defaultdict

from maskaudit.checks.registry import find_check
from maskaudit.findings import Finding
from maskaudit.replay.markdown import render_pipeline
from maskaudit.report import Report

ROWS_PER_CHECK = 20


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
        lines.append(f"- Baseline: {len(report.new_findings)} new finding(s), {report.baselined_count} baselined")
    if report.counts_by_check:
        lines += ["", "| check | code | severity | count |", "|---|---|---|---|"]
        lines += [f"| {name} | {entry['code']} | {entry['severity']} | {entry['count']} |"
                  for name, entry in report.counts_by_check.items()]
    return lines


def render_markdown(report: Report) -> str:
    """The human report: verdict, counts, per-split statistics and every finding grouped by check."""
    lines = ["# maskaudit report", "", *render_summary(report)]
    if report.splits:
        lines += ["", "## Splits", "", "| split | rows | kept | empty share | foreground share | encoding |",
                  "|---|---|---|---|---|---|"]
        for name, stats in report.splits.items():
            shares = ", ".join(f"{label}: {share:.3%}" for label, share in stats.get("foreground_share", {}).items())
            lines.append(
                f"| {_cell(name)} | {stats.get('rows', 0)} | {stats.get('rows_kept', '')} | "
                f"{stats.get('empty_share', 0):.1%} | {_cell(shares or '-')} | {_cell(stats.get('encoding') or '-')} |"
            )
    if report.pipeline is not None:
        lines += render_pipeline(report.pipeline)
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        grouped[finding.check].append(finding)
    if grouped:
        lines += ["", "## Findings"]
    for name in report.counts_by_check:
        findings = grouped[name]
        check = find_check(name)
        lines += ["", f"### {name} ({findings[0].code}, {findings[0].severity.label}): {len(findings)}"]
        if check is not None and check.summary:
            lines += ["", check.summary]
        lines += ["", "| where | path | message |", "|---|---|---|"]
        for finding in findings[:ROWS_PER_CHECK]:
            message = _cell(finding.message) + (" (baselined)" if finding.baselined else "")
            lines.append(f"| {_cell(finding.location)} | {_cell(finding.path or '')} | {message} |")
        if len(findings) > ROWS_PER_CHECK:
            lines.append(f"| ... | | {len(findings) - ROWS_PER_CHECK} more in report.json |")
    return "\n".join(lines) + "\n"
