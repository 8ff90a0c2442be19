"""One table: every registered check fires on its defect and stays silent on clean data.

Row and split checks judge row facts; pipeline checks judge replay facts.
"""

from __future__ import annotations

import pytest

from maskaudit.checks.base import Check, Family
from maskaudit.checks.registry import CHECKS, PIPELINE_CHECKS
from maskaudit.data_root import DataRoot
from maskaudit.facts import RowFacts
from maskaudit.findings import Finding
from maskaudit.judge import judge, judge_pipeline
from maskaudit.settings import Settings
from tests.checks.cases import CASES
from tests.checks.pipeline_cases import PIPELINE_CASES

ROOT = DataRoot("/data/set")  # where the fixtures' relative paths resolve, as a scan without --root sees it


def run(check_name: str, rows: list[RowFacts], settings: Settings) -> list[Finding]:
    """The full judgement, as a scan makes it (row errors drop rows before split checks), for one check."""
    has_splits = any(r.split is not None for r in rows)
    return [f for f in judge(rows, settings, has_splits=has_splits, root=ROOT).findings if f.check == check_name]


def test_every_row_and_split_check_has_a_case() -> None:
    names = {c.name for c in CHECKS if c.family is not Family.PIPELINE}
    assert names == set(CASES)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_check_fires_on_its_defect(check) -> None:  # type: ignore[no-untyped-def]
    case = CASES[check.name]()
    findings = run(check.name, case.defect, case.settings)
    assert findings, f"{check.name} found nothing in its defect fixture"
    assert {f.check for f in findings} == {check.name}
    assert all(f.code == check.code and f.message for f in findings)
    if case.expect_rows is not None:
        assert sorted(f.row for f in findings) == list(case.expect_rows)
    if case.expect_splits is not None:
        assert sorted({f.split for f in findings}) == sorted(case.expect_splits)
        assert all(f.row is None for f in findings)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_check_is_silent_on_clean_data(check) -> None:  # type: ignore[no-untyped-def]
    case = CASES[check.name]()
    settings = case.clean_settings if case.clean_settings is not None else case.settings
    assert run(check.name, case.clean, settings) == []


def test_every_pipeline_check_has_a_case() -> None:
    assert {c.name for c in PIPELINE_CHECKS} == set(PIPELINE_CASES)


@pytest.mark.parametrize("check", PIPELINE_CHECKS, ids=lambda c: c.name)
def test_pipeline_check_fires_on_its_defect_and_not_on_clean_facts(check: Check) -> None:
    case = PIPELINE_CASES[check.name]()
    findings = [f for f in judge_pipeline(case.defect, Settings()) if f.check == check.name]
    assert findings and all(f.code == check.code and f.row is None and f.transform for f in findings)
    assert [f for f in judge_pipeline(case.clean, Settings()) if f.check == check.name] == []
