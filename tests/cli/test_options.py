"""Options are validated up front (exit 2, one line) or judged with the facts; none is silently dropped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import maskaudit
from maskaudit.api import default_workers
from maskaudit.checks.registry import all_checks, find_check
from maskaudit.cli import run
from maskaudit.config import parse_config
from maskaudit.errors import UsageError
from maskaudit.limits import Limits
from maskaudit.sizes import parse_size
from tests.reports.tiny_dataset import Row, make_dataset, write_manifest, write_png

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "fixtures" / "demo" / "train.parquet"


@pytest.fixture()
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return make_dataset(tmp_path / "data", [Row("a"), Row("b", empty=True), Row("c")])


def scan(manifest: Path, out: Path, *extra: str) -> int:
    return run(["scan", str(manifest), "--out", str(out), "--quiet", *extra])


def saved(out: Path) -> dict[str, object]:
    return json.loads((out / "report.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--labels", "garbage"], "--labels 'garbage' names a single label"),
        (["--labels", "=,="], "--labels item '=' is not value=name"),
        (["--labels", "0,tumor"], "mixes values and bare names"),
        (["--labels", "0,0"], "repeats a value"),
        (["--ignore-index", "99999999999999999999999"], "outside what any integer mask can hold"),
        (["--ignore-index", "-9999999999999999999999"], "outside what any integer mask can hold"),
        (["--severity", "empty-mask"], "--severity 'empty-mask': give CHECK=LEVEL"),
        (["--severity", "no-such=error"], "--severity 'no-such=error'"),
        (["--severity", "empty-mask=fatal"], "level 'fatal' is not one of"),
        (["--max-file-bytes", "lots"], "--max-file-bytes 'lots'"),
        (["--max-pixels", "0"], "--max-pixels '0'"),
        (["--select", "no_such_check"], "--select names unknown check 'no_such_check'"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    assert scan(manifest, tmp_path / "out", *args) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_names_with_underscores_find_their_check() -> None:
    for check in all_checks():
        assert find_check(check.name.replace("-", "_")) is check
        assert find_check(check.name.upper()) is check
        assert find_check(check.code.lower()) is check
    assert find_check("empty__mask") is None


def test_select_and_severity_accept_underscores_and_flags_win_over_the_file(manifest: Path, tmp_path: Path) -> None:
    assert scan(manifest, tmp_path / "out", "--select", "empty_mask") == 0
    assert {f["check"] for f in saved(tmp_path / "out")["findings"]} == {"empty-mask"}  # type: ignore[attr-defined]
    (tmp_path / "maskaudit.toml").write_text(
        '[checks.empty-mask]\nseverity = "info"\n[checks.M003]\nseverity = "info"\n')
    assert scan(manifest, tmp_path / "out", "--severity", "empty_mask=error", "--severity", "m004=warning") == 1
    data = saved(tmp_path / "out")
    assert data["settings"]["severities"] == {  # type: ignore[index]
        "empty-mask": "error", "full-mask": "info", "tiny-foreground": "warning"}
    assert scan(manifest, tmp_path / "out", "--severity", "empty-mask=warning,full-mask=error") == 0


def test_ignore_index_no_mask_type_holds_is_a_finding(manifest: Path, tmp_path: Path) -> None:
    assert scan(manifest, tmp_path / "out", "--ignore-index", "300") == 1
    findings = [f for f in saved(tmp_path / "out")["findings"] if f["check"] == "ignore-index-out-of-range"]  # type: ignore[attr-defined]
    assert len(findings) == 1 and "300" in findings[0]["message"] and "uint8" in findings[0]["message"]
    assert scan(manifest, tmp_path / "out", "--ignore-index", "255") == 0


def test_ignore_index_that_a_wider_mask_holds_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b")])
    mask = np.zeros((16, 16), dtype=np.uint16)
    mask[2:8, 2:8] = 1
    mask[0, :] = 300
    write_png(tmp_path / "data" / "masks" / "a.png", mask)
    write_png(tmp_path / "data" / "masks" / "b.png", mask)
    assert scan(manifest, tmp_path / "out", "--ignore-index", "300", "--select", "S007") == 0
    assert saved(tmp_path / "out")["findings"] == []


def test_workers_are_capped_at_the_usable_cores_and_the_report_says_so(manifest: Path, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    note = f"workers: 1000 requested, {default_workers()} used (the usable cores)"
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out"), "--workers", "1000"]) == 0
    assert f"note: {note}" in capsys.readouterr().out
    assert note in saved(tmp_path / "out")["notes"]  # type: ignore[operator]
    assert note in (tmp_path / "out" / "report.md").read_text()


def test_no_split_column_says_leakage_checks_are_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b")])
    frame = pd.read_csv(manifest).drop(columns=["split"])
    write_manifest(manifest, frame.to_dict("records"))
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    expected = (f"no split column: leakage checks off; columns used: image=image_path, mask=mask_path, id=id, "
                f"root: {manifest.parent}, configuration: none")
    assert f"note: {expected}" in out
    assert expected in (tmp_path / "out" / "report.md").read_text()
    data = saved(tmp_path / "out")
    assert data["notes"] == [expected]
    assert data["manifest"]["root"] == str(manifest.parent) and data["manifest"]["config"] is None  # type: ignore[index]


@pytest.mark.parametrize(("text", "value"), [("1073741824", 1 << 30), ("2GiB", 2 << 30), ("500M", 500_000_000),
                                              ("300M", 300_000_000), ("64 KiB", 65536), ("1.5G", 1_500_000_000)])
def test_sizes_accept_integers_and_suffixes(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "0", "-1", "1e9", "2GB2", "big", "0.1"])
def test_sizes_reject_what_is_not_a_positive_size(text: str) -> None:
    assert parse_size(text) is None


def test_size_limits_from_the_file_and_flags(tmp_path: Path) -> None:
    source = tmp_path / "maskaudit.toml"
    config = parse_config({"max_file_bytes": "2GiB", "max-pixels": 300_000_000}, source)
    assert config.limits() == Limits(max_file_bytes=2 << 30, max_pixels=300_000_000)
    assert config.merged_with(max_pixels=5).limits() == Limits(max_file_bytes=2 << 30, max_pixels=5)
    assert parse_config({}, source).limits() == Limits()
    with pytest.raises(UsageError, match="max_file_bytes = 'huge' is not allowed"):
        parse_config({"max_file_bytes": "huge"}, source)


def test_python_api_raises_usage_errors_that_are_value_errors(manifest: Path) -> None:
    with pytest.raises(UsageError, match="labels 'a' is not an integer mask value"):
        maskaudit.audit(manifest, labels=["a"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="fail_on='sometimes'"):
        maskaudit.audit(manifest, fail_on="sometimes")
    with pytest.raises(ValueError, match="workers=0"):
        maskaudit.audit(manifest, workers=0)
    assert maskaudit.audit(manifest, labels=[0, 1], ignore_index=255).rows_kept == 3


def test_limits_from_flags_win_and_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "maskaudit.toml").write_text('max_file_bytes = "1MiB"\nmax_pixels = 1000\n')
    assert scan(DEMO, tmp_path / "out", "--max-pixels", "300M") == 1
    settings = saved(tmp_path / "out")["settings"]
    assert (settings["max_file_bytes"], settings["max_pixels"]) == (1 << 20, 300_000_000)  # type: ignore[index]
