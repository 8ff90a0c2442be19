"""Which transform of a replayed pipeline most likely caused the damage: the one ranking every report uses."""

from __future__ import annotations

import math

from maskaudit.replay.facts import TransformFacts
from maskaudit.replay.section import PipelineSection


def culprit_order(section: PipelineSection) -> list[TransformFacts]:
    """The transforms, likeliest cause first: worst finding, then most findings, then the largest mean shift,
    then pipeline order."""
    def key(item: tuple[int, TransformFacts]) -> tuple[int, int, float, int]:
        position, transform = item
        found = section.findings_of(transform)
        worst = max((int(f.severity) for f in found), default=0)
        shift = transform.mean_shift_std
        return (-worst, -len(found), -abs(shift) if shift is not None and math.isfinite(shift) else 0.0, position)

    return [transform for _, transform in sorted(enumerate(section.facts.transforms), key=key)]
