"""Inline SVG charts: no script, no network, every label escaped."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from maskaudit.replay.facts import ValueSummary

SERIES_COLOURS = ("#3b6fb6", "#e07b39", "#5aa469", "#a05195")
BAR_HEIGHT = 16
LABEL_WIDTH = 130
VALUE_WIDTH = 70


def _number(value: float, fmt: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    return format(value, fmt)


def bar_chart(items: Sequence[tuple[str, float]], title: str, fmt: str = ".3g", width: int = 420,
              reference: float | None = None) -> str:
    """Horizontal bars, one per item; an optional reference line (e.g. 1.0 for a ratio)."""
    if not items:
        return ""
    values = [v if math.isfinite(v) else 0.0 for _, v in items]
    low = min(0.0, *values, *([reference] if reference is not None else []))
    high = max(0.0, *values, *([reference] if reference is not None else []))
    span = (high - low) or 1.0
    plot = width - LABEL_WIDTH - VALUE_WIDTH
    height = 24 + len(items) * (BAR_HEIGHT + 4)

    def x(value: float) -> float:
        return LABEL_WIDTH + (value - low) / span * plot

    parts = [_open(width, height, title),
             f'<text x="0" y="14" class="chart-title">{escape(title)}</text>']
    for index, ((label, value), shown) in enumerate(zip(items, values, strict=True)):
        y = 22 + index * (BAR_HEIGHT + 4)
        left, right = sorted((x(0.0), x(shown)))
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 12}" text-anchor="end">{escape(_short(label))}</text>')
        parts.append(f'<rect x="{left:.1f}" y="{y}" width="{max(right - left, 1):.1f}" height="{BAR_HEIGHT}" '
                     f'fill="{SERIES_COLOURS[0]}"><title>{escape(label)}: {_number(value, fmt)}</title></rect>')
        parts.append(f'<text x="{LABEL_WIDTH + plot + 6}" y="{y + 12}">{_number(value, fmt)}</text>')
    if reference is not None:
        rx = x(reference)
        parts.append(f'<line x1="{rx:.1f}" y1="18" x2="{rx:.1f}" y2="{height}" stroke="#333" '
                     f'stroke-dasharray="3,3"/>')
    parts.append("</svg>")
    return "".join(parts)


def histogram_chart(edges: Sequence[float], series: Sequence[tuple[str, Sequence[int]]], title: str,
                    width: int = 320, height: int = 150) -> str:
    """Vertical bars over bins given by edges; several series are drawn side by side in each bin."""
    series = [(name, counts) for name, counts in series if counts]
    if len(edges) < 2 or not series:
        return ""
    bins = len(edges) - 1
    top = max(max(counts) for _, counts in series) or 1
    plot_top, plot_bottom, left, right = 20, height - 30, 30, width - 8
    slot = (right - left) / bins
    bar = slot / len(series)
    parts = [_open(width, height, title), f'<text x="0" y="14" class="chart-title">{escape(title)}</text>',
             f'<line x1="{left}" y1="{plot_bottom}" x2="{right}" y2="{plot_bottom}" stroke="#999"/>',
             f'<text x="{left - 4}" y="{plot_top + 8}" text-anchor="end">{top}</text>']
    for which, (name, counts) in enumerate(series):
        colour = SERIES_COLOURS[which % len(SERIES_COLOURS)]
        for index, count in enumerate(counts[:bins]):
            tall = (plot_bottom - plot_top) * count / top
            x = left + index * slot + which * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{plot_bottom - tall:.1f}" width="{max(bar - 1, 1):.1f}" height="{tall:.1f}" '
                f'fill="{colour}"><title>{escape(name)} [{edges[index]:.3g}, {edges[index + 1]:.3g}): '
                f"{count}</title></rect>"
            )
    parts.append(f'<text x="{left}" y="{height - 16}">{edges[0]:.3g}</text>')
    parts.append(f'<text x="{right}" y="{height - 16}" text-anchor="end">{edges[-1]:.3g}</text>')
    if len(series) > 1:
        for which, (name, _) in enumerate(series):
            colour = SERIES_COLOURS[which % len(SERIES_COLOURS)]
            x = left + which * 110
            parts.append(f'<rect x="{x}" y="{height - 10}" width="8" height="8" fill="{colour}"/>'
                         f'<text x="{x + 12}" y="{height - 2}">{escape(_short(name, 14))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg class="chart" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">')


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def range_chart(rows: Sequence[tuple[str, ValueSummary]], title: str, width: int = 520) -> str:
    """One row per distribution: a line from min to max, a box for mean +- std, a tick at the mean."""
    usable = []
    for label, stats in rows:
        low, high, mean, std = (_finite(v) for v in (stats.minimum, stats.maximum, stats.mean, stats.std))
        if low is not None and high is not None:
            usable.append((label, low, high, mean, std))
    if not usable:
        return ""
    start = min(r[1] for r in usable)
    stop = max(r[2] for r in usable)
    span = (stop - start) or 1.0
    plot = width - LABEL_WIDTH - 16
    height = 40 + len(usable) * (BAR_HEIGHT + 6)

    def x(value: float) -> float:
        return LABEL_WIDTH + (min(max(value, start), stop) - start) / span * plot

    parts = [_open(width, height, title), f'<text x="0" y="14" class="chart-title">{escape(title)}</text>']
    for index, (label, low, high, mean, std) in enumerate(usable):
        y = 24 + index * (BAR_HEIGHT + 6)
        middle = y + BAR_HEIGHT / 2
        detail = f"min {low:.4g}, max {high:.4g}" + (f", mean {mean:.4g}" if mean is not None else "") + (
            f", std {std:.4g}" if std is not None else "")
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 12}" text-anchor="end">{escape(_short(label))}</text>')
        parts.append(f'<line x1="{x(low):.1f}" y1="{middle}" x2="{x(high):.1f}" y2="{middle}" stroke="#777">'
                     f"<title>{escape(label)}: {detail}</title></line>")
        if mean is not None and std is not None:
            left, right = x(max(mean - std, low)), x(min(mean + std, high))
            parts.append(f'<rect x="{left:.1f}" y="{y + 2}" width="{max(right - left, 1):.1f}" '
                         f'height="{BAR_HEIGHT - 4}" fill="{SERIES_COLOURS[index % len(SERIES_COLOURS)]}" '
                         f'opacity="0.7"><title>{escape(label)}: {detail}</title></rect>')
        if mean is not None:
            parts.append(f'<line x1="{x(mean):.1f}" y1="{y}" x2="{x(mean):.1f}" y2="{y + BAR_HEIGHT}" stroke="#000"/>')
    parts.append(f'<text x="{LABEL_WIDTH}" y="{height - 4}">{start:.4g}</text>')
    parts.append(f'<text x="{LABEL_WIDTH + plot}" y="{height - 4}" text-anchor="end">{stop:.4g}</text>')
    parts.append("</svg>")
    return "".join(parts)
