"""Scan the demo dataset from a bucket: a local S3 API server (moto's server mode on a free loopback port), the
demo's manifest, images and masks uploaded to s3://demo/, the real CLI scanning s3://demo/train.parquet, the
report written to a local folder. The server is stopped whatever happens; the exit code is the scan's.

Two servers can be started here: moto (Python, what the tests use) and s3rver (Node.js, from npm: lighter per
request, so the remote benchmark measures the scan rather than the server; ``make bench-remote`` installs it).

    python -m bench.s3_demo [--out FOLDER] [extra scan options...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
BUCKET = "demo"
DEFAULT_OUT = Path("artifacts") / "demo-s3.maskaudit"
START_SECONDS = 30.0
SERVERS = ("moto", "s3rver")
# Dummy credentials: s3rver's built-in key pair, and moto accepts any; nothing may look for real ones on the network.
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "S3RVER",
    "AWS_SECRET_ACCESS_KEY": "S3RVER",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running S3 API server: which one, where it answers, and its process (whose CPU time a benchmark
    reports)."""

    kind: str
    endpoint: str
    pid: int


def s3rver_executable() -> str:
    """The s3rver command: on the PATH, or where ``make s3rver`` installs it beside this environment."""
    installed = Path(sys.prefix) / "node" / "node_modules" / ".bin" / "s3rver"
    found = shutil.which("s3rver") or (str(installed) if installed.exists() else None)
    if found is None:
        raise RuntimeError("s3rver is not installed: run make s3rver (npm install --prefix .venv/node s3rver)")
    return found


@contextlib.contextmanager
def s3_server(kind: str = "moto") -> Iterator[Server]:
    """An S3 API server (moto or s3rver) in its own process on 127.0.0.1, stopped on the way out."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="s3-server-") as storage:
        if kind == "moto":
            command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        elif kind == "s3rver":
            command = [s3rver_executable(), "--silent", "--no-vhost-buckets", "-d", storage, "-a", "127.0.0.1",
                       "-p", str(port)]
        else:
            raise ValueError(f"unknown S3 server {kind!r}: one of {', '.join(SERVERS)}")
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_until_answering(server, endpoint)
            yield Server(kind, endpoint, server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_answering(server: subprocess.Popen[bytes], endpoint: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the S3 server exited with code {server.returncode} before it answered")
        try:
            with urllib.request.urlopen(endpoint + "/", timeout=1):
                return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the S3 server did not answer on {endpoint} within {START_SECONDS:.0f} s"
                                   ) from None
            time.sleep(0.1)


def credentials() -> None:
    """Dummy credentials in this process's environment (the scan's subprocess inherits them)."""
    os.environ.update(ENVIRONMENT)
    os.environ.pop("AWS_PROFILE", None)


def bucket_filesystem(endpoint: str) -> Any:
    import s3fs

    return s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)


def upload(endpoint: str, source: Path, bucket: str, names: list[str]) -> int:
    """Put each named file or folder of ``source`` into the bucket; the number of objects written."""
    fs = bucket_filesystem(endpoint)
    fs.mkdir(bucket)
    files = [p for n in names for p in ([source / n] if (source / n).is_file() else sorted((source / n).rglob("*")))
             if p.is_file()]
    fs.put([str(p) for p in files], [f"{bucket}/{p.relative_to(source).as_posix()}" for p in files])
    return len(files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="local folder the report is written to")
    args, scan_options = parser.parse_known_args()
    credentials()
    with s3_server() as server:
        endpoint = server.endpoint
        count = upload(endpoint, DEMO, BUCKET, ["train.parquet", "images", "masks"])
        print(f"local S3 server on {endpoint}: uploaded {count} objects of {DEMO} to s3://{BUCKET}/")
        command = ["maskaudit", "scan", f"s3://{BUCKET}/train.parquet",
                   "--storage-option", f"endpoint_url={endpoint}", "--out", str(args.out), *scan_options]
        print("$ " + " ".join(command), flush=True)
        executable = shutil.which("maskaudit", path=os.path.dirname(sys.executable)) or shutil.which("maskaudit")
        if executable is None:
            command = [sys.executable, "-m", "maskaudit", *command[1:]]
        else:
            command[0] = executable
        status = subprocess.run(command, check=False).returncode
    print(f"\nReport: {args.out}/report.html (also report.md, report.json), scanned from s3://{BUCKET}/")
    print(f"Exit code {status}: the demo dataset holds every defect maskaudit finds, so 1 (findings) is expected.")
    return status


if __name__ == "__main__":
    sys.exit(main())
