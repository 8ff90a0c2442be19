"""Checks of the augmentation replay; they judge replay measurements, not row facts."""

from __future__ import annotations

from maskaudit.checks.base import Check
from maskaudit.checks.pipeline.pipeline_clips_range import pipeline_clips_range
from maskaudit.checks.pipeline.pipeline_distribution_shift import pipeline_distribution_shift
from maskaudit.checks.pipeline.pipeline_double_normalize import pipeline_double_normalize
from maskaudit.checks.pipeline.pipeline_empties_mask import pipeline_empties_mask
from maskaudit.checks.pipeline.pipeline_error import pipeline_error
from maskaudit.checks.pipeline.pipeline_mask_interpolation import pipeline_mask_interpolation
from maskaudit.checks.pipeline.pipeline_mask_misaligned import pipeline_mask_misaligned
from maskaudit.checks.pipeline.pipeline_non_finite import pipeline_non_finite
from maskaudit.checks.pipeline.pipeline_quantizes import pipeline_quantizes

PIPELINE_CHECKS: tuple[Check, ...] = (
    pipeline_error,
    pipeline_non_finite,
    pipeline_clips_range,
    pipeline_distribution_shift,
    pipeline_quantizes,
    pipeline_double_normalize,
    pipeline_mask_interpolation,
    pipeline_mask_misaligned,
    pipeline_empties_mask,
)
