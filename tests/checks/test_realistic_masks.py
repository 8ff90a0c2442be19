"""What real datasets hide, as facts: undeclared void rims, 0/255 masks under an ignore index, inverted and
interpolated masks, pictures passed as masks; and the realistic controls that must stay silent."""

from __future__ import annotations

import pytest

from maskaudit.facts import RowFacts
from maskaudit.findings import Finding, Severity
from maskaudit.judge import judge
from maskaudit.settings import Settings
from tests.checks.cases import binary, grey_photo, healthy, image, mask, rgb_photo, row, zscored_slice

NEW_AND_CHANGED = {"image-as-mask", "inverted-mask", "unexpected-label", "lossy-mask", "undeclared-void-label",
                   "full-mask", "multichannel-mask", "class-imbalance", "label-missing-in-split"}


def findings(rows: list[RowFacts], settings: Settings | None = None) -> list[Finding]:
    return list(judge(rows, settings or Settings(), has_splits=any(r.split is not None for r in rows)).findings)


def rim(value: float = 255.0, dtype: str = "uint8") -> RowFacts:
    return row(6, m=mask({0.0: 40, 1.0: 16, value: 8}, dtype=dtype))


@pytest.mark.parametrize(("rows", "severity", "hint"), [
    ([*healthy(6), rim()], Severity.ERROR, "declare --ignore-index 255 if it is a void label"),
    ([*healthy(6), rim(65535.0, "uint16")], Severity.ERROR, "declare --ignore-index 65535 if it is a void label"),
    ([*healthy(6), rim(7.0)], Severity.WARNING, "of 7 non-empty masks, 7 in 1 hold them"),
], ids=["255-rim", "dtype-maximum-rim", "stray-value"])
def test_a_value_beyond_the_inferred_labels_in_few_masks_is_unexpected(
        rows: list[RowFacts], severity: Severity, hint: str) -> None:
    found = [f for f in findings(rows) if f.check == "unexpected-label"]
    assert [(f.row, f.severity) for f in found] == [(6, severity)]
    assert hint in found[0].message and "{0, 1}" in found[0].message


def test_a_0_255_mask_under_ignore_index_255_is_an_error_naming_the_cause() -> None:
    rows = [*healthy(5), row(5, m=mask({0.0: 48, 255.0: 16}))]
    judgement = judge(rows, Settings(ignore_index=255), has_splits=True)
    found = [f for f in judgement.findings if f.check == "unexpected-label"]
    assert [(f.row, f.severity) for f in found] == [(5, Severity.ERROR)]
    assert "binary mask saved as 0/255" in found[0].message and 5 in judgement.dropped


def test_an_interpolated_float_mask_is_lossy() -> None:
    rows = [*healthy(3), row(3, m=mask({0.0: 30, 0.25: 4, 0.5: 4, 0.75: 4, 1.0: 22}, dtype="float32"))]
    found = [f for f in findings(rows) if f.row == 3]
    assert [(f.check, f.severity) for f in found] == [("lossy-mask", Severity.ERROR)]
    assert "{0.25, 0.5, 0.75}" in found[0].message


@pytest.mark.parametrize("picture", [zscored_slice(), grey_photo(), rgb_photo()], ids=["zscored", "grey", "rgb"])
@pytest.mark.parametrize("labels", [None, (0, 1)], ids=["undeclared", "declared"])
def test_a_picture_passed_as_a_mask_is_one_error_and_no_flood(picture, labels) -> None:  # type: ignore[no-untyped-def]
    rows = [*healthy(4), row(4, m=picture, img=image(spatial=picture.spatial, content="i4")),
            *healthy(2, "val", start=5)]
    judgement = judge(rows, Settings(labels=labels), has_splits=True)
    assert [(f.check, f.row) for f in judgement.findings] == [("image-as-mask", 4)]
    assert "this looks like an image, not a label map" in judgement.findings[0].message
    assert 4 in judgement.dropped
    for stats in judgement.context.by_split_stats().values():
        assert set(stats.label_pixels) <= {0.0, 1.0}
    assert judgement.context.by_split_stats()["train"].rows == 5


def lesions(shares: list[int]) -> list[RowFacts]:
    return [row(i, m=binary(s, total=10_000)) for i, s in enumerate(shares)]


CONTROLS = {
    "large declared void region": (
        [*healthy(5), row(5, m=mask({0.0: 10, 1.0: 6, 255.0: 48}))], Settings(ignore_index=255)),
    "16-bit 0/1 masks": ([row(i, m=mask({0.0: 48, 1.0: 16}, dtype="uint16")) for i in range(6)], Settings()),
    "255 void in most masks": (
        [row(i, m=mask({0.0: 40, float(1 + i % 3): 16, 255.0: 8})) for i in range(6)], Settings()),
    "tiny lesion among lesions": (lesions([300, 250, 400, 350, 280, 20]), Settings()),
    "large foreground is normal": (lesions([6000, 5500, 6500, 7000, 5800, 9600]), Settings()),
    "0/255 binary masks": ([row(i, m=mask({0.0: 48, 255.0: 16})) for i in range(6)], Settings()),
    "empty masks with void rims among rimmed masks": (
        [*(row(i, m=mask({0.0: 40, 1.0: 16, 255.0: 8})) for i in range(5)), row(5, m=mask({0.0: 56, 255.0: 8}))],
        Settings(ignore_index=255)),
    "rare class next to the common ones": (
        [*(row(i, m=mask({0.0: 40, 1.0: 12, 2.0: 12})) for i in range(6)), row(6, m=mask({0.0: 40, 3.0: 24}))],
        Settings()),
    "instance map among instance maps": (
        [row(i, m=mask({0.0: 600, **{float(v): 1 for v in range(1, 151)}}, dtype="uint16", spatial=(25, 30)))
         for i in range(4)], Settings()),
}


@pytest.mark.parametrize("name", CONTROLS)
def test_realistic_controls_stay_silent(name: str) -> None:
    rows, settings = CONTROLS[name]
    noisy = [(f.check, f.row, f.message) for f in findings(rows, settings)
             if f.check in NEW_AND_CHANGED and f.severity >= Severity.WARNING]
    assert noisy == []


def test_a_void_label_in_most_masks_is_said_once_for_the_dataset() -> None:
    rows, settings = CONTROLS["255 void in most masks"]
    found = [f for f in findings(rows, settings) if f.check == "undeclared-void-label"]
    assert [(f.row, f.split, f.severity) for f in found] == [(None, None, Severity.INFO)]
    assert "declare --ignore-index 255" in found[0].message
