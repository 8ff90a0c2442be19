"""report.json's layout: sections and entries a line each, and exactly the JSON the report holds."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from maskaudit.reporters.json_report import _indented

LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                      max_leaves=30)


@given(VALUES)
def test_the_layout_reads_back_as_the_value(value: Any) -> None:
    assert json.loads(_indented(value, 0)) == value


def test_each_finding_is_one_line() -> None:
    findings = [{"check": "empty-mask", "row": 0}, {"check": "full-mask", "row": 1}]
    report = {"manifest": {"rows": 2}, "findings": findings}
    lines = _indented(report, 0).splitlines()
    assert '    {"check": "empty-mask", "row": 0},' in lines and '    {"check": "full-mask", "row": 1}' in lines
    assert lines[0] == "{" and lines[-1] == "}" and '    "rows": 2' in lines
