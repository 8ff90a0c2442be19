"""One culprit ranking: the Markdown table and the HTML "largest change" name the same transform."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from maskaudit.cli.report_command import load_report
from maskaudit.replay.markdown import render_pipeline
from maskaudit.reporters.culprit import culprit_order, severity_rank
from maskaudit.reporters.html import render_html


def transform(index: int, name: str, shift: float, severities: list[str]) -> dict[str, object]:
    return {"index": index, "name": name, "effective_p": 1.0,
            "measures": {"mean_shift_std": shift, "std_ratio": 1.0,
                         "input": {"min": -2.0, "max": 2.0, "mean": 0.0, "std": 1.0},
                         "output": {"min": -2.0, "max": 2.0 + shift, "mean": shift, "std": 1.0}},
            "findings": [{"check": "pipeline-distribution-shift", "severity": s} for s in severities]}


# Two warnings and a small shift against one warning and a large shift: the count decides before the shift.
SECTION = {"spec": "augment.yaml", "transforms": [
    transform(0, "Flip", 5.0, ["warning"]),
    transform(1, "Clip", 0.1, ["warning", "warning"]),
    transform(2, "Gamma", 9.0, []),
]}


def test_culprit_is_worst_then_most_findings_then_largest_shift() -> None:
    order = culprit_order(SECTION["transforms"])  # type: ignore[arg-type]
    assert [t["name"] for t in order] == ["Clip", "Flip", "Gamma"]
    error = transform(3, "Crop", 0.0, ["error"])
    assert culprit_order([*SECTION["transforms"], error])[0] is error  # type: ignore[list-item]


def test_markdown_and_html_name_the_same_culprit(demo_out: Path) -> None:
    rows = [line for line in render_pipeline(SECTION) if line.startswith("| ") and line[2].isdigit()]
    assert rows[0].startswith("| 1 | Clip |")
    html = render_html(replace(load_report(demo_out / "report.json"), pipeline=SECTION))
    assert "Largest change: 1:Clip" in html


def test_severity_rank_follows_the_severity_enum() -> None:
    assert [severity_rank(s) for s in ("info", "warning", "error", "fatal", None, 3)] == [1, 2, 3, 0, 0, 0]
