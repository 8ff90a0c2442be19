"""The real CLI on real files: exit codes, every output file, the filtered manifest's exact rows, bad input."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import maskaudit
from maskaudit.cli import run
from maskaudit.facts import RowFacts

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"
DROPPED_IDS = {
    "case-020", "case-021", "case-022", "case-023", "case-025", "case-026", "case-027", "case-028", "case-032",
    "case-033", "case-034", "case-035", "case-036", "case-037", "case-038", "case-039", "case-046",
}


@pytest.fixture(scope="module")
def demo_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-out")
    assert run(["scan", str(DEMO / "train.parquet"), "--out", str(out), "--quiet"]) == 1
    return out


def load(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "report.json").read_text())


def test_demo_fires_every_row_and_split_check(demo_scan: Path) -> None:
    from tests.checks.test_registry import PUBLIC_NAMES

    report = load(demo_scan)
    fired = {f["check"] for f in report["findings"]}
    assert fired == PUBLIC_NAMES
    manifest = pd.read_parquet(DEMO / "train.parquet")
    for finding in report["findings"]:
        if finding["row"] is not None:
            note = manifest.iloc[finding["row"]]["note"]
            assert finding["check"] in note or finding["check"] in {"class-imbalance", "duplicate-row"} \
                or (finding["check"] == "empty-mask" and "empty" in note) \
                or (finding["check"] == "unexpected-label" and "lossy" in note), (finding, note)


def test_report_json_has_the_documented_shape(demo_scan: Path) -> None:
    report = load(demo_scan)
    assert report["schema_version"] == 1
    assert report["tool"]["version"] == maskaudit.__version__
    assert report["manifest"]["rows"] == 47 and len(report["manifest"]["content_hash"]) == 32
    summary = report["summary"]
    assert summary["rows_kept"] == 30 and summary["rows_dropped"] == 17
    assert summary["by_severity"]["error"] >= 19 and summary["failed"] is True
    assert set(report["splits"]) == {"train", "val", "test", "holdout", "external"}
    train = report["splits"]["train"]
    assert train["encoding"] == "uint8 0-255" and "z-scored" in train["encodings"]
    assert 0 < train["foreground_share"]["1"] < 1 and train["label_histogram"]["0"] > 0
    finding = report["findings"][0]
    assert set(finding) >= {"code", "check", "severity", "row", "split", "path", "message", "details"}
    leak = next(f for f in report["findings"] if f["check"] == "split-leakage" and f["details"]["kind"] == "group")
    assert leak["split"] == "val" and leak["details"]["home_split"] == "train"
    imbalance = next(f for f in report["findings"] if f["check"] == "class-imbalance")
    assert imbalance["details"]["pos_weight"] > 100 and imbalance["details"]["bce_constant_prediction"] < 0.05


def test_filtered_manifest_has_exactly_the_clean_rows(demo_scan: Path) -> None:
    original = pd.read_parquet(DEMO / "train.parquet")
    filtered = pd.read_parquet(demo_scan / "filtered.parquet")
    assert list(filtered.columns) == list(original.columns)
    expected = original[~original["id"].isin(DROPPED_IDS)].reset_index(drop=True)
    for column in ("image_path", "mask_path"):
        assert [os.path.normpath(demo_scan / p) for p in filtered.pop(column)] == \
            [os.path.normpath(DEMO / p) for p in expected.pop(column)]
    pd.testing.assert_frame_equal(filtered, expected)


def test_keep_paths_writes_them_verbatim(tmp_path: Path) -> None:
    assert run(["scan", str(DEMO / "train.parquet"), "--out", str(tmp_path / "out"), "-q", "--keep-paths"]) == 1
    original = pd.read_parquet(DEMO / "train.parquet")
    expected = original[~original["id"].isin(DROPPED_IDS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "filtered.parquet"), expected)


def test_facts_file_holds_one_row_per_manifest_row(demo_scan: Path) -> None:
    facts = pq.read_table(demo_scan / "facts.parquet").to_pylist()
    assert len(facts) == 47
    by_row = {f["row"]: f for f in facts}
    assert by_row[29]["mask"]["values"] == [0.0]
    assert by_row[38]["image"]["nan"] == 16 and by_row[38]["image"]["inf"] == 1
    assert by_row[0]["mask"]["values"] == [0.0, 1.0] and by_row[0]["mask"]["shape"] == [64, 64]
    assert by_row[15]["mask"]["format"] == "png-palette"
    assert by_row[22]["mask"] is None and by_row[22]["mask_problem"]["message"].endswith("does not exist")
    assert set(facts[0]) == {f.name for f in dataclasses.fields(RowFacts)}  # facts only: findings have their file
    findings = pq.read_table(demo_scan / "findings.parquet", columns=["check", "row"]).to_pylist()
    assert {"check": "empty-mask", "row": 29} in findings and {"check": "non-finite-image", "row": 38} in findings


def test_markdown_report_and_terminal_summary(demo_scan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    markdown = (demo_scan / "report.md").read_text()
    assert markdown.startswith("# maskaudit report\n\n**FAIL")
    assert "### shape-mismatch (M005, error): 1" in markdown
    assert run(["scan", str(DEMO / "train.parquet"), "--out", str(demo_scan / "again")]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("FAIL: ")
    assert "filtered manifest:" in out


def test_same_input_same_report(demo_scan: Path, tmp_path: Path) -> None:
    assert run(["scan", str(DEMO / "train.parquet"), "--out", str(tmp_path), "--quiet", "--workers", "1"]) == 1
    first, second = load(demo_scan), load(tmp_path)
    first.pop("outputs"), second.pop("outputs")
    assert first == second


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--fail-on", "never"], 0),
        (["--fail-on", "warning"], 1),
        (["--select", "empty-mask,M003", "--fail-on", "warning"], 1),
        (["--select", "tiny-foreground"], 0),
        (["--ignore", "R001,R002,R003,R005,M001,M005,M006,M007,M008,I001,I002,I003,S001,S006"], 0),
    ],
)
def test_exit_codes_follow_fail_on_and_selection(tmp_path: Path, args: list[str], code: int) -> None:
    assert run(["scan", str(DEMO / "train.parquet"), "--out", str(tmp_path), "-q", *args]) == code


def test_drop_also_removes_rows_with_named_checks(tmp_path: Path) -> None:
    assert run(["scan", str(DEMO / "train.parquet"), "--out", str(tmp_path), "-q", "--drop", "empty-mask"]) == 1
    filtered = pd.read_parquet(tmp_path / "filtered.parquet")
    report = load(tmp_path)
    empty_rows = {f["row"] for f in report["findings"] if f["check"] == "empty-mask"}
    assert empty_rows and not empty_rows & set(pd.read_parquet(DEMO / "train.parquet").index[filtered.index])
    assert len(filtered) == 30 - len(empty_rows)


def test_default_out_dir_is_beside_the_manifest(tmp_path: Path) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns("*.maskaudit"))
    before = (copy / "train.parquet").read_bytes()
    assert run(["scan", str(copy / "train.parquet"), "-q"]) == 1
    assert (copy / "train.maskaudit" / "report.json").is_file()
    assert (copy / "train.parquet").read_bytes() == before


def small_dataset(tmp_path: Path, kind: str) -> Path:
    (tmp_path / "data").mkdir()
    for i in range(3):
        mask = np.zeros((16, 16), np.uint8)
        mask[4:9, 4:9] = 1
        cv2.imwrite(str(tmp_path / "data" / f"m{i}.png"), mask)
        cv2.imwrite(str(tmp_path / "data" / f"i{i}.png"), np.full((16, 16), 40 + i * 50, np.uint8) + mask * 9)
    frame = pd.DataFrame({"image": [f"data/i{i}.png" for i in range(3)] + ["data/none.png"],
                          "mask": [f"data/m{i}.png" for i in range(3)] + ["data/m0.png"],
                          "weight": ["1.0", "0.50", "x,y", "2"]})
    path = tmp_path / f"manifest.{kind}"
    if kind == "csv":
        frame.to_csv(path, index=False)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict("records")))
    return path


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_csv_and_jsonl_manifests_round_trip_in_their_own_format(tmp_path: Path, kind: str) -> None:
    path = small_dataset(tmp_path, kind)
    assert run(["scan", str(path), "--out", str(tmp_path / "out"), "-q", "--keep-paths"]) == 1
    filtered = (tmp_path / "out" / f"filtered.{kind}").read_text().splitlines()
    original = path.read_text().splitlines()
    assert filtered == original[: len(original) - 1]
    report = load(tmp_path / "out")
    assert [f["check"] for f in report["findings"]] == ["image-not-found"]


def read_rows(path: Path) -> list[dict[str, str]]:
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_dict("records")
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str).to_dict("records")
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_filtered_manifest_resolves_from_its_own_folder(tmp_path: Path, kind: str) -> None:
    if kind == "parquet":
        path = small_dataset(tmp_path, "csv")
        pd.read_csv(path, dtype=str).to_parquet(tmp_path / "manifest.parquet")
        path = tmp_path / "manifest.parquet"
    else:
        path = small_dataset(tmp_path, kind)
    assert run(["scan", str(path), "-q"]) == 1
    filtered = tmp_path / "manifest.maskaudit" / f"filtered.{kind}"
    rows = read_rows(filtered)
    assert len(rows) == 3
    for row in rows:
        assert (filtered.parent / row["image"]).is_file() and (filtered.parent / row["mask"]).is_file()
        assert not os.path.isabs(row["image"])
    assert [r["weight"] for r in rows] == ["1.0", "0.50", "x,y"]
    assert run(["scan", str(filtered), "-q"]) == 0
    again = filtered.parent / "filtered.maskaudit"
    assert load(again)["findings"] == [] and (again / f"filtered.{kind}").is_file()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("absent.parquet", None, "does not exist"),
        ("empty.csv", b"", "is empty"),
        ("bad.parquet", b"garbage", "not a readable parquet"),
        ("cols.csv", b"a,b\n1,2\n", "columns found: a, b"),
        ("dup.csv", b"image_path,mask_path,mask_path\na,b,c\n", "names column(s) 'mask_path' more than once"),
    ],
    ids=["nonexistent", "empty", "unreadable", "missing-column", "duplicate-column"],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert run(["scan", str(path), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize(
    "args",
    [["--fail-on", "sometimes"], ["--select", "no-such-check"], ["--labels", "0,0"], ["--bogus"], ["--workers", "0"]],
)
def test_bad_options_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    assert run(["scan", str(DEMO / "train.parquet"), "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("maskaudit: error: ")


def test_header_only_manifest_reports_no_usable_rows(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("image_path,mask_path\n")
    assert run(["scan", str(path), "--out", str(tmp_path / "out"), "-q"]) == 1
    assert [f["check"] for f in load(tmp_path / "out")["findings"]] == ["no-usable-rows"]
    assert (tmp_path / "out" / "filtered.csv").read_text() == "image_path,mask_path\n"


def test_python_api_and_module_entry_point(tmp_path: Path) -> None:
    report = maskaudit.audit(DEMO / "train.parquet", labels=[0, 1], workers=2)
    assert report.failed() and report.manifest.rows == 47
    declared = [f for f in report.examples if f.check == "unexpected-label"]
    assert {f.row for f in declared} >= {34}
    result = subprocess.run([sys.executable, "-m", "maskaudit", "explain", "lossy-mask"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and "How to fix:" in result.stdout


def test_outputs_are_readable_like_any_new_file(demo_scan: Path) -> None:
    import os

    umask = os.umask(0)
    os.umask(umask)
    for name in ("report.json", "report.md", "filtered.parquet", "facts.parquet"):
        assert (demo_scan / name).stat().st_mode & 0o777 == 0o666 & ~umask


def test_parquet_parts_that_disagree_exit_2_naming_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    pd.DataFrame({"image_path": ["a.png"], "mask_path": ["m.png"], "score": ["high"]}).to_parquet(
        folder / "part-0.parquet")
    pd.DataFrame({"image_path": ["b.png"], "mask_path": ["m.png"], "score": [0.5]}).to_parquet(
        folder / "part-1.parquet")
    assert run(["scan", str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "part-0.parquet and" in err and "part-1.parquet disagree on column 'score'" in err
    assert err.count("\n") == 1
