"""docs/checks.md is generated from the registry; this fails when someone changes a check and not the docs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from maskaudit.cli import run

REPO = Path(__file__).resolve().parents[2]


def test_checks_doc_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["checks", "--format", "md"]) == 0
    generated = capsys.readouterr().out
    stored = (REPO / "docs" / "checks.md").read_text(encoding="utf-8")
    assert stored == generated, "docs/checks.md is stale: regenerate it with `make docs`"


def test_pre_commit_hook_runs_the_scan() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "maskaudit")
    assert hook["entry"] == "maskaudit scan" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
