"""Scan rate from object storage against local disk on the same files.

2,000 rows of bench/generate.py's 512x512 set are uploaded to a local S3 API server on loopback and scanned
through a TCP proxy that delays every request by 30 ms, the first-byte latency of an object store; the same
manifest and files are scanned from disk with the same workers. The server is s3rver (Node.js, from npm) by
default: moto's Python server spends more CPU a request than the scan does, and on 2 cores that CPU is taken
from the scan. The proxy counts the requests by method and the bytes the scan read; the CPU time of the scan's
processes, the server and the proxy over each run comes from /proc. Goal: the remote rate at least 0.7x the
local one.

    python -m bench.remote_bench [--data bench-data] [--rows 2000] [--latency-ms 30] [--repeat 3]
                                 [--server s3rver|moto]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from bench.generate import DEFAULT_FOLDER, MANIFEST, generate
from bench.s3_demo import ENVIRONMENT, SERVERS, bucket_filesystem, credentials, s3_server

ROWS = 2000
LATENCY_MS = 30.0
BUCKET = "bench"
GOAL = 0.7
_REQUEST = re.compile(rb"^(GET|HEAD|PUT|POST|DELETE) (\S+) HTTP/1\.[01]\r\n", re.S)
_RANGED = re.compile(rb"\r\nrange: *bytes=", re.I)
_CHUNK = 1 << 18  # bytes the proxy moves at a time: a small object's answer in one piece


# --- the proxy: runs in its own process (python -m bench.remote_bench --proxy ...) ---------------------------

class Counts:
    """What went through the proxy since the last reset: requests by kind, bytes each way, requests waiting
    for their first response byte (the concurrency the store saw)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests: Counter[str] = Counter()
        self.bytes_down = 0
        self.bytes_up = 0
        self.waiting = 0
        self.most_waiting = 0
        self.waiting_time = 0.0  # integral of ``waiting`` over time
        self.changed = time.perf_counter()
        self.started = self.changed

    def wait(self, change: int) -> None:
        now = time.perf_counter()
        self.waiting_time += self.waiting * (now - self.changed)
        self.changed = now
        self.waiting += change
        self.most_waiting = max(self.most_waiting, self.waiting)

    def snapshot(self) -> dict[str, Any]:
        self.wait(0)
        seconds = max(self.changed - self.started, 1e-9)
        return {"requests": dict(self.requests), "total_requests": sum(self.requests.values()),
                "bytes_down": self.bytes_down, "bytes_up": self.bytes_up, "seconds": seconds,
                "most_in_flight": self.most_waiting, "mean_in_flight": self.waiting_time / seconds}


async def _pipe_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, counts: Counts,
                   pending: list[int]) -> None:
    """Client to server: each chunk is held ``delay`` seconds (a line with latency, not a queue: later chunks
    are not held longer); a chunk that starts a request is counted."""
    line: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def forward() -> None:
        while True:
            due, data = await line.get()
            if not data:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        else:
            writer.close()

    sender = asyncio.create_task(forward())
    try:
        while data := await reader.read(_CHUNK):
            started = _REQUEST.match(data)
            if started:
                kind = started.group(1).decode()
                if kind == "GET":
                    kind = "GET ranged" if _RANGED.search(data) else ("GET list" if b"?" in started.group(2)
                                                                      else "GET whole")
                counts.requests[kind] += 1
                counts.wait(+1)
                pending[0] += 1
            counts.bytes_up += len(data)
            line.put_nowait((time.perf_counter() + delay, data))
    finally:
        line.put_nowait((0.0, b""))
        await sender


async def _pipe_down(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counts: Counts,
                     pending: list[int]) -> None:
    while data := await reader.read(_CHUNK):
        if pending[0]:  # the first bytes of the response to the request in flight on this connection
            pending[0] -= 1
            counts.wait(-1)
        counts.bytes_down += len(data)
        writer.write(data)
        await writer.drain()
    writer.close()


