"""Scan the demo dataset from a bucket: a local S3 API server (moto's server mode on a free loopback port), the
demo's manifest, images and masks uploaded to s3://demo/, the real CLI scanning s3://demo/train.parquet, the
report written to a local folder. The server is stopped whatever happens; the exit code is the scan's.

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
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
BUCKET = "demo"
DEFAULT_OUT = Path("artifacts") / "demo-s3.maskaudit"
START_SECONDS = 30.0
# Dummy credentials: the local server accepts any; nothing may look for real ones on the network.
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """A moto S3 server in its own process on 127.0.0.1; yields its endpoint URL, stops it on the way out."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the S3 server exited with code {server.returncode} before it answered")
            try:
                with urllib.request.urlopen(endpoint + "/", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the S3 server did not answer on {endpoint} within {START_SECONDS:.0f} s"
                                       ) from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


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
    with s3_server() as endpoint:
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
