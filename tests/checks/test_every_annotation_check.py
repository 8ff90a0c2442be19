"""One table: every annotation check fires on its defect and stays silent on clean data, judged as a scan does."""

from __future__ import annotations

import pytest

from maskaudit.annotations.judge import judge_annotations
from maskaudit.checks.base import Check
from maskaudit.checks.registry import ANNOTATION_CHECKS
from maskaudit.findings import Finding
from tests.checks.annotation_cases import CASES, Dataset


def run(check: Check, dataset: Dataset, case_settings: object) -> list[Finding]:
    data, rows = dataset.build()
    judgement = judge_annotations(data, case_settings, rows)  # type: ignore[arg-type]
    return [f for f in judgement.findings if f.check == check.name]


def test_every_annotation_check_has_a_case() -> None:
    assert {c.name for c in ANNOTATION_CHECKS} == set(CASES)


@pytest.mark.parametrize("check", ANNOTATION_CHECKS, ids=lambda c: c.name)
def test_annotation_check_fires_on_its_defect(check: Check) -> None:
    case = CASES[check.name]()
    findings = run(check, case.defect, case.settings)
    assert findings, f"{check.name} found nothing in its defect fixture"
    assert all(f.code == check.code and f.message for f in findings)
    if case.expect_annotations is not None:
        assert sorted(f.details["annotation_id"] for f in findings) == sorted(case.expect_annotations)
        assert all("annotation" in f.message and f.row_id for f in findings)
    if case.expect_splits is not None:
        assert sorted({f.split for f in findings}) == sorted(case.expect_splits)
        assert all(f.row is None for f in findings)


@pytest.mark.parametrize("check", ANNOTATION_CHECKS, ids=lambda c: c.name)
def test_annotation_check_is_silent_on_clean_data(check: Check) -> None:
    case = CASES[check.name]()
    assert run(check, case.clean, case.settings) == []
