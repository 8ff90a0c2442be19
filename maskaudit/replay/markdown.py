"""The pipeline part of report.md: a per-transform table, culprit first, and the step-by-step distribution."""

from __future__ import annotations

import math

from maskaudit.replay.facts import METHOD
from maskaudit.replay.section import PipelineSection
from maskaudit.reporters.culprit import culprit_order


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _num(value: float | None, fmt: str = ".3g") -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, fmt)


def _share(value: float) -> str:
    return f"{value:.1%}"


def render_pipeline(section: PipelineSection) -> list[str]:
    """Markdown lines for the report's pipeline section."""
    facts = section.facts
    image_in, image_out = facts.source_image, facts.final_image
    lines = [
        "", "## Augmentation pipeline", "",
        f"- Pipeline: `{facts.spec}` ({facts.kind}); preprocess: `{facts.preprocess}`",
        f"- Input domain: **{facts.domain}**; {facts.samples} samples x {facts.repeats} repeats, seed {facts.seed}",
        f"- Whole pipeline: mean {_num(image_in.mean)} -> {_num(image_out.mean)}, "
        f"std {_num(image_in.std)} -> {_num(image_out.std)}, negative share "
        f"{_share(image_in.negative_share)} -> {_share(image_out.negative_share)}, "
        f"mean shift {_num(facts.mean_shift_std, '+.3f')} input std",
    ]
    lines += [f"- Note: {_cell(note)}" for note in facts.notes]
    lines += [
        "", METHOD,
        "", "| # | transform | effective p | findings | mean shift (std) | std ratio | negative before -> after "
        "| NaN/Inf after | on 1/255 grid | errors | masks emptied |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for transform in culprit_order(section):
        before, after = transform.image_in, transform.image_out
        found = ", ".join(f"{f.check} ({f.severity.label})" for f in section.findings_of(transform)) or "-"
        emptied = (f"{transform.emptied_masks}/{transform.nonempty_masks}" if transform.nonempty_masks else "-")
        lines.append(
            f"| {transform.index} | {_cell(transform.name)} | {transform.effective_p:.3g}"
            f"{' (always)' if transform.leaf.always else ''} | {_cell(found)} "
            f"| {_num(transform.mean_shift_std, '+.3f')} | {_num(transform.std_ratio)} "
            f"| {_share(before.negative_share)} -> {_share(after.negative_share)} | {_share(after.non_finite_share)} "
            f"| {_share(after.grid_share)} | {transform.errors}/{transform.runs} | {emptied} |"
        )
    for transform in facts.transforms:
        if transform.leaf.lambda_source:
            lines += ["", f"Lambda {transform.index} source:", "", "```python", transform.leaf.lambda_source, "```"]
    if facts.steps:
        lines += ["", "### Step by step (real probabilities)", "",
                  "| step | transforms | mean | std | negative | NaN | masks empty | errors |",
                  "|---|---|---|---|---|---|---|---|",
                  f"| input | - | {_num(image_in.mean)} | {_num(image_in.std)} | {_share(image_in.negative_share)} "
                  f"| {_share(image_in.nan_share)} | {_share(facts.source_mask.empty_share)} | - |"]
        for step in facts.steps:
            image = step.image
            lines.append(
                f"| {step.index} | {_cell(', '.join(step.transforms))} | {_num(image.mean)} | {_num(image.std)} "
                f"| {_share(image.negative_share)} | {_share(image.nan_share)} | {_share(step.mask.empty_share)} "
                f"| {step.errors}/{step.runs} |"
            )
    return lines
