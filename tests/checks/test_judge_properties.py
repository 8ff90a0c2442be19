"""Whatever the facts, judging never fails, and the kept rows are exactly those without error findings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from maskaudit.facts import Problem, ProblemKind, RowFacts
from maskaudit.findings import Severity
from maskaudit.judge import judge
from maskaudit.settings import Settings
from tests.checks.cases import image, mask

histograms = st.dictionaries(st.sampled_from([0.0, 1.0, 2.0, 3.0, 128.0, 255.0]), st.integers(1, 500),
                             min_size=1, max_size=5)
problems = st.sampled_from([None, Problem(ProblemKind.NOT_FOUND, "gone"), Problem(ProblemKind.UNREADABLE, "bad")])


@st.composite
def rows(draw: st.DrawFn) -> list[RowFacts]:
    count = draw(st.integers(0, 12))
    out = []
    for n in range(count):
        mask_problem = draw(problems)
        image_problem = draw(problems)
        size = draw(st.sampled_from([(8, 8), (4, 8)]))
        lo = draw(st.sampled_from([0.0, -2.0, 5.0]))
        out.append(RowFacts(
            row=n,
            image_path=draw(st.sampled_from(["a.png", "b.png", f"i{n}.png"])),
            mask_path=draw(st.sampled_from([None, "m.png", f"m{n}.png"])),
            split=draw(st.sampled_from(["train", "val", None])),
            flag=draw(st.sampled_from([True, False, None])),
            group=draw(st.sampled_from(["g1", "g2", None])),
            image=None if image_problem else image(lo=lo, hi=draw(st.sampled_from([lo, 255.0])),
                                                   content=draw(st.sampled_from(["c1", "c2", f"c{n}"]))),
            mask=None if mask_problem else mask(draw(histograms), spatial=size),
            image_problem=image_problem,
            mask_problem=mask_problem,
        ))
    return out


@given(rows(), st.sampled_from([None, (0, 1), (0, 1, 2)]), st.sampled_from([None, 255]),
       st.frozensets(st.sampled_from(["empty-mask", "duplicate-row", "tiny-foreground"])))
@settings(max_examples=150, deadline=None)
def test_judgement_is_total_and_consistent(facts: list[RowFacts], labels: tuple[int, ...] | None,
                                           ignore_index: int | None, drop: frozenset[str]) -> None:
    chosen = Settings(labels=labels, ignore_index=ignore_index, drop=drop)
    judgement = judge(facts, chosen, has_splits=any(r.split is not None for r in facts))
    rows_with_errors = {f.row for f in judgement.findings if f.row is not None and f.severity is Severity.ERROR}
    rows_dropped_by_choice = {f.row for f in judgement.findings if f.row is not None and f.check in drop}
    assert judgement.dropped == rows_with_errors | rows_dropped_by_choice
    for finding in judgement.findings:
        assert finding.row is None or 0 <= finding.row < len(facts)
        assert finding.message
    if facts and len(judgement.dropped) == len(facts):
        assert any(f.check == "no-usable-rows" for f in judgement.findings)
    judged_again = judge(facts, chosen, has_splits=any(r.split is not None for r in facts))
    assert judged_again.findings == judgement.findings
