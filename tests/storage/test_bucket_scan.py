"""Manifests, files and outputs in a bucket served by a real S3 API on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from maskaudit.api import run_audit
from maskaudit.loading import find, load

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


def upload_demo(s3: Any, bucket: str) -> str:
    s3.mkdir(bucket)
    s3.put(str(DEMO) + "/", f"{bucket}/demo/", recursive=True)
    return f"s3://{bucket}/demo"


def findings(run: Any, root: str) -> list[tuple[str, int | None, str]]:
    return sorted((f.check, f.row, f.message.replace(root, "<root>")) for f in run.iter_findings())


def test_the_demo_gives_the_same_findings_from_the_bucket_as_from_disk(s3: Any, tmp_path: Path) -> None:
    base = upload_demo(s3, "same-findings")
    local = run_audit(DEMO / "train.parquet")
    remote = run_audit(f"{base}/train.parquet")
    assert remote.report.manifest.root == f"{base}/"
    assert remote.rows == local.rows > 0
    assert findings(remote, f"{base}/") == findings(local, str(DEMO) + "/")
    assert remote.manifest.content_hash() == local.manifest.content_hash()


def test_a_folder_of_parquet_parts_in_a_bucket_is_one_manifest(s3: Any) -> None:
    base = upload_demo(s3, "folder-manifest")
    s3.copy(f"{base[5:]}/train.parquet", "folder-manifest/parts/a.parquet")
    s3.put_file(str(DEMO / "train.parquet"), "folder-manifest/parts/.hidden.parquet")
    table = pq.read_table(DEMO / "train.parquet")
    rows = run_audit("s3://folder-manifest/parts", root=base)
    assert rows.manifest.parts == ("s3://folder-manifest/parts/a.parquet",)
    assert rows.rows == table.num_rows


def test_missing_and_truncated_objects_become_findings(s3: Any, tmp_path: Path) -> None:
    s3.mkdir("defects")
    image = next((DEMO / "images").iterdir())
    data = image.read_bytes()
    s3.pipe_file("defects/whole.png", data)
    s3.pipe_file("defects/cut.png", data[: len(data) // 2])
    s3.pipe_file("defects/empty.png", b"")
    decoded, problem = load("whole.png", "s3://defects/", "image")
    assert decoded is not None and problem is None
    found, problem = find("gone.png", "s3://defects/", "image")
    assert found is None and problem is not None
    assert problem.kind.name == "NOT_FOUND" and "s3://defects/gone.png does not exist" in problem.message
    decoded, problem = load("cut.png", "s3://defects", "image")
    assert decoded is None and problem is not None and problem.kind.name == "UNREADABLE"
    decoded, problem = load("empty.png", "s3://defects", "image")
    assert problem is not None and "empty" in problem.message


def test_relative_rows_resolve_against_the_manifest_prefix_and_escapes_are_outside_root(s3: Any,
                                                                                        tmp_path: Path) -> None:
    base = upload_demo(s3, "relative")
    lines = [json.dumps({"image": "../elsewhere/x.png", "mask": "masks/none.png"}),
             json.dumps({"image": f"{base}/images/" + next((DEMO / "images").iterdir()).name,
                         "mask": "masks/none.png"})]
    s3.pipe_file("relative/demo/rows.jsonl", ("\n".join(lines) + "\n").encode())
    run = run_audit(f"{base}/rows.jsonl")
    first, second = run.facts.rows(range(run.rows)).values()
    assert first.image_outside_root == "s3://relative/elsewhere/x.png"
    assert second.image_outside_root is None and second.image is not None
    checks = {f.check for f in run.iter_findings()}
    assert {"path-outside-root", "image-not-found"} <= checks


def test_cli_scans_a_bucket_and_writes_its_outputs_back(s3: Any, s3_endpoint: str, tmp_path: Path) -> None:
    base = upload_demo(s3, "cli-out")
    env = {**os.environ, "AWS_ENDPOINT_URL": ""}
    command = [sys.executable, "-m", "maskaudit", "scan", f"{base}/train.parquet", "--out", "s3://cli-out/audit",
               "--storage-option", f"endpoint_url={s3_endpoint}", "--quiet", "--no-cache"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 1, done.stderr
    s3.invalidate_cache()
    names = {path.rsplit("/", 1)[-1] for path in s3.find("cli-out/audit")}
    assert {"report.json", "findings.parquet", "filtered.parquet", ".maskaudit-output"} <= names
    assert not any(".maskaudit-tmp-" in path for path in s3.find("cli-out"))
    report = json.loads(s3.cat_file("cli-out/audit/report.json"))
    assert report["outputs"]["report_json"] == "s3://cli-out/audit/report.json"
    with s3.open("cli-out/audit/filtered.parquet", "rb") as handle:
        filtered = pq.read_table(handle)
    image_column = report["manifest"]["columns"]["image"]
    assert all(str(p).startswith(f"{base}/") for p in filtered.column(image_column).to_pylist() if p)
    again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert again.returncode == 1, again.stderr


def test_cli_refuses_a_prefix_it_did_not_write_and_a_missing_manifest(s3: Any, s3_endpoint: str,
                                                                     tmp_path: Path) -> None:
    base = upload_demo(s3, "refusals")
    option = ["--storage-option", f"endpoint_url={s3_endpoint}"]
    done = subprocess.run([sys.executable, "-m", "maskaudit", "scan", f"{base}/train.parquet", "--out", base,
                           *option], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and "holds" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "maskaudit", "scan", "s3://refusals/nothing.parquet", *option],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and "s3://refusals/nothing.parquet does not exist" in done.stderr


def test_a_missing_backend_names_the_extra(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "maskaudit", "scan", "gs://bucket/train.parquet"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 2
    assert "maskaudit[gcs]" in done.stderr and "Traceback" not in done.stderr


def test_a_refused_key_is_access_denied_on_every_row_and_the_scan_goes_on(s3: Any, tmp_path: Path,
                                                                          enforced_auth: None) -> None:
    manifest = tmp_path / "rows.csv"
    manifest.write_text("image,mask\ns3://denied/a.png,s3://denied/a_mask.png\ns3://denied/b.png,\n")
    s3.invalidate_cache()
    run = run_audit(manifest, cache=None)
    problems = [row.image_problem for row in run.facts.rows(range(run.rows)).values()]
    assert all(p is not None and p.kind.name == "UNREADABLE" for p in problems)
    assert all(p is not None and "access denied (check credentials)" in p.message for p in problems)
    assert {"image-unreadable", "mask-unreadable"} <= {f.check for f in run.iter_findings()}
