"""The starter file `maskaudit init` writes is a working configuration once every key is uncommented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from maskaudit.cli import run
from maskaudit.cli.init_command import starter_config
from maskaudit.config import load_config
from maskaudit.limits import Limits
from maskaudit.replay.cli_help import DEFAULT_PREPROCESS, DEFAULT_REPEATS, DEFAULT_SAMPLES, DEFAULT_SEED

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "fixtures" / "demo" / "train.parquet"
KEY = re.compile(r"^# ([A-Za-z_][\w-]*) = (.*)$")
TABLE = re.compile(r"^# (\[[\w.-]+\])$")


def uncommented(text: str, values: dict[str, str]) -> str:
    """Every key and table line uncommented; the keys in values set to those values."""
    lines = []
    for line in text.splitlines():
        key, table = KEY.match(line), TABLE.match(line)
        if key:
            lines.append(f"{key[1]} = {values.get(key[1], key[2])}")
        elif table:
            lines.append(table[1])
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def test_every_starter_value_is_the_default(tmp_path: Path) -> None:
    path = tmp_path / "maskaudit.toml"
    path.write_text(uncommented(starter_config(), {}))
    config = load_config(path)
    assert (config.preprocess, config.replay_samples, config.replay_repeats, config.seed) == (
        DEFAULT_PREPROCESS, DEFAULT_SAMPLES, DEFAULT_REPEATS, DEFAULT_SEED)
    assert config.limits() == Limits()
    assert dict(config.columns) == {"image": "image_path", "mask": "mask_path", "split": "split",
                                    "flag": "has_segmentation", "group": "patient_id", "id": "id"}


def test_starter_with_every_key_set_scans_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["init"]) == 0
    baseline = tmp_path / "accepted.json"
    values = {
        "root": json.dumps(str(DEMO.parent)),
        "labels": '["background", "tumor"]',
        "baseline": json.dumps(baseline.name),
        "workers": "1",
        "pipeline": json.dumps(str(REPO / "fixtures" / "pipelines" / "clean.yaml")),
        "preprocess": '"zscore"',
        "replay_samples": "4",
        "replay_repeats": "2",
    }
    config = tmp_path / "maskaudit.toml"
    config.write_text(uncommented(config.read_text(), values))
    out = tmp_path / "out"
    assert run(["scan", str(DEMO), "--out", str(out), "--quiet", "--write-baseline", str(baseline)]) == 0
    assert run(["scan", str(DEMO), "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["manifest"]["config"] == str(config.resolve())
    assert report["settings"]["select"] == ["empty-mask", "shape-mismatch"]
    assert report["settings"]["label_names"] == {"0": "background", "1": "tumor"}
    assert report["pipeline"]["preprocess"] == "zscore"
    assert report["findings"] and all(f["baselined"] for f in report["findings"])
