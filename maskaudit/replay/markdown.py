"""The pipeline part of report.md: a per-transform table, culprit first, and the step-by-step distribution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maskaudit.reporters.culprit import culprit_order


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _num(value: Any, fmt: str = ".3g") -> str:
    return "-" if not isinstance(value, int | float) else format(value, fmt)


def _share(value: Any) -> str:
    return "-" if not isinstance(value, int | float) else f"{value:.1%}"


def render_pipeline(section: Mapping[str, Any]) -> list[str]:
    """Markdown lines for the report's pipeline section."""
    lines = [
        "", "## Augmentation pipeline", "",
        f"- Pipeline: `{section.get('spec')}` ({section.get('spec_kind')}); preprocess: `{section.get('preprocess')}`",
        f"- Input domain: **{section.get('input_domain')}**; {section.get('samples')} samples x "
        f"{section.get('repeats')} repeats, seed {section.get('seed')}",
    ]
    source, final = section.get("input") or {}, section.get("output") or {}
    image_in, image_out = source.get("image") or {}, final.get("image") or {}
    lines.append(
        f"- Whole pipeline: mean {_num(image_in.get('mean'))} -> {_num(image_out.get('mean'))}, "
        f"std {_num(image_in.get('std'))} -> {_num(image_out.get('std'))}, negative share "
        f"{_share(image_in.get('negative_share'))} -> {_share(image_out.get('negative_share'))}, "
        f"mean shift {_num((section.get('overall') or {}).get('mean_shift_std'), '+.3f')} input std"
    )
    lines += [f"- Note: {_cell(note)}" for note in section.get("notes") or []]
    if section.get("method"):
        lines += ["", str(section["method"])]
    lines += [
        "", "| # | transform | effective p | findings | mean shift (std) | std ratio | negative before -> after "
        "| NaN/Inf after | on 1/255 grid | errors | masks emptied |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in culprit_order(list(section.get("transforms") or [])):
        m = entry.get("measures") or {}
        before, after = m.get("input") or {}, m.get("output") or {}
        found = ", ".join(f"{f['check']} ({f['severity']})" for f in entry.get("findings") or []) or "-"
        non_finite = (after.get("nan_share") or 0) + (after.get("inf_share") or 0)
        emptied = f"{m.get('emptied_masks', 0)}/{m.get('nonempty_masks', 0)}" if m.get("nonempty_masks") else "-"
        lines.append(
            f"| {entry['index']} | {_cell(entry['name'])} | {entry['effective_p']:.3g}"
            f"{' (always)' if entry.get('always') else ''} | {_cell(found)} | {_num(m.get('mean_shift_std'), '+.3f')} "
            f"| {_num(m.get('std_ratio'))} | {_share(before.get('negative_share'))} -> "
            f"{_share(after.get('negative_share'))} | {_share(non_finite)} | {_share(after.get('grid_share'))} "
            f"| {m.get('errors', 0)}/{m.get('runs', 0)} | {emptied} |"
        )
    for entry in section.get("transforms") or []:
        if entry.get("lambda_source"):
            lines += ["", f"Lambda {entry['index']} source:", "", "```python", str(entry["lambda_source"]), "```"]
    steps = section.get("steps") or []
    if steps:
        lines += ["", "### Step by step (real probabilities)", "",
                  "| step | transforms | mean | std | negative | NaN | masks empty | errors |",
                  "|---|---|---|---|---|---|---|---|",
                  f"| input | - | {_num(image_in.get('mean'))} | {_num(image_in.get('std'))} | "
                  f"{_share(image_in.get('negative_share'))} | {_share(image_in.get('nan_share'))} | "
                  f"{_share((source.get('mask') or {}).get('empty_share'))} | - |"]
        for step in steps:
            image, mask = step.get("image") or {}, step.get("mask") or {}
            lines.append(
                f"| {step['step']} | {_cell(', '.join(step.get('transforms') or []))} | {_num(image.get('mean'))} | "
                f"{_num(image.get('std'))} | {_share(image.get('negative_share'))} | {_share(image.get('nan_share'))} "
                f"| {_share(mask.get('empty_share'))} | {step.get('errors', 0)}/{step.get('runs', 0)} |"
            )
    return lines
