"""One real scan of the demo fixture, shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from maskaudit.cli import run

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-report")
    assert run(["scan", str(DEMO / "train.parquet"), "--out", str(out), "--quiet"]) == 1
    return out
