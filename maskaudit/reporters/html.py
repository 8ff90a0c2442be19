"""The HTML report: one self-contained page (inline CSS, SVG and data-URI pictures, no script, no network).

A pure function of the report. Every string that comes from a manifest, a file name or a finding is
escaped, so a path named ``<script>...</script>.png`` renders as text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from html import escape
from pathlib import PurePath
from typing import Any

from maskaudit.checks.base import DOC_SECTIONS
from maskaudit.checks.registry import find_check
from maskaudit.findings import Finding
from maskaudit.replay.facts import METHOD, ReplayFacts, TransformFacts
from maskaudit.replay.section import PipelineSection
from maskaudit.report import CheckTally, Report
from maskaudit.reporters.charts import bar_chart, histogram_chart, range_chart
from maskaudit.reporters.culprit import culprit_order

TOP_LABELS = 15
SAFE_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$")

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1rem 1.5rem;
color:#1d1d1f;background:#fff;line-height:1.4}
h1{margin:.2rem 0}h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.verdict{font-size:1.25rem;font-weight:600;padding:.6rem .9rem;border-radius:6px}
.verdict.fail{background:#fde2e1;color:#8a1c13}.verdict.pass{background:#e2f4e4;color:#1d5e2a}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f7}td.num{text-align:right}
.sev{display:inline-block;padding:0 .4rem;border-radius:4px;font-size:.8rem;font-weight:600}
.sev.error{background:#c0392b;color:#fff}.sev.warning{background:#e6a700;color:#000}
.sev.info{background:#5d8fc9;color:#fff}.tag{font-size:.75rem;color:#555;border:1px solid #bbb;border-radius:3px;
padding:0 .3rem}.tag.new{border-color:#c0392b;color:#c0392b}
.explain dt{font-weight:600;margin-top:.4rem}.explain dd{margin:0 0 0 1rem}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{font-size:10px;background:#fafafa;border:1px solid #eee}
.chart-title{font-size:11px;font-weight:600}
.thumbs{display:flex;flex-wrap:wrap;gap:.8rem;margin:.5rem 0}
figure{margin:0;font-size:.75rem;max-width:220px}figure img{image-rendering:pixelated;border:1px solid #ccc;
margin-right:2px}.note{color:#666;font-style:italic}.more{color:#555}
code,.path{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
"""


