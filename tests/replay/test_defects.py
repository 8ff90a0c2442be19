"""Each fixture pipeline reproduces one defect; the replay names the check and the transform."""

from __future__ import annotations

import pytest

from maskaudit.findings import Finding, Severity
from tests.replay.conftest import Replay
from tests.replay.dataset import FIXTURES, pipeline


def found(findings: list[Finding]) -> set[tuple[str, str | None]]:
    return {(f.check, f.transform) for f in findings}


def test_clip_before_gamma_names_the_clip_on_zscored_data(replay: Replay) -> None:
    findings, section = replay("zscore", pipeline("clip_then_gamma"))
    shift = [f for f in findings if f.check == "pipeline-distribution-shift"]
    assert [f.transform for f in shift] == ["1:Lambda"]
    assert shift[0].severity is Severity.ERROR
    assert ("pipeline-clips-range", "1:Lambda") in found(findings)
    assert all(f.row is None for f in findings)
    assert not [f for f in findings if f.transform and "RandomGamma" in f.transform]
    assert section["input_domain"] == "z-scored"
    assert 0.3 < section["output"]["image"]["mean"] < 0.6
    clip = section["transforms"][1]
    assert clip["always"] and "np.clip" in clip["lambda_source"]
    before, after = clip["measures"]["histogram_before"], clip["measures"]["histogram_after"]
    assert before["edges"] == after["edges"] and sum(before["counts"]) == sum(after["counts"])
    below_zero = [i for i, edge in enumerate(after["edges"][1:]) if edge <= 0]
    assert below_zero and all(after["counts"][i] == 0 for i in below_zero)
    assert max(after["counts"]) > 0.4 * sum(after["counts"])


def test_clip_before_gamma_is_harmless_on_uint8(replay: Replay) -> None:
    findings, section = replay("uint8", pipeline("clip_then_gamma"))
    assert findings == []
    assert section["input_domain"] == "uint8 0-255"


@pytest.mark.parametrize("data", ["uint8", "zscore"])
def test_clean_pipeline_has_no_findings(replay: Replay, data: str) -> None:
    findings, section = replay(data, pipeline("clean"))
    assert findings == []
    assert [t["name"] for t in section["transforms"]] == ["HorizontalFlip", "VerticalFlip", "RandomRotate90",
                                                          "Transpose"]


def test_clean_yaml_file_has_no_findings(replay: Replay) -> None:
    findings, section = replay("zscore", str(FIXTURES / "clean.yaml"))
    assert findings == []
    assert section["spec_kind"] == "file"


def test_random_gamma_on_zscored_data_makes_nan(replay: Replay) -> None:
    findings, section = replay("zscore", pipeline("gamma"))
    non_finite = [f for f in findings if f.check == "pipeline-non-finite"]
    assert [f.transform for f in non_finite] == ["0:RandomGamma"]
    assert non_finite[0].severity is Severity.ERROR
    negative = section["transforms"][0]["measures"]["input"]["negative_share"]
    assert section["transforms"][0]["measures"]["output"]["nan_share"] == pytest.approx(negative, abs=0.02)


def test_random_gamma_on_uint8_is_finite(replay: Replay) -> None:
    findings, _ = replay("uint8", pipeline("gamma"))
    assert "pipeline-non-finite" not in {f.check for f in findings}


@pytest.mark.parametrize("data", ["uint8", "zscore"])
def test_linear_mask_interpolation_is_caught_with_binary_masks(replay: Replay, data: str) -> None:
    findings, section = replay(data, pipeline("linear_mask"))
    assert ("pipeline-mask-interpolation", "0:Rotate") in found(findings)
    measures = section["transforms"][0]["measures"]
    assert measures["new_mask_values"] == []
    assert measures["probe_new_values"]


@pytest.mark.parametrize("data", ["sparse", "sparse-zscore"])
def test_small_random_crop_empties_sparse_masks(replay: Replay, data: str) -> None:
    findings, _ = replay(data, pipeline("small_crop"))
    empties = [f for f in findings if f.check == "pipeline-empties-mask"]
    assert [f.transform for f in empties] == ["0:RandomCrop"]
    assert empties[0].severity is Severity.ERROR
    assert "CropNonEmptyMaskIfExists" in empties[0].message


def test_foreground_aware_crop_keeps_masks(replay: Replay) -> None:
    findings, _ = replay("sparse", pipeline("safe_crop"))
    assert "pipeline-empties-mask" not in {f.check for f in findings}


def test_normalize_twice_flags_the_second(replay: Replay) -> None:
    findings, _ = replay("uint8", pipeline("normalize_twice"))
    assert found(findings) == {("pipeline-double-normalize", "1:Normalize")}


def test_normalize_255_on_unit_float_input(replay: Replay) -> None:
    clean, _ = replay("uint8", pipeline("unit_255"))
    assert clean == []
    findings, section = replay("uint8", pipeline("unit_255"), preprocess="unit")
    assert section["input_domain"] == "float 0-1"
    assert found(findings) == {("pipeline-double-normalize", "0:Normalize")}


def test_normalize_on_zscored_dataset_output(replay: Replay) -> None:
    findings, _ = replay("uint8", pipeline("unit_255"), preprocess="zscore")
    assert ("pipeline-double-normalize", "0:Normalize") in found(findings)


@pytest.mark.parametrize("data", ["uint8", "zscore"])
def test_image_only_flip_misaligns_the_mask(replay: Replay, data: str) -> None:
    findings, _ = replay(data, pipeline("image_only_flip"))
    assert found(findings) == {("pipeline-mask-misaligned", "0:Lambda")}


def test_three_channel_transform_on_grayscale_raises(replay: Replay) -> None:
    findings, section = replay("gray", pipeline("color_on_gray"))
    errors = [f for f in findings if f.check == "pipeline-error"]
    assert [f.transform for f in errors] == ["0:ISONoise"]
    assert section["transforms"][0]["measures"]["errors"] == section["transforms"][0]["measures"]["runs"]


def test_color_transform_on_rgb_does_not_raise(replay: Replay) -> None:
    findings, _ = replay("uint8", pipeline("color_on_gray"))
    assert "pipeline-error" not in {f.check for f in findings}


def test_blur_clips_zscored_data_but_not_uint8(replay: Replay) -> None:
    findings, _ = replay("zscore", pipeline("blur_zscored"))
    assert ("pipeline-clips-range", "0:GaussianBlur") in found(findings)
    shift = [f for f in findings if f.check == "pipeline-distribution-shift"]
    assert shift and shift[0].severity is Severity.WARNING
    clean, _ = replay("uint8", pipeline("blur_zscored"))
    assert clean == []


def test_posterize_quantizes_float_input(replay: Replay) -> None:
    findings, _ = replay("uint8", pipeline("quantizes"), preprocess="minmax")
    assert ("pipeline-quantizes", "0:Posterize") in found(findings)
    untouched, _ = replay("uint8", pipeline("quantizes"))
    assert "pipeline-quantizes" not in {f.check for f in untouched}


def test_normalize_on_zscored_images_flags_the_first(replay: Replay) -> None:
    findings, section = replay("zscore", pipeline("normalize_twice"))
    assert ("pipeline-double-normalize", "0:Normalize") in found(findings)
    assert section["transforms"][0]["input_domain"] == "z-scored"
    assert section["transforms"][0]["measures"]["std_ratio"] < 0.2
