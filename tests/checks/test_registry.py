import re

from maskaudit.checks.base import DOC_SECTIONS, Family
from maskaudit.checks.registry import all_checks, find_check
from maskaudit.cli import run

PUBLIC_NAMES = {
    "no-annotation", "mask-not-found", "image-not-found", "duplicate-row", "split-leakage",
    "mask-unreadable", "empty-mask", "full-mask", "tiny-foreground", "shape-mismatch", "multichannel-mask",
    "unexpected-label", "lossy-mask", "image-unreadable", "non-finite-image", "constant-image",
    "no-positive-masks", "high-empty-fraction", "class-imbalance", "label-missing-in-split",
    "mixed-image-encoding", "no-usable-rows", "loader-disagreement",
}
FAMILY_PREFIX = {Family.ROWS: "R", Family.MASKS: "M", Family.IMAGES: "I", Family.SPLITS: "S", Family.PIPELINE: "P",
                 Family.ANNOTATIONS: "A"}


def test_public_names_are_all_registered() -> None:
    assert {c.name for c in all_checks()} >= PUBLIC_NAMES


def test_codes_and_names_are_unique_and_well_formed() -> None:
    checks = all_checks()
    assert len({c.code for c in checks}) == len(checks)
    assert len({c.name for c in checks}) == len(checks)
    for check in checks:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", check.name), check.name
        assert re.fullmatch(r"[RMISPA]\d{3}", check.code), check.code
        assert check.code[0] == FAMILY_PREFIX[check.family], check.name


def test_every_docstring_has_the_fixed_sections() -> None:
    for check in all_checks():
        sections = check.sections()
        for heading in DOC_SECTIONS:
            assert len(sections.get(heading, "")) > 20, f"{check.name} lacks '{heading}'"


def test_find_check_by_name_and_code() -> None:
    assert find_check("empty-mask") is find_check("M002") is find_check("m002")
    assert find_check("no-such-check") is None


def test_checks_command_lists_every_check(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(["checks"]) == 0
    out = capsys.readouterr().out
    for check in all_checks():
        assert check.code in out and check.name in out


def test_explain_prints_the_three_sections(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(["explain", "class-imbalance"]) == 0
    out = capsys.readouterr().out
    assert all(f"{heading}:" in out for heading in DOC_SECTIONS)
    assert "pos_weight" in out and "class-imbalance.min_share = 0.01" in out
    assert run(["explain", "S003"]) == 0


def test_explain_unknown_check_is_a_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(["explain", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "maskaudit checks" in err