def text(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def image_tag(src: Any, alt: str) -> str:
    """An <img> only for inline picture data: anything else (a URL, a script) is left out."""
    if not isinstance(src, str) or not SAFE_IMAGE.match(src):
        return f'<span class="note">{text(alt)}: picture not inline, left out</span>'
    return f'<img src="{src}" alt="{text(alt)}" title="{text(alt)}">'


def severity_badge(label: str) -> str:
    return f'<span class="sev {text(label)}">{text(label)}</span>'


def anchor(name: str) -> str:
    return "check-" + re.sub(r"[^a-z0-9-]", "-", name.lower())


def render_html(report: Report) -> str:
    """The full report as one HTML page."""
    body = [render_header(report)]
    body.append(render_overview(report))
    body.append(render_splits(report))
    for tally in report.tallies:
        body.append(render_check(report, tally))
    if report.pipeline:
        body.append(render_pipeline(report.pipeline, report.thumbnails))
    body.append(f'<footer><p class="more">maskaudit {text(report.tool_version)}, report schema '
                f"{text(report.schema_version)}.</p></footer>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">\n"
        f"<title>maskaudit report: {text(PurePath(report.manifest.path).name)}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n" + "\n".join(part for part in body if part) + "\n</body>\n</html>\n"
    )


def render_header(report: Report) -> str:
    counts = report.counts_by_severity
    state = "fail" if report.failed() else "pass"
    rows = [
        ("Manifest", f'<span class="path">{text(report.manifest.path)}</span> ({text(report.manifest.format)})'),
        ("Rows", f"{report.manifest.rows}: {report.rows_kept} kept, {report.rows_dropped} dropped"),
        ("Findings", ", ".join(f"{severity_badge(k)} {v}" for k, v in counts.items())),
        ("Fail on", text(report.fail_on.value)),
    ]
    if report.baselined_count:
        rows.append(("Baseline", f"{report.new_count} new, {report.baselined_count} baselined (accepted)"))
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (f'<header><h1>maskaudit report</h1><p id="verdict" class="verdict {state}">{text(report.verdict)}</p>'
            f'<table class="summary">{table}</table></header>')


def render_overview(report: Report) -> str:
    if not report.tallies:
        return '<section id="checks"><h2>Checks</h2><p>No check fired.</p></section>'
    rows = []
    for tally in report.tallies:
        rows.append(
            f'<tr><td><a href="#{anchor(tally.check)}">{text(tally.check)}</a></td><td>{text(tally.code)}</td>'
            f'<td>{severity_badge(tally.severity.label)}</td><td class="num">{tally.count}</td>'
            f'<td class="num">{tally.new_count}</td></tr>'
        )
    return ('<section id="checks"><h2>Checks that fired</h2><table><tr><th>check</th><th>code</th>'
            "<th>severity</th><th>findings</th><th>new</th></tr>" + "".join(rows) + "</table></section>")


def render_splits(report: Report) -> str:
    if not report.splits:
        return ""
    rows, charts = [], []
    labels: Counter[str] = Counter()
    empty_shares: list[tuple[str, float]] = []
    for name, stats in report.splits.items():
        kept = "" if stats.rows_kept is None else stats.rows_kept
        rows.append(
            f"<tr><td>{text(name)}</td><td class=\"num\">{stats.rows}</td><td class=\"num\">{kept}</td>"
            f"<td class=\"num\">{stats.masks}</td><td class=\"num\">{_share(stats.empty_share)}</td>"
            f"<td>{text(stats.encoding or '-')}</td></tr>"
        )
        if stats.masks:
            empty_shares.append((str(name), stats.empty_share))
        labels.update(stats.label_histogram)
    if empty_shares:
        charts.append(bar_chart(empty_shares, "Empty-mask share per split", ".1%"))
    if labels:
        top = labels.most_common(TOP_LABELS)
        rest = len(labels) - len(top)
        title = "Label histogram (pixels)" + (f", top {len(top)} of {len(labels)} values" if rest else "")
        charts.append(bar_chart([(f"label {k}", float(v)) for k, v in top], title, ".3g"))
    splits = report.splits.items()
    histograms = [("Foreground share per mask", name, s.foreground_share_histogram) for name, s in splits]
    histograms += [("Image mean intensity", name, s.image_mean_histogram) for name, s in splits]
    for title, name, histogram in histograms:
        if histogram.counts:
            charts.append(histogram_chart(list(histogram.edges), [(str(name), list(histogram.counts))],
                                          f"{title}: {name}"))
    table = ("<table><tr><th>split</th><th>rows</th><th>kept</th><th>masks</th><th>empty share</th>"
             "<th>image encoding</th></tr>" + "".join(rows) + "</table>")
    return (f'<section id="splits"><h2>Splits</h2>{table}<div class="charts">{"".join(c for c in charts if c)}'
            "</div></section>")


def _share(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) and math.isfinite(value) else "-"


def render_thumbnails(report: Report, findings: Sequence[Finding]) -> str:
    figures = []
    for finding in findings:
        if finding.row is None:
            continue
        thumb = report.thumbnails.get(str(finding.row))
        if not isinstance(thumb, Mapping) or thumb.get("check") != finding.check:
            continue
        caption = f"row {finding.row}" + (f" ({finding.row_id})" if finding.row_id else "")
        pictures = [p for p in thumb.get("pictures") or [] if isinstance(p, Mapping)]
        images = "".join(image_tag(p.get("src"), f"{caption}: {p.get('label', '')}") for p in pictures)
        labels = ", ".join(str(p.get("label", "")) for p in pictures)
        note = thumb.get("note")
        figures.append(
            f"<figure>{images}<figcaption>{text(caption)}{': ' + text(labels) if labels else ''}"
            + (f'<br><span class="note">{text(note)}</span>' if note else "")
            + "</figcaption></figure>"
        )
    return f'<div class="thumbs">{"".join(figures)}</div>' if figures else ""


def render_check(report: Report, tally: CheckTally) -> str:
    check = find_check(tally.check)
    examples = report.examples_for(tally.check)
    counts = f"{tally.count} finding(s)" + (f", {tally.new_count} new, {tally.baselined_count} baselined"
                                           if tally.baselined_count else "")
    explain = ""
    if check is not None:
        sections = check.sections()
        explain = '<dl class="explain">' + "".join(
            f"<dt>{text(h)}</dt><dd>{text(sections[h])}</dd>" for h in DOC_SECTIONS if sections.get(h)
        ) + "</dl>"
    listed = examples[:report.listed_per_check]
    rows = []
    for finding in listed:
        status = '<span class="tag">baselined</span>' if finding.baselined else '<span class="tag new">new</span>'
        rows.append(
            f"<tr><td>{text(finding.location)}</td><td>{text(finding.row_id or '')}</td>"
            f"<td>{text(finding.split or '')}</td><td class=\"path\">{text(finding.path or '')}</td>"
            f"<td>{text(finding.message)}</td><td>{status}</td></tr>"
        )
    more = ""
    if tally.count > len(listed):
        full_list = PurePath(report.findings_file).name
        more = (f'<p class="more">{tally.count - len(listed)} more: see <code>{text(full_list)}</code> '
                "(every finding, one row each).</p>")
    return (
        f'<section class="check" id="{anchor(tally.check)}"><h2>{text(tally.check)} <small>({text(tally.code)})'
        f"</small> {severity_badge(tally.severity.label)}</h2><p>{text(counts)}</p>{explain}"
        f"{render_thumbnails(report, listed)}"
        "<table><tr><th>where</th><th>id</th><th>split</th><th>path</th><th>message</th><th>status</th></tr>"
        + "".join(rows) + f"</table>{more}</section>"
    )


# --- augmentation replay ----------------------------------------------------------------------------------

MEASURES: tuple[tuple[str, Callable[[TransformFacts], float | None]], ...] = (
    ("mean shift (input std)", lambda t: t.mean_shift_std),
    ("std ratio", lambda t: t.std_ratio),
    ("NaN share after", lambda t: t.image_out.nan_share),
)


def _measure(transform: TransformFacts, measure: Callable[[TransformFacts], float | None]) -> float | None:
    value = measure(transform)
    return value if value is not None and math.isfinite(value) else None


def _before_after(transform: TransformFacts) -> str:
    """Before/after intensity of one transform: its histograms when it has them, else min, max, mean and std."""
    name, first, second = transform.label, transform.histogram_before, transform.histogram_after
    if first is not None and second is not None:
        return (histogram_chart(list(first.edges), [("before", list(first.counts))], f"Intensity before {name}")
                + histogram_chart(list(second.edges), [("after", list(second.counts))], f"Intensity after {name}"))
    return range_chart([("before", transform.image_in), ("after", transform.image_out)],
                       f"Intensity before and after {name} (min-max, mean +- std)")


def _samples(thumbnails: Mapping[str, Any]) -> str:
    figures = []
    for key, sample in thumbnails.items():
        if not str(key).startswith("replay:") or not isinstance(sample, Mapping):
            continue
        name = f"row {str(key).split(':', 1)[1]}" + (f" ({sample['row_id']})" if sample.get("row_id") else "")
        pictures = [p for p in sample.get("pictures") or [] if isinstance(p, Mapping)]
        images = "".join(image_tag(p.get("src"), f"{name}: {p.get('label', '')}") for p in pictures)
        note = f'<br><span class="note">{text(sample["note"])}</span>' if sample.get("note") else ""
        labels = ", ".join(str(p.get("label", "")) for p in pictures)
        figures.append(f"<figure>{images}<figcaption>{text(name)}: {text(labels)}{note}</figcaption></figure>")
    if not figures:
        return ""
    return f'<h3>Samples before and after augmentation</h3><div class="thumbs">{"".join(figures)}</div>'


def _steps(facts: ReplayFacts) -> str:
    if not facts.steps:
        return ""
    rows = [("input", facts.source_image)]
    rows += [(f"{step.index}: {', '.join(step.transforms) or step.index}", step.image) for step in facts.steps]
    return range_chart(rows, "Image distribution step by step (min-max, mean +- std)", width=640)


def render_pipeline(section: PipelineSection, thumbnails: Mapping[str, Any] | None = None) -> str:
    """The replay section: what was replayed, the measures per transform, the likeliest culprit before and
    after, the steps, and sample pictures."""
    facts = section.facts
    scalars = (("spec", facts.spec), ("spec_kind", facts.kind), ("preprocess", facts.preprocess),
               ("input_domain", facts.domain), ("samples", facts.samples), ("repeats", facts.repeats),
               ("seed", facts.seed), ("method", METHOD))
    parts = ['<section id="pipeline"><h2>Augmentation replay</h2>',
             "<table>" + "".join(f"<tr><th>{k}</th><td>{text(v)}</td></tr>" for k, v in scalars) + "</table>"]
    if facts.notes:
        parts.append("<ul>" + "".join(f"<li>{text(n)}</li>" for n in facts.notes) + "</ul>")
    transforms = facts.transforms
    charts = []
    for title, measure in MEASURES:
        items = [(t.label, v) for t in transforms if (v := _measure(t, measure)) is not None]
        charts.append(bar_chart(items, f"{title} per transform", ".3g",
                                reference=1.0 if title == "std ratio" else None))
    if transforms:
        rows = []
        for transform in transforms:
            cells = "".join(
                f"<td class=\"num\">{'' if (v := _measure(transform, measure)) is None else format(v, '.3g')}</td>"
                for _, measure in MEASURES
            )
            rows.append(f"<tr><td>{text(transform.label)}</td>"
                        f"<td class=\"num\">{format(transform.effective_p, '.3g')}</td>{cells}</tr>")
        parts.append("<h3>Transforms</h3><table><tr><th>transform</th><th>effective p</th>"
                     + "".join(f"<th>{t}</th>" for t, _ in MEASURES) + "</tr>" + "".join(rows) + "</table>")
    parts.append(f'<div class="charts">{"".join(c for c in charts if c)}</div>')
    if transforms:
        culprit = culprit_order(section)[0]
        chart = _before_after(culprit)
        if chart:
            parts.append(f"<h3>Largest change: {text(culprit.label)}</h3><div class=\"charts\">{chart}</div>")
    steps = _steps(facts)
    if steps:
        parts.append(f'<h3>Step by step</h3><div class="charts">{steps}</div>')
    parts.append(_samples(thumbnails or {}))
    parts.append("</section>")
    return "".join(p for p in parts if p)
