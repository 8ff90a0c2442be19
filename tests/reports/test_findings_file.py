"""The findings file: every field round-trips, text of any kind survives, batches never change the content."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskaudit.errors import UsageError
from maskaudit.findings import Finding, Severity
from maskaudit.findings_file import FINDINGS_SCHEMA, FindingsWriter, details_json, read_findings, write_findings

ODD_TEXT = "tab\there\nnew line\r\nNUL\x00 bell\x07 ünïcødé 漢字 🦀 <b>&amp;</b> \"quoted\" 'single' \\ back"


def round_trip(findings: list[Finding], tmp_path: Path, batch_rows: int = 3) -> list[Finding]:
    path = tmp_path / "findings.parquet"
    with FindingsWriter(path, batch_rows=batch_rows) as writer:
        for finding in findings:  # one call per finding, as partitions would feed it
            writer.write([finding])
    assert writer.count == len(findings)
    return list(read_findings(path))


def test_every_field_round_trips(tmp_path: Path) -> None:
    findings = [
        Finding(code="M002", check="empty-mask", severity=Severity.WARNING, message=ODD_TEXT, row=7, split="train",
                path=f"images/{ODD_TEXT}.png", details={"pixels": 0, "shape": [2, 3], "name": ODD_TEXT},
                row_id="case-7", baselined=True),
        Finding(code="S001", check="label-missing-in-split", severity=Severity.ERROR, message="split-level",
                split="val"),
        Finding(code="P003", check="pipeline-clips-range", severity=Severity.INFO, message="pipeline",
                transform="2:Normalize", details={"nested": {"a": [1.5, None, True]}}),
        Finding(code="R001", check="duplicate-row", severity=Severity.ERROR, message="", row=0, row_id=""),
    ]
    assert round_trip(findings, tmp_path) == findings


def test_columns_are_the_documented_ones(tmp_path: Path) -> None:
    path = tmp_path / "findings.parquet"
    write_findings([Finding(code="M002", check="empty-mask", severity=Severity.WARNING, message="m", row=1,
                            details={"b": 2, "a": 1})], path)
    table = pq.read_table(path)
    assert table.schema.names == ["code", "check", "severity", "row", "split", "path", "row_id", "transform",
                                  "message", "details", "baselined"]
    assert table.schema == FINDINGS_SCHEMA
    assert table.column("details").to_pylist() == ['{"b": 2, "a": 1}']
    assert table.column("severity").to_pylist() == ["warning"]


def test_non_finite_details_become_null_as_in_report_json(tmp_path: Path) -> None:
    finding = Finding(code="I003", check="non-finite-image", severity=Severity.ERROR, message="m", row=1,
                      details={"nan": math.nan, "inf": [math.inf, -math.inf, 1.0]})
    (read,) = round_trip([finding], tmp_path)
    assert read.details == {"nan": None, "inf": [None, None, 1.0]}
    assert json.loads(details_json(finding.details)) == read.details


def test_empty_file_holds_no_findings_and_still_has_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "findings.parquet"
    assert write_findings([], path) == 0
    assert list(read_findings(path)) == []
    assert pq.read_schema(path).names == FINDINGS_SCHEMA.names


def test_writes_to_a_stream(tmp_path: Path) -> None:
    stream = io.BytesIO()
    finding = Finding(code="M002", check="empty-mask", severity=Severity.WARNING, message="m", row=1)
    write_findings([finding], stream)
    path = tmp_path / "f.parquet"
    path.write_bytes(stream.getvalue())
    assert list(read_findings(path)) == [finding]


finding_strategy = st.builds(
    Finding,
    code=st.sampled_from(["M002", "R001", "S003"]),
    check=st.sampled_from(["empty-mask", "duplicate-row", "class-imbalance"]),
    severity=st.sampled_from(list(Severity)),
    message=st.text(),
    row=st.none() | st.integers(min_value=0, max_value=2**62),
    split=st.none() | st.text(max_size=8),
    path=st.none() | st.text(),
    details=st.dictionaries(st.text(max_size=5), st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text()
                            | st.lists(st.integers(-9, 9), max_size=3), max_size=4),
    transform=st.none() | st.text(max_size=10),
    row_id=st.none() | st.text(max_size=10),
    baselined=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(findings=st.lists(finding_strategy, max_size=12), batch_rows=st.integers(1, 5))
def test_any_findings_round_trip_in_order_whatever_the_batches(
        tmp_path_factory: pytest.TempPathFactory, findings: list[Finding], batch_rows: int) -> None:
    assert round_trip(findings, tmp_path_factory.mktemp("any"), batch_rows) == findings


def test_text_that_utf8_cannot_hold_is_written_with_a_replacement(tmp_path: Path) -> None:
    lone = "images/\udcff.png"  # a file name decoded with surrogateescape
    finding = Finding(code="R003", check="image-not-found", severity=Severity.ERROR, message=f"missing {lone}",
                      row=1, path=lone, details={"path": lone})
    (read,) = round_trip([finding], tmp_path)
    assert read.path == "images/?.png" and read.message == "missing images/?.png"
    assert read.details == {"path": "images/\udcff.png"}  # JSON escapes it, so the details keep it


@pytest.mark.parametrize("content", [b"", b"PAR1 not really", b'{"a": 1}'])
def test_a_file_that_is_not_a_findings_file_is_a_usage_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "findings.parquet"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=r"findings\.parquet"):
        list(read_findings(path))


def test_a_parquet_without_the_columns_is_a_usage_error(tmp_path: Path) -> None:
    import pyarrow as pa

    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1]}), path)
    with pytest.raises(UsageError, match="not a maskaudit findings file"):
        list(read_findings(path))
    with pytest.raises(UsageError, match="does not exist"):
        list(read_findings(tmp_path / "none.parquet"))
