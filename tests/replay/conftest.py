from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from maskaudit.findings import Finding
from maskaudit.replay.run import PreparedReplay, ReplayOptions, run_replay
from maskaudit.replay.sampling import RowRef
from maskaudit.settings import Settings
from tests.replay.dataset import make_dataset

Replay = Callable[..., tuple[list[Finding], dict[str, Any]]]


def refs_of(manifest: Path) -> list[RowRef]:
    table = pd.read_csv(manifest)
    return [RowRef(i, str(r["split"]), str(r["image"]), str(r["mask"])) for i, r in table.iterrows()]


@pytest.fixture(scope="session")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small datasets shared by every replay test: uint8 and z-scored, RGB and grayscale, sparse masks."""
    base = tmp_path_factory.mktemp("replay-data")
    return {
        "uint8": make_dataset(base / "uint8", kind="uint8"),
        "zscore": make_dataset(base / "zscore", kind="zscore"),
        "gray": make_dataset(base / "gray", kind="uint8", channels=1),
        "sparse": make_dataset(base / "sparse", kind="uint8", radius=2),
        "sparse-zscore": make_dataset(base / "sparse-zscore", kind="zscore", radius=2),
    }


@pytest.fixture(scope="session")
def replay(datasets: dict[str, Path]) -> Replay:
    """A replay's findings and its section as report.json holds it."""

    def run(data: str, spec: str, preprocess: str = "none", settings: Settings | None = None,
            samples: int = 8, repeats: int = 4, seed: int = 0) -> tuple[list[Finding], dict[str, Any]]:
        manifest = datasets[data]
        options = ReplayOptions(spec, preprocess, samples, repeats, seed, workers=1)
        findings, section = run_replay(refs_of(manifest), manifest.parent, settings or Settings(),
                                       PreparedReplay.of(options))
        return findings, section.to_dict()

    return run
