"""Tar shards and embedded-bytes parquet in a bucket served by a real S3 API on loopback: the findings of the
same shards on disk, shards named by brace pattern, glob and list file, thumbnails read from the bucket, and new
shards written back to it."""

from __future__ import annotations

import io
import json
import secrets
import tarfile
from pathlib import Path
from typing import Any

import pytest

from maskaudit.cli import run
from tests.e2e.test_shards import found, write_shards
from tests.embedded.dataset import Row, clean_rows, mask, png, write_embedded


@pytest.fixture
def bucket(s3: Any, tmp_path: Path) -> tuple[str, list[Path]]:
    """The test shards under s3://<a new bucket>/data, with a list file naming them."""
    folder = tmp_path / "shards"
    folder.mkdir()
    shards = write_shards(folder)
    name = f"shards-{secrets.token_hex(4)}"
    s3.mkdir(name)
    for shard in shards:
        s3.put_file(str(shard), f"{name}/data/{shard.name}")
    s3.pipe_file(f"{name}/data/list.txt", b"".join(f"{shard.name}\n".encode() for shard in shards))
    return f"s3://{name}/data", shards


def scan(s3_endpoint: str, manifest: str, out: Path | str, *extra: str) -> int:
    """The CLI in this process; its worker processes get the endpoint and the dummy keys as storage options (a
    fork server started earlier in the session has an environment without them)."""
    options = [f"endpoint_url={s3_endpoint}", "key=testing", "secret=testing"]
    return run(["scan", manifest, "--out", str(out), "--quiet", "--no-cache",
                *(f"--storage-option={option}" for option in options), *extra])


def report_of(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "report.json").read_text()))


@pytest.mark.parametrize("named", ["shard-{000000..000001}.tar", "*.tar", "shard-00000?.tar", "list.txt"])
def test_shards_in_a_bucket_give_the_findings_of_the_same_shards_on_disk(
        bucket: tuple[str, list[Path]], s3_endpoint: str, tmp_path: Path, named: str) -> None:
    base, shards = bucket
    code = scan(s3_endpoint, f"{base}/{named}", tmp_path / "remote")
    local_code = scan(s3_endpoint, str(shards[0].parent / "shard-*.tar"), tmp_path / "local")
    remote, local = report_of(tmp_path / "remote"), report_of(tmp_path / "local")
    assert code == local_code == 1 and remote["manifest"]["rows"] == local["manifest"]["rows"] == 6
    assert found(remote) == found(local)
    assert (tmp_path / "remote" / "filtered.csv").read_text() == (tmp_path / "local" / "filtered.csv").read_text()


def test_thumbnails_of_a_bucket_scan_are_read_from_its_shards(bucket: tuple[str, list[Path]], s3_endpoint: str,
                                                              tmp_path: Path) -> None:
    base, _ = bucket
    scan(s3_endpoint, f"{base}/shard-{{000000..000001}}.tar", tmp_path / "out")
    thumbnails = report_of(tmp_path / "out")["thumbnails"]
    assert thumbnails["1"]["check"] == "shape-mismatch" and len(thumbnails["1"]["pictures"]) == 2
    assert all(entry["pictures"] for entry in thumbnails.values())
    assert (tmp_path / "out" / "report.html").read_text().count('<img src="data:image/') >= len(thumbnails)


def test_new_shards_are_written_back_to_the_bucket(bucket: tuple[str, list[Path]], s3: Any, s3_endpoint: str,
                                                   tmp_path: Path) -> None:
    base, shards = bucket
    audit = f"{base.removeprefix('s3://').split('/')[0]}/audit"
    assert scan(s3_endpoint, f"{base}/*.tar", f"s3://{audit}", "--write-shards") == 1
    s3.invalidate_cache()
    assert not any(".maskaudit-tmp-" in path for path in s3.find(audit.split("/")[0]))
    kept = [tuple(line.split(",")) for line in s3.cat_file(f"{audit}/filtered.csv").decode().splitlines()[1:]]
    written = []
    for shard in shards:
        with tarfile.open(fileobj=io.BytesIO(s3.cat_file(f"{audit}/{shard.name}"))) as copy:
            written += [(shard.name, key) for key in dict.fromkeys(n.split(".")[0] for n in copy.getnames())]
    assert written == kept and 0 < len(kept) < 6
    report = json.loads(s3.cat_file(f"{audit}/report.json"))
    assert report["outputs"]["filtered_shards"] == f"s3://{audit}/*.tar"


def test_a_missing_remote_shard_and_an_empty_glob_are_usage_errors(
        bucket: tuple[str, list[Path]], s3_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, _ = bucket
    assert scan(s3_endpoint, f"{base}/shard-{{000000..000002}}.tar", tmp_path / "a") == 2
    assert "shard-000002.tar does not exist" in capsys.readouterr().err
    assert scan(s3_endpoint, f"{base}/nothing-*.tar", tmp_path / "b") == 2
    assert "matches no shards" in capsys.readouterr().err


def test_thumbnails_of_an_embedded_parquet_in_a_bucket(s3: Any, s3_endpoint: str, tmp_path: Path) -> None:
    rows = clean_rows(6)
    rows[2] = Row(rows[2].image, png(mask(2)[:10]), "train")  # a mask of another shape: pictured side by side
    local = write_embedded(tmp_path / "train.parquet", rows, row_group_size=2)
    name = f"embedded-{secrets.token_hex(4)}"
    s3.mkdir(name)
    s3.put_file(str(local), f"{name}/parts/a.parquet")
    s3.put_file(str(local), f"{name}/parts/b.parquet")
    scan(s3_endpoint, f"s3://{name}/parts", tmp_path / "out")
    report = report_of(tmp_path / "out")
    assert {"2", "8"} <= set(report["thumbnails"])  # row 2 of each part
    assert all(entry["pictures"] and entry["note"] is None for entry in report["thumbnails"].values())
