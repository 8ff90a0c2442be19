"""The facts cache on real files: unchanged files are not read, edits are always seen, damage is recovered."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from maskaudit import cache as facts_cache
from maskaudit import scan
from maskaudit.cache import DATABASE_NAME, STATUS_DTYPE, FactsCache, info
from maskaudit.cli import run
from maskaudit.limits import Limits
from maskaudit.scan import RowSpec, measure_row

ROWS = 6


def dataset(folder: Path, rows: int = ROWS, mask_suffix: str = ".png") -> Path:
    """Images as PNG and 0/1 masks (PNG, or .npy whose size a value edit keeps), a CSV manifest beside them."""
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    lines = ["image,mask,split"]
    for i in range(rows):
        rng = np.random.default_rng(i)
        cv2.imwrite(str(folder / "images" / f"{i}.png"), rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
        mask = np.zeros((32, 32), np.uint8)
        mask[4 : 10 + i, 4:20] = 1
        if mask_suffix == ".npy":
            np.save(folder / "masks" / f"{i}.npy", mask)
        else:
            cv2.imwrite(str(folder / "masks" / f"{i}{mask_suffix}"), mask)
        lines.append(f"images/{i}.png,masks/{i}{mask_suffix},{'val' if i % 3 == 0 else 'train'}")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def age(seconds: float = facts_cache.RACY_NS / 1e9 + 0.2) -> None:
    """Let files just written age past the window in which their status is not trusted (no timing is asserted)."""
    time.sleep(seconds)


def specs(rows: int = ROWS) -> list[RowSpec]:
    return [RowSpec(i, f"images/{i}.png", f"masks/{i}.png", None, None, None, None) for i in range(rows)]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Every file the scan reads and decodes, by path."""
    calls: dict[str, list[str]] = {"read": [], "decode": []}
    real_read, real_decode = scan.read_many, scan.decode

    def read(founds: Any, *args: Any) -> Any:
        calls["read"].extend(found.full for found in founds)
        return real_read(founds, *args)

    def decode(content: Any, *args: Any) -> Any:
        calls["decode"].append(content.full)
        return real_decode(content, *args)

    monkeypatch.setattr(scan, "read_many", read)
    monkeypatch.setattr(scan, "decode", decode)
    return calls


def measure_all(root: Path, cache: FactsCache | None, limits: Limits = Limits()) -> list[Any]:
    facts = [measure_row(spec, root, limits, cache) for spec in specs()]
    if cache is not None:
        cache.close()
    return facts


def report(out: Path) -> dict[str, Any]:
    return json.loads((out / "report.json").read_text())  # type: ignore[no-any-return]


def test_unchanged_files_are_not_read_and_give_the_same_facts(tmp_path: Path,
                                                              counted: dict[str, list[str]]) -> None:
    dataset(tmp_path / "data")
    age()
    root, folder = tmp_path / "data", tmp_path / "cache"
    cold = measure_all(root, FactsCache(folder))
    assert len(counted["read"]) == len(counted["decode"]) == 2 * ROWS
    counted["read"].clear(), counted["decode"].clear()
    warm_cache = FactsCache(folder)
    warm = measure_all(root, warm_cache)
    assert counted["read"] == [] and counted["decode"] == []
    assert warm == cold == measure_all(root, None)
    assert warm_cache.stats().unchanged == 2 * ROWS


def test_a_file_written_just_before_its_read_is_read_again_but_not_decoded(tmp_path: Path,
                                                                            counted: dict[str, list[str]]) -> None:
    dataset(tmp_path / "data")  # no ageing: a second write in the same clock tick would keep the status
    root, folder = tmp_path / "data", tmp_path / "cache"
    measure_all(root, FactsCache(folder))
    counted["read"].clear(), counted["decode"].clear()
    second = FactsCache(folder)
    measure_all(root, second)
    assert len(counted["read"]) == 2 * ROWS and counted["decode"] == []
    assert second.stats().same_content == 2 * ROWS


