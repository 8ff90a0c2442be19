"""The replay's report section, rendered: per-transform charts, the largest change, samples before and after.

Driven through `maskaudit scan --pipeline`, with the replay options coming from a config file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maskaudit.cli import run
from tests.reports.tiny_dataset import Row, make_dataset

PIPELINE = '''
import albumentations as A


def darken(image, **kwargs):
    return (image * 0.25).astype(image.dtype)


def build():
    return A.Compose([A.HorizontalFlip(p=0.5), A.Lambda(image=darken, name="darken", p=1.0)])
'''


def test_replay_section_has_charts_and_sample_pictures(tmp_path: Path) -> None:
    manifest = make_dataset(tmp_path / "data", [Row(f"r{i}") for i in range(6)])
    (tmp_path / "data" / "augment.py").write_text(PIPELINE)
    (tmp_path / "data" / "maskaudit.toml").write_text(
        'pipeline = "augment.py:build"\nreplay_samples = 4\nreplay_repeats = 2\nseed = 3\nfail_on = "never"\n')
    config = ["--config", str(tmp_path / "data" / "maskaudit.toml")]  # names code: only a passed file may
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out"), "--quiet", "--replay-samples", "3",
                *config]) == 0
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["pipeline"]["samples"] == 3 and saved["pipeline"]["seed"] == 3
    samples = {k: v for k, v in saved["thumbnails"].items() if k.startswith("replay:")}
    assert len(samples) == 3
    assert all([p["label"] for p in s["pictures"]] == ["before", "after"] for s in samples.values())
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert '<section id="pipeline">' in html and "Samples before and after augmentation" in html
    assert "mean shift (input std) per transform" in html and "std ratio per transform" in html
    assert "Largest change: 1:Lambda" in html and "Image distribution step by step" in html


def test_a_report_with_a_replay_renders_again_from_report_json_to_the_same_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = make_dataset(tmp_path / "data", [Row(f"r{i}") for i in range(4)])
    (tmp_path / "data" / "augment.py").write_text(PIPELINE)
    out = tmp_path / "out"
    spec = f"{tmp_path / 'data' / 'augment.py'}:build"
    assert run(["scan", str(manifest), "--out", str(out), "--quiet", "--pipeline", spec,
                "--replay-samples", "3", "--replay-repeats", "2", "--fail-on", "never"]) == 0
    capsys.readouterr()
    assert "## Augmentation pipeline" in (out / "report.md").read_text(encoding="utf-8")
    for fmt, written in (("md", "report.md"), ("html", "report.html"), ("json", "report.json")):
        assert run(["report", str(out / "report.json"), "--format", fmt]) == 0
        assert capsys.readouterr().out == (out / written).read_text(encoding="utf-8"), fmt


def test_a_malformed_pipeline_section_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = make_dataset(tmp_path / "data", [Row("a")])
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**saved, "pipeline": {"transforms": "nope"}}))
    capsys.readouterr()
    assert run(["report", str(bad), "--format", "md"]) == 2
    err = capsys.readouterr().err
    assert "is not a maskaudit report" in err and "Traceback" not in err
