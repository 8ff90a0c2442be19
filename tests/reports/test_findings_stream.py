"""Findings stream from the scan into the findings file: the tally keeps each check's first examples in report
order whatever order they come in, a baseline marks findings as they pass, and the run reads them back."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from maskaudit.api import run_audit
from maskaudit.baseline import AcceptEverything
from maskaudit.checks.base import Kind
from maskaudit.checks.registry import find_check
from maskaudit.findings import Finding, Severity
from maskaudit.findings_file import read_findings
from maskaudit.findings_stream import FindingsStream
from maskaudit.judge import dropping, sort_key
from maskaudit.report import FindingsTally
from maskaudit.settings import Settings

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "train.parquet"

finding = st.builds(
    Finding, code=st.sampled_from(["M001", "M002"]), check=st.sampled_from(["empty-mask", "full-mask"]),
    severity=st.sampled_from(list(Severity)), message=st.sampled_from(["a", "b"]),
    row=st.one_of(st.none(), st.integers(0, 20)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(finding, max_size=60), st.integers(0, 5), st.randoms(use_true_random=False))
def test_tally_keeps_the_first_examples_in_report_order_whatever_the_arrival(
        findings: list[Finding], examples: int, random: object) -> None:
    shuffled = list(findings)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    tally = FindingsTally(examples)
    for i in range(0, len(shuffled), 7):  # fed in several calls
        tally.add(shuffled[i:i + 7])
    expected: list[Finding] = []
    for check in {f.check for f in findings}:
        expected.extend(sorted((f for f in shuffled if f.check == check), key=sort_key)[:examples])
    assert sorted(tally.examples, key=sort_key) == list(tally.examples)
    assert sorted(map(sort_key, tally.examples)) == sorted(map(sort_key, expected))
    assert sum(t.count for t in tally.tallies()) == len(findings)


def test_the_stream_marks_what_the_baseline_accepts_and_writes_every_finding(tmp_path: Path) -> None:
    accepted = Finding("M002", "empty-mask", Severity.WARNING, "a", row=1, row_id="case-1")
    other = Finding("M002", "empty-mask", Severity.WARNING, "a", row=2, row_id="case-2")
    with FindingsStream(tmp_path / "findings.parquet", examples=1, accepted={accepted.identity}) as stream:
        stream.add([accepted, other])
    assert [f.baselined for f in read_findings(tmp_path / "findings.parquet")] == [True, False]
    assert [t.baselined_count for t in stream.tally.tallies()] == [1]
    assert len(stream.tally.examples) == 1


def test_a_run_reads_back_every_finding_it_wrote_and_drops_the_rows_with_errors(tmp_path: Path) -> None:
    run = run_audit(DEMO, findings_file=tmp_path / "findings.parquet")
    findings = list(run.iter_findings())
    assert findings == list(read_findings(tmp_path / "findings.parquet"))
    assert run.report.finding_count == len(findings) > 0
    assert run.dropped.tolist() == sorted({f.row for f in findings if f.row is not None and dropping(f, Settings())})
    assert run.report.rows_dropped == len(run.dropped) and run.kept().sum() == run.report.rows_kept
    own = [find_check(f.check).kind is Kind.ROW for f in findings]  # type: ignore[union-attr]
    assert own == sorted(own, reverse=True)  # the row checks' findings first,
    rows = [f.row for f, is_own in zip(findings, own, strict=True) if is_own]
    assert rows == sorted(rows)  # by row
    in_memory = run_audit(DEMO, baseline=AcceptEverything())
    assert [f.identity for f in in_memory.iter_findings()] == [f.identity for f in findings]
    assert all(f.baselined for f in in_memory.iter_findings())
    assert in_memory.report.baselined_count == len(findings) and not in_memory.report.failed()
