"""A partition read from a bucket fetches its next chunk while it decodes the one before: same results as disk."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from maskaudit import storage
from maskaudit.limits import Limits
from maskaudit.loading import OBJECT_HEAD_BYTES
from maskaudit.manifest import detect_columns, open_manifest
from maskaudit.partitions import CHUNK_ROWS, PartitionResult, iter_tasks, map_partition
from maskaudit.settings import Settings

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


def _noise_png(side: int) -> bytes:
    """A grey PNG of random pixels: it does not compress, so it is larger than an object's first request."""
    pixels = np.random.default_rng(7).integers(0, 256, (side, side), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def _dataset() -> tuple[dict[str, bytes], str]:
    """Files and a manifest of five chunks' rows: the demo's, a large image, a missing and a cut object and an
    empty one spread over the chunks."""
    files = {f"{kind}/{path.name}": path.read_bytes() for kind in ("images", "masks")
             for path in sorted((DEMO / kind).iterdir())}
    image = next(name for name in files if name.startswith("images/"))
    files["images/large.png"] = _noise_png(640)
    assert len(files["images/large.png"]) > OBJECT_HEAD_BYTES
    files["images/cut.png"] = files[image][: len(files[image]) // 2]
    files["images/empty.png"] = b""
    images = sorted(name for name in files if name.startswith("images/train_"))
    pairs = [(name, name.replace("images/", "masks/")) for name in images]
    pairs = [(i, m if m in files else None) for i, m in pairs]
    rows = [pairs[n % len(pairs)] for n in range(CHUNK_ROWS * 4 + 11)]
    shuffled = random.Random(3)
    for special in ("images/large.png", "images/cut.png", "images/empty.png", "images/absent.png", "images/large.png"):
        at = shuffled.randrange(len(rows))
        rows[at] = (special, rows[at][1])
    rows[CHUNK_ROWS] = (rows[CHUNK_ROWS][0], "masks/absent.png")  # the first row of the second chunk
    manifest = "image,mask\n" + "".join(f"{i},{m or ''}\n" for i, m in rows)
    return files, manifest


def _partition(manifest_path: str) -> PartitionResult:
    manifest = open_manifest(manifest_path)
    columns = detect_columns(manifest, {})
    tasks = list(iter_tasks(manifest, columns, manifest.base, Limits(), Settings(), 10_000))
    assert len(tasks) == 1 and tasks[0].size > 2 * CHUNK_ROWS
    return map_partition(tasks[0])


def _plain(result: PartitionResult, root: str) -> tuple[str, list[tuple[str, int | None, str]]]:
    facts = json.dumps(result.facts.to_pylist(), default=str).replace(root, "<root>/")
    return facts, sorted((f.check, f.row, f.message.replace(root, "<root>/")) for f in result.findings)


def test_a_partition_of_many_chunks_from_a_bucket_gives_the_facts_it_gives_from_disk(s3: Any, tmp_path: Path
                                                                                     ) -> None:
    files, manifest = _dataset()
    s3.mkdir("overlap")
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
        s3.pipe_file(f"overlap/data/{name}", data)
    (tmp_path / "rows.csv").write_text(manifest)
    s3.pipe_file("overlap/data/rows.csv", manifest.encode())
    local = _partition(str(tmp_path / "rows.csv"))
    remote = _partition("s3://overlap/data/rows.csv")
    assert _plain(remote, "s3://overlap/data/") == _plain(local, str(tmp_path) + "/")
    assert remote.size == len(manifest.splitlines()) - 1
    assert {(f.check, f.row) for f in remote.findings if f.check == "mask-not-found"} == {("mask-not-found",
                                                                                         CHUNK_ROWS)}
    assert {"image-not-found", "image-unreadable"} <= {f.check for f in remote.findings}
    large = [row["image"] for row in remote.facts.to_pylist() if row["image_path"] == "images/large.png"]
    assert large and all(image is not None and image["shape"] == [640, 640] for image in large)


def test_the_fork_server_imports_the_backend_without_starting_a_thread() -> None:
    modules = storage.backend_modules(["s3://bucket/rows.csv", "/data", "s3a://other/", "file:///x"])
    assert modules == ("s3fs",)
    assert storage.backend_modules(["/data/rows.csv", "relative/root"]) == ()
    code = ("import threading, maskaudit.partitions\n"
            f"for name in {list(modules)!r}: __import__(name)\n"
            "print(threading.active_count())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
