"""Replay facts that show each pipeline check's defect, and a clean counterpart for each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from maskaudit.replay.facts import ReplayFacts, ValueSummary
from tests.replay.records import ZSCORED, facts, shifted

UINT8 = replace(ZSCORED, dtypes=("uint8",), mean=110.0, std=40.0, minimum=0.0, maximum=255.0, negative_share=0.0,
                above_one_share=0.95, zero_share=0.01, one_share=0.0, grid_share=1.0)
CLIPPED = replace(ZSCORED, mean=0.4, std=0.45, minimum=0.0, maximum=1.0, negative_share=0.0, above_one_share=0.0,
                  zero_share=0.5, one_share=0.16)


@dataclass(frozen=True)
class PipelineCase:
    defect: ReplayFacts
    clean: ReplayFacts


def normalize(image_in: ValueSummary) -> ReplayFacts:
    return facts("Normalize", 1.0, image_in=image_in, image_out=replace(image_in, mean=0.0, std=0.01))


PIPELINE_CASES: dict[str, Callable[[], PipelineCase]] = {
    "pipeline-error": lambda: PipelineCase(
        facts("ISONoise", 0.5, errors=10, error="TypeError: needs 3 channels"), facts("ISONoise", 0.5)),
    "pipeline-non-finite": lambda: PipelineCase(
        facts("RandomGamma", 0.25, image_out=replace(ZSCORED, nan_share=0.5)), facts("RandomGamma", 0.25)),
    "pipeline-clips-range": lambda: PipelineCase(
        facts("Lambda", 1.0, image_out=CLIPPED), facts("Lambda", 1.0)),
    "pipeline-distribution-shift": lambda: PipelineCase(
        facts("Lambda", 1.0, image_out=shifted(0.41, 0.9)), facts("Lambda", 1.0, image_out=shifted(0.1))),
    "pipeline-quantizes": lambda: PipelineCase(
        facts("Posterize", 0.5, image_out=replace(ZSCORED, grid_share=1.0)), facts("Posterize", 0.5)),
    "pipeline-double-normalize": lambda: PipelineCase(normalize(ZSCORED), normalize(UINT8)),
    "pipeline-mask-interpolation": lambda: PipelineCase(
        facts("Rotate", 0.5, "dual", "linear"), facts("Rotate", 0.5, "dual", "nearest")),
    "pipeline-mask-misaligned": lambda: PipelineCase(
        facts("Lambda", 0.5, misaligned=10), facts("Lambda", 0.5)),
    "pipeline-empties-mask": lambda: PipelineCase(
        facts("RandomCrop", 1.0, "dual", "nearest", emptied_masks=6), facts("RandomCrop", 1.0, "dual", "nearest")),
}
