from pathlib import Path

from maskaudit.checks.registry import all_checks

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.splitlines()] == [["make", "demo"], ["make", "test"]]


def test_readme_checks_table_lists_every_registered_check() -> None:
    for check in all_checks():
        assert f"| {check.code} | `{check.name}` | {check.severity.label} |" in README, check.name
