"""Time the reports on many findings: the findings file, report.json (and its size) and every other format.

Run with `python -m bench.report_bench [N ...]`; prints one JSON line per finding count. Findings are made
on the fly and streamed into the findings file and the report's tally, as a partitioned scan feeds them, so
no list of every finding is held; the baseline figures (which need every finding at once) are measured up to
BASELINE_UP_TO findings.

`python -m bench.report_bench --scan ROWS` runs the CLI scan of a manifest of ROWS rows that each make about
3.2 findings (one tiny picture and one 0/255 mask named by every row, across two splits, with --labels 0,1)
and prints its wall time and peak RSS summed over the process tree. The scan runs the maskaudit that the
environment's PYTHONPATH names, so two codes can be compared on the same data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from maskaudit.baseline import apply_baseline, render_baseline
from maskaudit.checks.registry import all_checks
from maskaudit.findings import Finding, Severity
from maskaudit.findings_file import FindingsWriter, read_findings
from maskaudit.report import ManifestInfo, Report
from maskaudit.reporters.html import render_html
from maskaudit.reporters.json_report import render_json
from maskaudit.reporters.junit import render_junit
from maskaudit.reporters.markdown import render_markdown
from maskaudit.settings import FailOn

SIZES = (10_000, 100_000, 1_000_000)
BASELINE_UP_TO = 100_000
CHECKS = 30


def synthetic_findings(count: int, checks: int = CHECKS) -> Iterator[Finding]:
    """`count` row findings over the first `checks` registered checks, a tenth of them baselined.

    Skewed as real scans are: half the findings belong to one check, the rest spread over the others.
    """
    chosen = all_checks()[:checks]
    for i in range(count):
        check = chosen[0 if i % 2 == 0 or len(chosen) == 1 else 1 + (i // 2) % (len(chosen) - 1)]
        severity = (Severity.ERROR, Severity.WARNING, Severity.INFO)[i % 3]
        yield Finding(code=check.code, check=check.name, severity=severity,
                      message=f"row {i} has a defect of kind {check.name}", row=i,
                      split="train" if i % 5 else "val", path=f"images/{i:07d}.png",
                      details={"pixels": i % 1000, "share": (i % 97) / 97},
                      row_id=f"id-{i:07d}", baselined=i % 10 == 0)


def empty_report(count: int) -> Report:
    return Report(
        manifest=ManifestInfo(path="manifest.parquet", format="parquet", rows=count, content_hash="0" * 16,
                              columns={"image": "image_path", "mask": "mask_path"}, root="."),
        settings={}, rows_kept=count, rows_dropped=0, fail_on=FailOn.WARNING,
        outputs={"findings": "out/findings.parquet"},
    )


def _timed(action: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action(*args)
    return result, round(time.perf_counter() - start, 3)


def _count(findings: Iterator[Finding]) -> int:
    return sum(1 for _ in findings)


def _write(count: int, path: Path) -> None:
    with FindingsWriter(path) as writer:
        writer.write(synthetic_findings(count))


def run_report_bench(sizes: Sequence[int] = SIZES) -> list[dict[str, Any]]:
    results = []
    for count in sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "findings.parquet"
            _, generate = _timed(_count, synthetic_findings(count))
            _, write = _timed(_write, count, path)
            report, tally = _timed(empty_report(count).with_findings, synthetic_findings(count))
            text, json_seconds = _timed(render_json, report)
            _, read = _timed(_count, read_findings(path))
            entry: dict[str, Any] = {
                "findings": count,
                "checks": len(report.tallies),
                "generate": generate,
                "findings_parquet_write": round(write - generate, 3),
                "findings_parquet_bytes": os.path.getsize(path),
                "findings_parquet_read": read,
                "tally": round(tally - generate, 3),
                "report_json": json_seconds,
                "report_json_bytes": len(text.encode("utf-8")),
                "junit": _timed(render_junit, report)[1],
                "html": _timed(render_html, report)[1],
                "markdown": _timed(render_markdown, report)[1],
            }
        if count <= BASELINE_UP_TO:
            findings = tuple(synthetic_findings(count))
            accepted = frozenset(f.identity for f in findings[::2])
            entry["baseline"] = _timed(apply_baseline, findings, accepted)[1]
            entry["write_baseline"] = _timed(render_baseline, findings)[1]
        results.append(entry)
    return results


def describe(entry: dict[str, Any]) -> str:
    """One line of figures for the benchmark summary."""
    mib = 1 << 20
    line = (f"  {entry['findings']:>9,} findings: findings.parquet write {entry['findings_parquet_write']:.2f} s, "
            f"{entry['findings_parquet_bytes'] / mib:.1f} MiB, read {entry['findings_parquet_read']:.2f} s; "
            f"report.json {entry['report_json']:.2f} s, {entry['report_json_bytes'] / mib:.2f} MiB; "
            f"tally {entry['tally']:.2f}, junit {entry['junit']:.2f}, html {entry['html']:.2f}, "
            f"markdown {entry['markdown']:.2f}")
    if "baseline" in entry:
        line += f"; apply baseline {entry['baseline']:.2f}, write baseline {entry['write_baseline']:.2f}"
    return line


MANY_FINDINGS_FOLDER = Path("bench-data/many-findings")


def many_findings_dataset(rows: int, folder: Path = MANY_FINDINGS_FOLDER) -> Path:
    """A manifest whose every row names the same 32x32 image and the same mask of 0, 7 and 255 on a few
    pixels: per row unexpected-label and tiny-foreground (with --labels 0,1), duplicate-row, and split-leakage
    for the val rows: about 3.2 findings a row."""
    import cv2
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[0, :2], mask[5, 5] = 255, 7
    cv2.imwrite(str(folder / "image.png"), image)
    cv2.imwrite(str(folder / "mask.png"), mask)
    manifest = folder / f"manifest-{rows}.parquet"
    pq.write_table(pa.table({"image_path": ["image.png"] * rows, "mask_path": ["mask.png"] * rows,
                             "split": ["val" if i % 5 == 0 else "train" for i in range(rows)]}), manifest)
    return manifest


def scan_with_many_findings(rows: int, workers: int = 2) -> dict[str, Any]:
    """The CLI scan of ``many_findings_dataset(rows)``: wall time, findings, and the peak RSS of its process tree
    (polled every 50 ms)."""
    from bench.scale_bench import _tree_rss_kib

    manifest = many_findings_dataset(rows).resolve()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "maskaudit", "scan", str(manifest), "--out", str(out), "-q",
                                  "--workers", str(workers), "--fail-on", "never", "--no-cache", "--labels", "0,1"],
                                 cwd=folder)
        peak = 0
        while child.poll() is None:
            peak = max(peak, _tree_rss_kib(child.pid))
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            raise RuntimeError(f"scan of {manifest} exited {child.returncode}")
        import pyarrow.parquet as pq

        findings = pq.ParquetFile(out / "findings.parquet").metadata.num_rows
    return {"rows": rows, "findings": findings, "seconds": round(seconds, 1), "peak_mib": round(peak / 1024)}


def held_or_streamed(count: int, streamed: bool, partition: int = 3_200) -> dict[str, Any]:
    """The parent's side of a scan making ``count`` findings, partition by partition, in this process: streamed
    (each partition's findings into the findings file and the tally, as the scan does now) or held (every finding
    collected, sorted, tallied and written after, as the reduce did before). Peak RSS of this process."""
    import resource

    from maskaudit.findings_stream import FindingsStream
    from maskaudit.judge import sort_key

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    made = synthetic_findings(count)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "findings.parquet"
        if streamed:
            with FindingsStream(path) as stream:
                while batch := [f for _, f in zip(range(partition), made, strict=False)]:
                    stream.add(batch)
            report = empty_report(count).with_tally(stream.tally)
        else:
            held: list[Finding] = []
            while batch := [f for _, f in zip(range(partition), made, strict=False)]:
                held.extend(batch)
            findings = tuple(sorted(held, key=sort_key))
            report = empty_report(count).with_findings(findings)
            with FindingsWriter(path) as writer:
                writer.write(findings)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"findings": report.finding_count, "streamed": streamed, "seconds": round(time.perf_counter() - started, 1),
            "peak_mib": round(peak / 1024), "held_mib": round((peak - base) / 1024)}


if __name__ == "__main__":
    if sys.argv[1:2] in (["--held"], ["--streamed"]):
        print(json.dumps(held_or_streamed(int(sys.argv[2]), sys.argv[1] == "--streamed")))
        sys.exit(0)
    if sys.argv[1:2] == ["--scan"]:
        print(json.dumps(scan_with_many_findings(int(sys.argv[2]))))
        sys.exit(0)
    wanted = [int(a) for a in sys.argv[1:]] or list(SIZES)
    for line in run_report_bench(wanted):
        print(json.dumps(line))
