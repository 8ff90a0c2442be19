"""The replay through the command line: scan --pipeline, maskaudit replay, determinism, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maskaudit.checks.registry import all_checks
from maskaudit.cli import run
from tests.replay.dataset import pipeline

PIPELINE_NAMES = [
    "pipeline-error", "pipeline-non-finite", "pipeline-clips-range", "pipeline-distribution-shift",
    "pipeline-quantizes", "pipeline-double-normalize", "pipeline-mask-interpolation", "pipeline-mask-misaligned",
    "pipeline-empties-mask",
]


def test_registry_lists_the_pipeline_checks() -> None:
    found = {c.name: c for c in all_checks() if c.family.value == "pipeline"}
    assert list(found) == PIPELINE_NAMES
    assert [c.code for c in found.values()] == [f"P00{i}" for i in range(1, 10)]
    for check in found.values():
        assert set(check.sections()) == {"What it finds", "Why it breaks training", "How to fix"}


def test_explain_a_pipeline_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["explain", "pipeline-clips-range"]) == 0
    assert "P003" in capsys.readouterr().out


def test_scan_with_pipeline_adds_the_section(datasets: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = run(["scan", str(datasets["zscore"]), "--out", str(out), "--pipeline", pipeline("clip_then_gamma"),
                "--replay-samples", "6", "--replay-repeats", "3", "--quiet"])
    assert code == 1
    report = json.loads((out / "report.json").read_text())
    section = report["pipeline"]
    assert section["input_domain"] == "z-scored" and section["samples"] == 6 and section["repeats"] == 3
    assert [t["name"] for t in section["transforms"]] == ["HorizontalFlip", "Lambda", "RandomGamma"]
    assert len(section["steps"]) == 3
    pipeline_findings = [f for f in report["findings"] if f["check"].startswith("pipeline-")]
    assert {f["transform"] for f in pipeline_findings} == {"1:Lambda"}
    assert all(f["row"] is None for f in pipeline_findings)
    markdown = (out / "report.md").read_text()
    lines = markdown[markdown.index("## Augmentation pipeline"):].splitlines()
    first_row = lines[lines.index("|---|---|---|---|---|---|---|---|---|---|---|") + 1]
    assert first_row.startswith("| 1 | Lambda |") and "pipeline-distribution-shift (error)" in first_row


def test_select_and_ignore_apply_to_pipeline_checks(datasets: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(["replay", str(datasets["zscore"]), "--out", str(out), "--pipeline", pipeline("clip_then_gamma"),
         "--replay-samples", "4", "--replay-repeats", "2", "--ignore", "P003", "--quiet"])
    report = json.loads((out / "replay.json").read_text())
    assert {f["check"] for f in report["findings"]} == {"pipeline-distribution-shift"}


def _replay_json(manifest: Path, out: Path, seed: int, workers: int) -> str:
    code = run(["replay", str(manifest), "--out", str(out), "--pipeline", pipeline("small_crop"),
                "--replay-samples", "6", "--replay-repeats", "3", "--seed", str(seed), "--workers", str(workers),
                "--quiet"])
    assert code == 1
    return (out / "replay.json").read_text()


def test_same_seed_same_report(datasets: dict[str, Path], tmp_path: Path) -> None:
    first = _replay_json(datasets["sparse"], tmp_path / "a", seed=3, workers=2)
    second = _replay_json(datasets["sparse"], tmp_path / "b", seed=3, workers=2)
    serial = _replay_json(datasets["sparse"], tmp_path / "c", seed=3, workers=1)
    assert first == second == serial
    other = _replay_json(datasets["sparse"], tmp_path / "d", seed=4, workers=2)
    assert json.loads(other)["pipeline"]["transforms"] != json.loads(first)["pipeline"]["transforms"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--pipeline", "missing.yaml"], "--pipeline missing.yaml: file does not exist"),
        (["--pipeline", "not_a_module_zz:build"], "--pipeline not_a_module_zz:build: cannot import"),
        (["--pipeline", pipeline("clean"), "--preprocess", "bogus"], "--preprocess 'bogus' is unknown"),
        (["--pipeline", pipeline("clean"), "--replay-samples", "0"], "--replay-samples 0"),
    ],
)
def test_unusable_options_exit_2_with_one_line(
    datasets: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    for command in ("scan", "replay"):
        code = run([command, str(datasets["uint8"]), "--out", str(tmp_path / command), *args, "--quiet"])
        err = capsys.readouterr().err
        assert code == 2
        assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_replay_reads_the_configuration_file(datasets: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "maskaudit.toml"
    config.write_text(f'pipeline = "{pipeline("gamma")}"\nreplay_samples = 4\nreplay_repeats = 2\nseed = 5\n')
    out = tmp_path / "out"
    code = run(["replay", str(datasets["zscore"]), "--config", str(config), "--out", str(out), "--quiet"])
    section = json.loads((out / "replay.json").read_text())["pipeline"]
    assert code == 1
    assert (section["samples"], section["repeats"], section["seed"]) == (4, 2, 5)
    code = run(["replay", str(datasets["zscore"]), "--config", str(config), "--out", str(out), "--quiet",
                "--pipeline", pipeline("clean")])
    assert code == 0


def test_replay_without_a_pipeline_is_a_usage_error(datasets: dict[str, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["replay", str(datasets["uint8"]), "--out", str(tmp_path)]) == 2
    assert "needs --pipeline" in capsys.readouterr().err
