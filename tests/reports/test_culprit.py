"""One culprit ranking: the Markdown table and the HTML "largest change" name the same transform."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from maskaudit.cli.report_command import load_report
from maskaudit.findings import Severity
from maskaudit.replay.markdown import render_pipeline
from maskaudit.replay.section import PipelineSection, TransformFinding
from maskaudit.reporters.culprit import culprit_order
from maskaudit.reporters.html import render_html
from tests.replay.records import replayed, shifted, transform


def shift_found(*severities: Severity) -> tuple[TransformFinding, ...]:
    return tuple(TransformFinding("pipeline-distribution-shift", "P004", s) for s in severities)


# Two warnings and a small shift against one warning and a large shift: the count decides before the shift.
TRANSFORMS = (transform("Flip", 1.0, index=0, image_out=shifted(5.0)),
              transform("Clip", 1.0, index=1, image_out=shifted(0.1)),
              transform("Gamma", 1.0, index=2, image_out=shifted(9.0)))
SECTION = PipelineSection(replayed(*TRANSFORMS), {"0:Flip": shift_found(Severity.WARNING),
                                                  "1:Clip": shift_found(Severity.WARNING, Severity.WARNING)})


def test_culprit_is_worst_then_most_findings_then_largest_shift() -> None:
    assert [t.name for t in culprit_order(SECTION)] == ["Clip", "Flip", "Gamma"]
    error = transform("Crop", 1.0, index=3)
    with_error = PipelineSection(replayed(*TRANSFORMS, error),
                                 {**SECTION.findings, "3:Crop": shift_found(Severity.ERROR)})
    assert culprit_order(with_error)[0] is error
    unjudged = PipelineSection(replayed(*TRANSFORMS))
    assert [t.name for t in culprit_order(unjudged)] == ["Gamma", "Flip", "Clip"]


def test_markdown_and_html_name_the_same_culprit(demo_out: Path) -> None:
    rows = [line for line in render_pipeline(SECTION) if line.startswith("| ") and line[2].isdigit()]
    assert rows[0].startswith("| 1 | Clip |")
    html = render_html(replace(load_report(demo_out / "report.json"), pipeline=SECTION))
    assert "Largest change: 1:Clip" in html
