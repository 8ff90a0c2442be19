"""Pipeline checks are pure functions of the replay facts: fed records, they judge without running anything."""

from __future__ import annotations

from dataclasses import replace

from maskaudit.checks.pipeline.pipeline_clips_range import pipeline_clips_range
from maskaudit.checks.pipeline.pipeline_distribution_shift import pipeline_distribution_shift
from maskaudit.checks.pipeline.pipeline_empties_mask import pipeline_empties_mask
from maskaudit.checks.pipeline.pipeline_mask_interpolation import pipeline_mask_interpolation
from maskaudit.findings import Severity
from maskaudit.judge import judge_pipeline
from maskaudit.settings import Settings
from tests.replay.records import ZSCORED, facts, shifted


def test_shift_is_an_error_only_when_the_transform_always_applies() -> None:
    options = dict(pipeline_distribution_shift.options)
    always = list(pipeline_distribution_shift.run(facts("Lambda", 1.0, image_out=shifted(0.4, 0.6)), options))
    sometimes = list(pipeline_distribution_shift.run(facts("Lambda", 0.3, image_out=shifted(0.4, 0.6)),
                                                     options))
    assert [h.severity for h in always] == [Severity.ERROR]
    assert [h.severity for h in sometimes] == [Severity.WARNING]
    assert always[0].transform == "0:Lambda"
    assert not list(pipeline_distribution_shift.run(facts("Lambda", 1.0, image_out=shifted(0.2, 0.6)),
                                                    options))
    assert not list(pipeline_distribution_shift.run(facts("Normalize", 1.0, image_out=shifted(3.0)), options))


def test_empties_mask_warns_then_errors_above_a_fifth() -> None:
    options = dict(pipeline_empties_mask.options)
    few = list(pipeline_empties_mask.run(facts("RandomCrop", 1.0, "dual", "nearest", emptied_masks=1), options))
    many = list(pipeline_empties_mask.run(facts("RandomCrop", 1.0, "dual", "nearest", emptied_masks=3), options))
    assert [h.severity for h in few] == [Severity.WARNING]
    assert [h.severity for h in many] == [Severity.ERROR]


def test_clip_needs_values_piled_at_the_bound() -> None:
    options = dict(pipeline_clips_range.options)
    rescaled = replace(ZSCORED, minimum=0.0, maximum=1.0, negative_share=0.0, above_one_share=0.0, zero_share=0.0001)
    clipped = replace(rescaled, zero_share=0.5, one_share=0.16)
    assert not list(pipeline_clips_range.run(facts("Normalize", 1.0, image_out=rescaled), options))
    assert len(list(pipeline_clips_range.run(facts("Blur", 1.0, image_out=clipped), options))) == 1


def test_configured_linear_interpolation_is_enough() -> None:
    hits = list(pipeline_mask_interpolation.run(facts("Rotate", 0.5, "dual", "linear"), {}))
    assert len(hits) == 1 and "linear" in hits[0].message
    assert not list(pipeline_mask_interpolation.run(facts("Rotate", 0.5, "dual", "nearest"), {}))


def test_settings_override_severity_and_selection() -> None:
    record = facts("Lambda", 0.3, image_out=shifted(0.4, 0.6))
    assert [f.severity for f in judge_pipeline(record, Settings())] == [Severity.WARNING]
    raised = Settings(severities={"pipeline-distribution-shift": Severity.ERROR})
    assert [f.severity for f in judge_pipeline(record, raised)] == [Severity.ERROR]
    assert judge_pipeline(record, Settings(ignore=frozenset({"pipeline-distribution-shift"}))) == []
    stricter = Settings(thresholds={"pipeline-distribution-shift": {"max_mean_shift": 0.5, "min_std_ratio": 0.5}})
    assert judge_pipeline(record, stricter) == []