async def _serve_proxy(upstream_port: int, delay: float) -> None:
    counts = Counts()

    async def connection(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            client_writer.close()
            return
        pending = [0]
        with contextlib.suppress(OSError, asyncio.CancelledError):
            await asyncio.gather(_pipe_up(client_reader, server_writer, delay, counts, pending),
                                 _pipe_down(server_reader, client_writer, counts, pending))
        while pending[0]:
            pending[0] -= 1
            counts.wait(-1)
        client_writer.close()
        server_writer.close()

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command = (await reader.readline()).strip()
        writer.write(json.dumps(counts.snapshot()).encode() + b"\n")
        if command == b"reset":
            counts.reset()
        await writer.drain()
        writer.close()

    proxy = await asyncio.start_server(connection, "127.0.0.1", 0, backlog=1024)
    controller = await asyncio.start_server(control, "127.0.0.1", 0)
    ports = (proxy.sockets[0].getsockname()[1], controller.sockets[0].getsockname()[1])
    print(f"{ports[0]} {ports[1]}", flush=True)
    async with proxy, controller:
        await asyncio.gather(proxy.serve_forever(), controller.serve_forever())


@dataclass(frozen=True)
class Proxy:
    endpoint: str
    control_port: int
    pid: int


@contextlib.contextmanager
def latency_proxy(upstream: str, latency_ms: float) -> Iterator[Proxy]:
    """A proxy process in front of the endpoint, stopped on the way out."""
    upstream_port = int(upstream.rsplit(":", 1)[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.remote_bench", "--proxy", str(upstream_port), str(latency_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        ports = process.stdout.readline().split()
        if len(ports) != 2:
            raise RuntimeError("the latency proxy did not start")
        yield Proxy(f"http://127.0.0.1:{ports[0]}", int(ports[1]), process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def proxy_counts(control_port: int, reset: bool = True) -> dict[str, Any]:
    with socket.create_connection(("127.0.0.1", control_port)) as conn:
        conn.sendall(b"reset\n" if reset else b"read\n")
        answer = conn.makefile("rb").readline()
    counts: dict[str, Any] = json.loads(answer)
    return counts


# --- CPU time, from /proc: a process's own and that of its children it has waited for ---------------------

def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def _tree(root: int) -> set[int]:
    """The process and every live descendant."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, ()))
    return found


def _cpu(pids: set[int]) -> float:
    """Seconds of CPU (user and system) the processes used, with their waited-for children's."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = _stat(pid)
            ticks += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds of the scan (this process and its workers), the server and the proxy since the last read."""

    def __init__(self, server: int, proxy: int) -> None:
        self.server, self.proxy = server, proxy
        self.last = self.now()

    def now(self) -> dict[str, float]:
        server, proxy = _tree(self.server), _tree(self.proxy)
        return {"scan": _cpu(_tree(os.getpid()) - server - proxy), "server": _cpu(server), "proxy": _cpu(proxy)}

    def read(self) -> dict[str, float]:
        now = self.now()
        spent = {k: now[k] - self.last[k] for k in now}
        self.last = now
        return spent


# --- the benchmark --------------------------------------------------------------------------------------------

def dataset(folder: Path, rows: int) -> Path:
    """A manifest of the first ``rows`` rows of bench/generate.py's set (generated when missing)."""
    full = folder / MANIFEST
    if not full.exists() or pq.ParquetFile(full).metadata.num_rows < rows:
        generate(folder, rows)
    path = folder / f"remote-{rows}.parquet"
    if not path.exists() or pq.ParquetFile(path).metadata.num_rows != rows:
        pq.write_table(pq.read_table(full).slice(0, rows), path)
    return path


def upload(endpoint: str, folder: Path, manifest: Path) -> int:
    table = pq.read_table(manifest, columns=["image_path", "mask_path"])
    names = [manifest.name, *table["image_path"].to_pylist(), *table["mask_path"].to_pylist()]
    fs = bucket_filesystem(endpoint)
    fs.mkdir(BUCKET)
    fs.put([str(folder / n) for n in names], [f"{BUCKET}/{n}" for n in names])
    return sum((folder / n).stat().st_size for n in names)


def scan(manifest: str, root: str, workers: int) -> int:
    from bench.run import maskaudit_scan

    return maskaudit_scan(manifest, workers, root)


def timed(manifest: str, root: str, workers: int) -> tuple[float, int]:
    start = time.perf_counter()
    count = scan(manifest, root, workers)
    return count / (time.perf_counter() - start), count


def run_remote_bench(folder: Path = DEFAULT_FOLDER, rows: int = ROWS, latency_ms: float = LATENCY_MS,
                     repeat: int = 3, workers: int | None = None, io_concurrency: int | None = None,
                     server_kind: str = "s3rver") -> dict[str, Any]:
    """The local and remote rates (medians of ``repeat`` interleaved runs), the proxy's counts and the CPU time
    of each process group."""
    from maskaudit import storage

    workers = workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    manifest = dataset(folder, rows)
    credentials()
    figures: dict[str, Any] = {"rows": rows, "workers": workers, "latency_ms": latency_ms, "server": server_kind}
    with s3_server(server_kind) as server:
        figures["uploaded_bytes"] = upload(server.endpoint, folder, manifest)
        with latency_proxy(server.endpoint, latency_ms) as proxy:
            # as options, not only the environment: worker processes started earlier in this process (the
            # other benches) kept the environment they started with
            storage.configure({"endpoint_url": proxy.endpoint, "key": ENVIRONMENT["AWS_ACCESS_KEY_ID"],
                               "secret": ENVIRONMENT["AWS_SECRET_ACCESS_KEY"]}, io_concurrency)
            figures["io_concurrency"] = storage.io_concurrency()
            fs = storage.filesystem(f"s3://{BUCKET}/")
            remote_manifest, remote_root = f"s3://{BUCKET}/{manifest.name}", f"s3://{BUCKET}/"
            # imports, thread start-up and page cache outside the timings. The remote scan first: the fork server
            # starts with the first scan of the process, and a scan from a store starts it with the storage
            # backend imported, as the command line does
            scan(remote_manifest, remote_root, workers)
            scan(str(manifest), str(folder), workers)
            local_rates: list[float] = []
            remote_rates: list[float] = []
            local_cpu: list[dict[str, float]] = []
            remote_cpu: list[dict[str, float]] = []
            counts: list[dict[str, Any]] = []
            meter = CpuMeter(server.pid, proxy.pid)
            try:
                for _ in range(repeat):  # interleaved, so drift hits both alike
                    meter.read()
                    local_rates.append(timed(str(manifest), str(folder), workers)[0])
                    local_cpu.append(meter.read())
                    fs.invalidate_cache()
                    proxy_counts(proxy.control_port)
                    meter.read()
                    remote_rates.append(timed(remote_manifest, remote_root, workers)[0])
                    remote_cpu.append(meter.read())
                    counts.append(proxy_counts(proxy.control_port))
            finally:
                storage.configure()
    local, remote = statistics.median(local_rates), statistics.median(remote_rates)
    middle = counts[remote_rates.index(remote)]

    def median_cpu(runs: list[dict[str, float]]) -> dict[str, float]:
        return {k: statistics.median(run[k] for run in runs) for k in runs[0]}

    figures.update(local=local, remote=remote, ratio=remote / local, goal=GOAL, local_runs=local_rates,
                   remote_runs=remote_rates, proxy=middle, local_cpu=median_cpu(local_cpu),
                   remote_cpu=median_cpu(remote_cpu),
                   requests_per_second=middle["total_requests"] / middle["seconds"],
                   requests_per_row=middle["total_requests"] / rows,
                   bytes_read=middle["bytes_down"], bytes_per_second=middle["bytes_down"] / middle["seconds"])
    return figures


def report(figures: dict[str, Any]) -> str:
    proxy = figures["proxy"]
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(proxy["requests"].items()))
    verdict = "PASS" if figures["ratio"] >= figures["goal"] else "MISS"
    local_cpu, remote_cpu = figures["local_cpu"]["scan"], figures["remote_cpu"]
    requests = max(proxy["total_requests"], 1)
    return "\n".join([
        f"remote scan, {figures['rows']} rows from a local S3 server ({figures['server']}) behind a "
        f"{figures['latency_ms']:.0f} ms proxy, {figures['workers']} workers, --io-concurrency "
        f"{figures['io_concurrency']}, medians of {len(figures['remote_runs'])}:",
        f"  local disk   {figures['local']:8.0f} rows/s",
        f"  object store {figures['remote']:8.0f} rows/s  {figures['ratio']:.2f}x local "
        f"({verdict}: goal {figures['goal']:.1f}x)",
        f"  requests     {proxy['total_requests']} ({figures['requests_per_row']:.1f} a row: {kinds}), "
        f"{figures['requests_per_second']:.0f}/s, {proxy['mean_in_flight']:.1f} waiting on average "
        f"(most {proxy['most_in_flight']})",
        f"  bytes read   {figures['bytes_read'] / 1e6:.1f} MB ({figures['bytes_per_second'] / 1e6:.1f} MB/s; "
        f"the files hold {figures['uploaded_bytes'] / 1e6:.1f} MB)",
        f"  CPU seconds  local scan {local_cpu:.1f}; remote: scan {remote_cpu['scan']:.1f}, server "
        f"{remote_cpu['server']:.1f}, proxy {remote_cpu['proxy']:.1f} "
        f"(ms a request: {1000 * remote_cpu['scan'] / requests:.2f}, {1000 * remote_cpu['server'] / requests:.2f}"
        f", {1000 * remote_cpu['proxy'] / requests:.2f})",
        f"  CPU ratio    local scan / remote scan {local_cpu / max(remote_cpu['scan'], 1e-9):.2f}x; "
        f"/ remote scan + server + proxy {local_cpu / max(sum(remote_cpu.values()), 1e-9):.2f}x "
        f"(what the rate ratio tends to when the cores are the limit)",
    ])


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--proxy":
        asyncio.run(_serve_proxy(int(sys.argv[2]), float(sys.argv[3]) / 1000))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--io-concurrency", type=int)
    parser.add_argument("--server", choices=SERVERS, default="s3rver", help="the S3 API server (default s3rver)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures = run_remote_bench(args.data, args.rows, args.latency_ms, args.repeat, args.workers,
                               args.io_concurrency, args.server)
    print(report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
