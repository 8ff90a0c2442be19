"""The outputs of a run form one set: checked before the scan, locked, staged, swapped in whole or not at all."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from maskaudit.api import run_audit
from maskaudit.cli import run
from maskaudit.errors import UsageError
from maskaudit.manifest import OUTPUT_MARKER, ManifestChanged
from maskaudit.output import prepare_output, write_outputs, write_text_set
from tests.outputs.dataset import csv_manifest, leftovers, snapshot

SCAN_SET = {"report.json", "report.md", "report.html", "report.junit.xml", "facts.parquet", "findings.parquet",
            "filtered.csv", OUTPUT_MARKER}


def test_a_scan_writes_exactly_the_named_set_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    manifest = csv_manifest(tmp_path, 3)
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out"), "-q"]) == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} == SCAN_SET
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["outputs"]["filtered_manifest"] == str(tmp_path / "out" / "filtered.csv")
    assert report["outputs"]["facts"] == str(tmp_path / "out" / "facts.parquet")
    assert leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o777 & ~umask


def test_a_second_run_replaces_the_whole_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(["scan", str(csv_manifest(tmp_path, 3)), "--out", str(out), "-q"]) == 0
    (out / "stale-from-an-old-version.csv").write_text("x\n")
    assert run(["scan", str(csv_manifest(tmp_path, 5, "other.csv")), "--out", str(out), "-q"]) == 0
    assert {p.name for p in out.iterdir()} == SCAN_SET
    assert json.loads((out / "report.json").read_text())["manifest"]["rows"] == 5
    assert len(pd.read_csv(out / "filtered.csv")) == 5 and leftovers(tmp_path) == []


def test_a_second_writer_stops_at_once_while_the_first_holds_the_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, out = csv_manifest(tmp_path, 3), tmp_path / "out"
    assert run(["scan", str(manifest), "--out", str(out), "-q"]) == 0
    before = snapshot(out)
    descriptor = os.open(tmp_path / ".out.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert run(["scan", str(manifest), "--out", str(out), "-q"]) == 2
        err = capsys.readouterr().err
        assert f"another maskaudit run is writing to {out}; wait for it or choose another --out" in err
        assert (tmp_path / ".out.lock").exists(), "the refused run must not remove the holder's lock file"
    finally:
        os.close(descriptor)
    assert snapshot(out) == before
    assert leftovers(tmp_path) == [".out.lock"]
    assert run(["scan", str(manifest), "--out", str(out), "-q"]) == 0
    assert leftovers(tmp_path) == []


def bad_out(kind: str, tmp: Path) -> Path:
    if kind == "file":
        (tmp / "file.txt").write_text("x")
        return tmp / "file.txt"
    if kind == "foreign-folder":
        (tmp / "mine").mkdir()
        (tmp / "mine" / "notes.txt").write_text("x")
        return tmp / "mine"
    if kind == "parent-is-a-file":
        (tmp / "blocker").write_text("x")
        return tmp / "blocker" / "out"
    return tmp


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("file", "is a file; name a folder"),
        ("foreign-folder", "holds files maskaudit did not write; choose an empty or new folder"),
        ("parent-is-a-file", "cannot write to"),
        ("manifest-folder", "holds the manifest"),
    ],
)
def test_a_bad_out_is_refused_before_the_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, message: str
) -> None:
    # The manifest has no image column: had the scan started, its column error would be the message.
    manifest = tmp_path / "m.csv"
    manifest.write_text("a,b\n1,2\n")
    out = bad_out(kind, tmp_path)
    before = snapshot(tmp_path)
    assert run(["scan", str(manifest), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "columns found" not in err and err.count("\n") == 1
    assert snapshot(tmp_path) == before and leftovers(tmp_path) == []


def test_out_inside_a_folder_manifest_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    pd.DataFrame({"image_path": ["a.png"], "mask_path": ["m.png"]}).to_parquet(folder / "part-0.parquet")
    assert run(["scan", str(folder), "--out", str(folder / "audit")]) == 2
    assert "is inside the manifest folder" in capsys.readouterr().err
    assert not (folder / "audit").exists() and leftovers(folder) == []


def test_a_manifest_changed_during_the_scan_discards_the_set(tmp_path: Path) -> None:
    manifest, out = csv_manifest(tmp_path, 40), tmp_path / "out"
    assert run(["scan", str(manifest), "--out", str(out), "-q"]) == 0
    before = snapshot(out)
    with prepare_output(out, manifest) as output:
        audit = run_audit(manifest)
        manifest.write_text("image_path,mask_path\n" + "data/a.png,data/a_mask.png\n" * 10)
        with pytest.raises(ManifestChanged, match=f"manifest {manifest} changed during the scan"):
            write_outputs(audit, output)
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_same_rows_but_changed_content_is_also_caught(tmp_path: Path) -> None:
    manifest = csv_manifest(tmp_path, 4)
    with prepare_output(tmp_path / "out", manifest) as output:
        audit = run_audit(manifest)
        manifest.write_text(manifest.read_text().replace("data/a.png", "data/./a.png"))
        with pytest.raises(ManifestChanged):
            write_outputs(audit, output)
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_a_failed_write_leaves_the_previous_set(tmp_path: Path) -> None:
    manifest, out = csv_manifest(tmp_path, 3), tmp_path / "out"
    assert run(["scan", str(manifest), "--out", str(out), "-q"]) == 0
    before = snapshot(out)
    with prepare_output(out, manifest) as output:
        audit = run_audit(manifest)
        assert output.staging is not None
        output.staging.rmdir()  # the staging folder vanishes: every write into it fails
        with pytest.raises(OSError):
            write_outputs(audit, output)
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_replay_files_join_the_scan_set_and_survive_the_next_scan(tmp_path: Path) -> None:
    manifest, out = csv_manifest(tmp_path, 3), tmp_path / "out"
    assert run(["scan", str(manifest), "--out", str(out), "-q"]) == 0
    with prepare_output(out, manifest) as output:
        paths = write_text_set(output, {"replay_md": ("replay.md", "# replay\n"), "replay_json": ("replay.json", "{}")})
    assert paths == {"replay_md": out / "replay.md", "replay_json": out / "replay.json"}
    assert {p.name for p in out.iterdir()} == SCAN_SET | {"replay.md", "replay.json"}
    assert run(["scan", str(manifest), "--out", str(out), "-q"]) == 0
    assert (out / "replay.md").read_text() == "# replay\n" and leftovers(tmp_path) == []


def test_a_lock_taken_twice_in_one_process_is_refused(tmp_path: Path) -> None:
    manifest = csv_manifest(tmp_path, 1)
    with prepare_output(tmp_path / "out", manifest), \
            pytest.raises(UsageError, match="another maskaudit run is writing to"):
        prepare_output(tmp_path / "out", manifest)
    assert leftovers(tmp_path) == []


def test_a_scan_of_the_filtered_manifest_nests_its_set_and_survives_the_next_scan(tmp_path: Path) -> None:
    manifest, out = csv_manifest(tmp_path, 3), tmp_path / "out"
    assert run(["scan", str(manifest), "--out", str(out), "-q"]) == 0
    assert run(["scan", str(out / "filtered.csv"), "-q"]) == 0
    nested = out / "filtered.maskaudit"
    assert {p.name for p in nested.iterdir()} == SCAN_SET
    before = (nested / "report.json").read_bytes()
    assert run(["scan", str(manifest), "--out", str(out), "-q"]) == 0
    assert {p.name for p in out.iterdir()} == SCAN_SET | {"filtered.maskaudit"}
    assert (nested / "report.json").read_bytes() == before and leftovers(tmp_path) == []