def test_same_content_elsewhere_is_not_decoded_again(tmp_path: Path, counted: dict[str, list[str]]) -> None:
    dataset(tmp_path / "data")
    copy = tmp_path / "copy"
    dataset(copy)
    folder = tmp_path / "cache"
    first = measure_all(tmp_path / "data", FactsCache(folder))
    counted["decode"].clear()
    assert measure_all(copy, FactsCache(folder)) == first
    assert counted["decode"] == []


def test_another_limit_is_another_entry(tmp_path: Path, counted: dict[str, list[str]]) -> None:
    dataset(tmp_path / "data")
    folder = tmp_path / "cache"
    measure_all(tmp_path / "data", FactsCache(folder))
    counted["decode"].clear()
    small = measure_all(tmp_path / "data", FactsCache(folder), Limits(max_pixels=100))
    assert all(row.image is None and "max-pixels" in row.image_problem.message for row in small)
    measure_all(tmp_path / "data", FactsCache(folder), Limits(max_pixels=10_000))
    assert len(counted["decode"]) == 2 * ROWS  # measured again: facts stored under one limit are not reused


def test_an_edit_in_place_with_the_mtime_restored_is_reported(tmp_path: Path) -> None:
    manifest = dataset(tmp_path / "data", mask_suffix=".npy")
    cache_dir = tmp_path / "cache"
    age()
    args = ["scan", str(manifest), "--quiet", "--cache-dir", str(cache_dir), "--labels", "0,1"]
    assert run([*args, "--out", str(tmp_path / "first")]) == 0
    mask = tmp_path / "data" / "masks" / "2.npy"
    before = os.stat(mask)
    with mask.open("r+b") as handle:  # one label value changed in place: the size stays
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([7]))
    os.utime(mask, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(mask)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    assert run([*args, "--out", str(tmp_path / "second")]) == 1
    found = [f for f in report(tmp_path / "second")["findings"] if f["check"] == "unexpected-label"]
    assert [f["path"] for f in found] == ["masks/2.npy"] and "7" in found[0]["message"]
    last = info(cache_dir).last_run
    assert last is not None and last.unchanged == 2 * ROWS - 1  # every other file came from the index


def test_an_edit_to_the_same_size_with_the_mtime_restored_is_read_again(tmp_path: Path,
                                                                         counted: dict[str, list[str]]) -> None:
    dataset(tmp_path / "data")
    age()
    root, folder = tmp_path / "data", tmp_path / "cache"
    measure_all(root, FactsCache(folder))
    image = root / "images" / "1.png"
    before = os.stat(image)
    swapped = root / "images" / "4.png"  # same dimensions, other pixels: cut or padded to the same size
    data = swapped.read_bytes()
    image.write_bytes(data[: before.st_size].ljust(before.st_size, b"\0"))
    os.utime(image, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(image)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    counted["read"].clear()
    measure_all(root, FactsCache(folder))
    assert counted["read"] == [str(image)]


def test_different_labels_on_a_warm_cache_judge_again(tmp_path: Path) -> None:
    manifest = dataset(tmp_path / "data")
    age()
    base = ["scan", str(manifest), "--quiet", "--cache-dir", str(tmp_path / "cache")]
    assert run([*base, "--labels", "0,1", "--out", str(tmp_path / "a")]) == 0
    assert run([*base, "--labels", "0,2", "--out", str(tmp_path / "b")]) == 1
    assert info(tmp_path / "cache").last_run.unchanged == 2 * ROWS  # type: ignore[union-attr]
    assert {f["check"] for f in report(tmp_path / "b")["findings"]} >= {"unexpected-label"}
    assert report(tmp_path / "a")["settings"]["cache"] is True


def _worker(root: str, folder: str, queue: Any) -> None:
    cache = FactsCache(Path(folder))
    facts = [measure_row(spec, Path(root), Limits(), cache) for spec in specs() * 3]
    cache.close()
    queue.put(repr(facts))


def test_two_processes_write_the_same_cache_at_once(tmp_path: Path) -> None:
    dataset(tmp_path / "data")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_worker, args=(str(tmp_path / "data"), str(tmp_path / "cache"), queue))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    assert results[0] == results[1] == repr(measure_all(tmp_path / "data", None) * 3)
    assert info(tmp_path / "cache").facts == 2 * ROWS


def test_a_corrupt_entry_is_deleted_and_measured_again(tmp_path: Path, counted: dict[str, list[str]]) -> None:
    dataset(tmp_path / "data")
    folder = tmp_path / "cache"
    first = measure_all(tmp_path / "data", FactsCache(folder))
    with sqlite3.connect(folder / DATABASE_NAME) as db:
        db.execute("UPDATE facts SET facts = '[\"png\", 3'")
        db.execute("UPDATE facts SET facts = '{}' WHERE rowid = 1")
    counted["decode"].clear()
    assert measure_all(tmp_path / "data", FactsCache(folder)) == first
    assert len(counted["decode"]) == 2 * ROWS
    with sqlite3.connect(folder / DATABASE_NAME) as db:
        texts = [row[0] for row in db.execute("SELECT facts FROM facts")]
    assert len(texts) == 2 * ROWS and all(text.startswith("[") and text.endswith("]") for text in texts)


def test_a_corrupt_database_is_moved_aside_with_one_warning(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    manifest = dataset(tmp_path / "data")
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / DATABASE_NAME).write_bytes(b"this is not a database" * 100)
    assert run(["scan", str(manifest), "--quiet", "--cache-dir", str(folder), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "warning" in err and "damaged" in err and "Traceback" not in err
    assert (folder / (DATABASE_NAME + ".damaged")).read_bytes().startswith(b"this is not")
    assert info(folder).facts == 2 * ROWS


def test_an_unwritable_cache_folder_is_one_warning_and_a_full_scan(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    manifest = dataset(tmp_path / "data")
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    code = run(["scan", str(manifest), "--quiet", "--cache-dir", str(blocker / "cache"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 0 and err.count("\n") == 1 and "cache" in err and "--no-cache" in err


def test_pruning_keeps_the_size_bound_and_the_latest_entries(tmp_path: Path) -> None:
    dataset(tmp_path / "data", rows=40)
    folder = tmp_path / "cache"
    bound = 6000
    first = FactsCache(folder, max_bytes=bound)
    for spec in [RowSpec(i, f"images/{i}.png", f"masks/{i}.png", None, None, None, None) for i in range(40)]:
        measure_row(spec, tmp_path / "data", Limits(), first)
    first.close()
    found = info(folder)
    assert 0 < found.content_bytes <= bound
    with sqlite3.connect(folder / DATABASE_NAME) as db:
        kept = {row[0] for row in db.execute("SELECT facts FROM facts")}
    last = measure_row(RowSpec(0, "images/39.png", "masks/39.png", None, None, None, None), tmp_path / "data")
    assert facts_cache.dumps(last.mask) in kept  # the newest entries stay


def test_no_cache_touches_no_cache_folder(tmp_path: Path, cache_home: Path) -> None:
    manifest = dataset(tmp_path / "data")
    before = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert run(["scan", str(manifest), "--quiet", "--no-cache", "--out", str(tmp_path / "o")]) == 0
    assert not (cache_home / "maskaudit").exists()
    assert report(tmp_path / "o")["settings"]["cache"] is False
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == before


def test_the_default_cache_is_the_users_never_beside_the_data(tmp_path: Path, cache_home: Path) -> None:
    manifest = dataset(tmp_path / "data")
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert run(["scan", str(manifest), "--quiet", "--out", str(tmp_path / "o")]) == 0
    assert (cache_home / "maskaudit" / DATABASE_NAME).is_file()
    after = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if not p.is_relative_to(tmp_path / "o"))
    assert after == [*before]


def test_cache_info_and_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = dataset(tmp_path / "data")
    folder = tmp_path / "cache"
    assert run(["cache", "info", "--cache-dir", str(folder)]) == 0
    assert "empty" in capsys.readouterr().out and not folder.exists()
    assert run(["scan", str(manifest), "--quiet", "--cache-dir", str(folder), "--out", str(tmp_path / "o")]) == 0
    assert run(["cache", "info", "--cache-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"entries: {2 * ROWS} facts" in out and "last scan: cache: 0 of 12 files unchanged" in out
    assert run(["cache", "clear", "--cache-dir", str(folder)]) == 0
    assert not (folder / DATABASE_NAME).exists()


def test_config_turns_the_cache_off_and_moves_it(tmp_path: Path, cache_home: Path) -> None:
    manifest = dataset(tmp_path / "data")
    config = tmp_path / "maskaudit.toml"
    config.write_text('cache_dir = "elsewhere"\ncache_max_bytes = "10M"\n')
    assert run(["scan", str(manifest), "--quiet", "--config", str(config), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "elsewhere" / DATABASE_NAME).is_file() and not (cache_home / "maskaudit").exists()
    config.write_text("cache = false\n")
    assert run(["scan", str(manifest), "--quiet", "--config", str(config), "--out", str(tmp_path / "p")]) == 0
    assert report(tmp_path / "p")["settings"]["cache"] is False


def test_a_partition_known_whole_is_judged_from_the_index_and_an_edit_is_not(tmp_path: Path) -> None:
    from maskaudit.manifest import detect_columns, open_manifest
    from maskaudit.partitions import iter_tasks, known_partition, map_partition
    from maskaudit.settings import Settings

    manifest = open_manifest(dataset(tmp_path / "data", mask_suffix=".npy"))
    age()
    folder = tmp_path / "cache"

    def tasks(cache: FactsCache) -> list[Any]:
        return list(iter_tasks(manifest, detect_columns(manifest, {}), tmp_path / "data", Limits(),
                               Settings(labels=(0.0, 1.0)), 2, cache))

    assert [known_partition(task) for task in tasks(FactsCache(folder))] == [None, None, None]  # nothing indexed
    cold = [map_partition(task) for task in tasks(FactsCache(folder))]
    mask = tmp_path / "data" / "masks" / "3.npy"  # row 3: the second partition
    before = os.stat(mask)
    with mask.open("r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([7]))
    os.utime(mask, ns=(before.st_atime_ns, before.st_mtime_ns))
    warm_cache = FactsCache(folder)
    warm = [known_partition(task) for task in tasks(warm_cache)]
    assert warm[1] is None  # the edit moved the mask's ctime: that partition is measured again
    assert warm[0] is not None and warm[2] is not None
    for found, expected in ((warm[0], cold[0]), (warm[2], cold[2])):
        assert found.facts.equals(expected.facts) and found.findings == expected.findings
    assert warm_cache.stats().unchanged == 8  # the two partitions known whole; nothing counted for the third


def _tasks(manifest_path: Path, root: Path, cache: FactsCache, rows: int = 2) -> list[Any]:
    from maskaudit.manifest import detect_columns, open_manifest
    from maskaudit.partitions import iter_tasks
    from maskaudit.settings import Settings

    manifest = open_manifest(manifest_path)
    return list(iter_tasks(manifest, detect_columns(manifest, {}), root, Limits(), Settings(labels=(0.0, 1.0)),
                           rows, cache))


def test_a_partition_entry_alone_gives_an_unchanged_partition_and_a_touched_file_misses_it(tmp_path: Path) -> None:
    from maskaudit.partitions import known_partition, map_partition

    manifest = dataset(tmp_path / "data")
    age()
    root, folder = tmp_path / "data", tmp_path / "cache"
    cold = [map_partition(task) for task in _tasks(manifest, root, FactsCache(folder))]
    assert info(folder).partitions == 3
    with sqlite3.connect(folder / DATABASE_NAME) as db:  # the file index gone: only the partition entries remain
        db.execute("DELETE FROM files")
        db.execute("DELETE FROM facts")
    warm_cache = FactsCache(folder)
    warm = [known_partition(task) for task in _tasks(manifest, root, warm_cache)]
    for found, expected in zip(warm, cold, strict=True):
        assert found is not None and found.facts.equals(expected.facts) and found.findings == expected.findings
        for name in ("keys", "aggregates"):
            ours, theirs = getattr(found, name), getattr(expected, name)
            for part in dataclasses.fields(ours):
                assert repr(getattr(ours, part.name)) == repr(getattr(theirs, part.name)), (name, part.name)
    assert warm_cache.stats().unchanged == 2 * ROWS
    image = root / "images" / "4.png"
    os.utime(image, ns=(os.stat(image).st_atime_ns, os.stat(image).st_mtime_ns + 1))
    again = [known_partition(task) for task in _tasks(manifest, root, FactsCache(folder))]
    assert again[0] is not None and again[1] is not None and again[2] is None


def test_a_corrupt_partition_entry_is_replaced_from_the_file_index(tmp_path: Path) -> None:
    from maskaudit.partitions import known_partition, map_partition

    manifest = dataset(tmp_path / "data")
    age()
    root, folder = tmp_path / "data", tmp_path / "cache"
    cold = [map_partition(task) for task in _tasks(manifest, root, FactsCache(folder))]
    with sqlite3.connect(folder / DATABASE_NAME) as db:
        db.execute("UPDATE partitions SET facts = x'00ff00ff'")
    warm = [known_partition(task) for task in _tasks(manifest, root, FactsCache(folder))]
    assert all(w is not None and w.facts.equals(c.facts) for w, c in zip(warm, cold, strict=True))
    with sqlite3.connect(folder / DATABASE_NAME) as db:
        blobs = [row[0] for row in db.execute("SELECT facts FROM partitions")]
    assert len(blobs) == 3 and all(blob != b"\x00\xff\x00\xff" for blob in blobs)


def test_partition_entries_skip_missing_and_racy_files_and_keep_rows_without_a_path(tmp_path: Path) -> None:
    from maskaudit.partitions import map_partition

    manifest = dataset(tmp_path / "data")
    lines = manifest.read_text().splitlines()
    lines[1] = "images/0.png,,val"  # row 0 has no mask: a row the entry keeps
    lines[4] = "images/3.png,masks/gone.png,val"  # row 3's mask does not exist: its partition gets no entry
    manifest.write_text("\n".join(lines) + "\n")
    root = tmp_path / "data"
    [map_partition(task) for task in _tasks(manifest, root, FactsCache(tmp_path / "racy"))]
    assert info(tmp_path / "racy").partitions == 0  # every file just written: no status is trusted yet
    age()
    results = [map_partition(task) for task in _tasks(manifest, root, FactsCache(tmp_path / "cache"))]
    assert info(tmp_path / "cache").partitions == 2
    from maskaudit.partitions import known_partition

    warm = [known_partition(task) for task in _tasks(manifest, root, FactsCache(tmp_path / "cache"))]
    assert warm[0] is not None and warm[0].facts.equals(results[0].facts)
    assert warm[1] is not None and warm[1].facts.equals(results[1].facts)  # from the file index: still no entry
    assert info(tmp_path / "cache").partitions == 2


def test_a_partition_without_an_entry_costs_no_file_status(tmp_path: Path) -> None:
    from maskaudit.partitions import map_partition

    manifest = dataset(tmp_path / "data")
    age()
    root, folder = tmp_path / "data", tmp_path / "cache"
    [map_partition(task) for task in _tasks(manifest, root, FactsCache(folder))]
    cache, asked = FactsCache(folder), []

    def statuses(found: Any) -> Any:
        asked.append(1)
        return found

    with sqlite3.connect(folder / DATABASE_NAME) as db:
        key, blob = db.execute("SELECT key, statuses FROM partitions LIMIT 1").fetchone()
    stored = np.frombuffer(blob, STATUS_DTYPE)
    assert cache.known_partition("no such key", lambda: statuses(stored)) is None and not asked
    assert cache.known_partition(key, lambda: statuses(stored)) is not None and asked == [1]
    assert cache.known_partition(key, lambda: statuses(None)) is None  # a file gone since: not known
    moved = stored.copy()
    moved["mtime_ns"][0] += 1
    assert cache.known_partition(key, lambda: statuses(moved)) is None
