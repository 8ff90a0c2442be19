"""User code is imported once per run and every sampled file is decoded once by the replay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from maskaudit.cli import run
from maskaudit.replay import sampling
from maskaudit.replay.run import PreparedReplay, ReplayOptions
from tests.replay.dataset import pipeline

COUNTER = "MASKAUDIT_TEST_IMPORT_COUNTER"
COUNTING = """
import os

with open(os.environ["{counter}"], "a", encoding="utf-8") as counter:
    counter.write("{name}\\n")
"""
PIPELINE = COUNTING + """
import albumentations as A


def build():
    return A.Compose([A.HorizontalFlip(p=0.5), A.Lambda(image=lambda image, **kw: image, name="same", p=1.0)])
"""
SCALE = """

def scale(image):
    return image.astype("float32") / 255.0
"""
PREPROCESS = COUNTING + SCALE


def user_modules(folder: Path) -> tuple[str, str]:
    (folder / "user_pipeline.py").write_text(PIPELINE.format(counter=COUNTER, name="pipeline"), encoding="utf-8")
    (folder / "user_preprocess.py").write_text(PREPROCESS.format(counter=COUNTER, name="preprocess"),
                                               encoding="utf-8")
    return f"{folder / 'user_pipeline.py'}:build", f"{folder / 'user_preprocess.py'}:scale"


@pytest.mark.parametrize("command", ["scan", "replay"])
def test_each_user_module_is_imported_once(command: str, datasets: dict[str, Path], tmp_path: Path) -> None:
    spec, preprocess = user_modules(tmp_path)
    counter = tmp_path / "imports.txt"
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "maskaudit", command, str(datasets["uint8"]), "--out", str(out), "--pipeline", spec,
         "--preprocess", preprocess, "--replay-samples", "4", "--replay-repeats", "2", "--workers", "2", "--quiet"],
        env={**os.environ, COUNTER: str(counter)}, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    report = json.loads((out / ("report.json" if command == "scan" else "replay.json")).read_text())
    assert report["pipeline"]["preprocess"] == preprocess and report["pipeline"]["samples"] == 4
    assert Counter(counter.read_text(encoding="utf-8").split()) == {"pipeline": 1, "preprocess": 1}


def test_scan_with_replay_decodes_each_sampled_file_once(
    datasets: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: Counter[str] = Counter()
    original: Callable[..., Any] = sampling.decode

    def counting(content: Any, *args: Any, **kwargs: Any) -> Any:
        decoded[f"{Path(content.full).parent.name}/{Path(content.full).name}"] += 1
        return original(content, *args, **kwargs)

    monkeypatch.setattr(sampling, "decode", counting)
    out = tmp_path / "out"
    run(["scan", str(datasets["uint8"]), "--out", str(out), "--pipeline", pipeline("clean"),
         "--replay-samples", "5", "--replay-repeats", "2", "--quiet"])
    report = json.loads((out / "report.json").read_text())
    assert report["pipeline"]["samples"] == 5
    assert len([key for key in report.get("thumbnails", {}) if key.startswith("replay:")]) == 4
    # five rows replayed, each with its image and its mask, each decoded once: pictures reuse the samples
    assert sorted(decoded) == sorted({*(f"images/{r}.png" for r in report["pipeline"]["rows"]),
                                      *(f"masks/{r}.png" for r in report["pipeline"]["rows"])})
    assert set(decoded.values()) == {1}


def test_one_file_named_by_pipeline_and_preprocess_is_imported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "augment.py"
    module.write_text(PIPELINE.format(counter=COUNTER, name="augment") + SCALE, encoding="utf-8")
    counter = tmp_path / "imports.txt"
    monkeypatch.setenv(COUNTER, str(counter))
    prepared = PreparedReplay.of(ReplayOptions(f"{module}:build", f"{module}:scale"))
    assert prepared.preprocess_name == f"{module}:scale" and len(prepared.loaded.compose.transforms) == 2
    assert counter.read_text(encoding="utf-8").split() == ["augment"]
    module.write_text(module.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    PreparedReplay.of(ReplayOptions(f"{module}:build", f"{module}:scale"))
    assert counter.read_text(encoding="utf-8").split() == ["augment", "augment"]
