"""The hostile corpus benchmark: the real CLI on FIFOs, devices, bombs, a sparse 1 GiB file and more.

    python -m bench.hostile [--data FOLDER] [--repeat R] [--timeout S]

Builds the corpus of ``tests/hostile/corpus.py`` under ``bench-data/hostile/`` (rebuilt every run: a FIFO and a
socket do not survive every copy), runs ``maskaudit scan`` on it in a fresh process group R times, and prints
the median wall time, the peak resident memory of the whole process tree (the largest sum of VmRSS over the
scan and its descendants, sampled every 20 ms), how many hostile rows got an error finding, and PASS or FAIL
against the goals: under 100 s and under 1 GB. Each run is capped at 4 GiB of address space so that a
regression fails the benchmark instead of the machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tests.hostile.corpus import Corpus, build_corpus
from tests.hostile.process import Measured, measure

DEFAULT_FOLDER = Path("bench-data") / "hostile"
GOAL_SECONDS = 100.0
GOAL_RSS_BYTES = 1 << 30


def scan_command(manifest: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "maskaudit", "scan", str(manifest), "--out", str(out), "--quiet",
            "--workers", "2", *extra]


def errors_per_row(out: Path) -> dict[int, list[dict[str, object]]]:
    """The error findings of a finished scan's report.json, by row."""
    report = json.loads((out / "report.json").read_text())
    rows: dict[int, list[dict[str, object]]] = {}
    for finding in report["findings"]:
        if finding["severity"] == "error" and finding["row"] is not None:
            rows.setdefault(int(finding["row"]), []).append(finding)
    return rows


def flagged(corpus: Corpus, out: Path) -> int:
    """Hostile rows with an error finding from the expected check."""
    if not (out / "report.json").is_file():
        return 0
    errors = errors_per_row(out)
    return sum(any(f["check"] == row.check for f in errors.get(row.index, [])) for row in corpus.hostile_rows)


def mib(size: int) -> str:
    return f"{size / (1 << 20):.0f} MiB"


def run_hostile_bench(folder: Path = DEFAULT_FOLDER, repeat: int = 3, timeout: float = 300.0) -> dict[str, Any]:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    corpus = build_corpus(folder / "corpus")
    built = time.perf_counter() - started
    runs: list[Measured] = []
    caught: list[int] = []
    for number in range(repeat):
        out = folder / f"out-{number}"
        runs.append(measure(scan_command(corpus.manifest, out), timeout))
        caught.append(flagged(corpus, out))
    seconds = statistics.median(run.seconds for run in runs)
    peak = max(run.peak_rss for run in runs)
    hostile = len(corpus.hostile_rows)
    exits = [run.returncode for run in runs]
    passed = (all(code == 1 for code in exits) and seconds < GOAL_SECONDS and peak < GOAL_RSS_BYTES
              and min(caught) == hostile)
    return {
        "corpus_seconds": built, "rows": len(corpus.rows), "hostile_rows": hostile, "flagged": min(caught),
        "seconds": seconds, "runs": [run.seconds for run in runs], "peak_rss": peak,
        "peak_process": max(run.peak_process for run in runs),
        "children_maxrss": max(run.children_maxrss for run in runs), "exit_codes": exits,
        "stderr_tail": runs[-1].stderr[-600:], "passed": passed,
    }


def report(figures: dict[str, Any]) -> str:
    exits = figures["exit_codes"]
    verdict = "PASS" if figures["passed"] else "FAIL"
    lines = [
        f"hostile corpus: {figures['rows']} rows, {figures['hostile_rows']} hostile, "
        f"built in {figures['corpus_seconds']:.1f} s",
        f"  scan wall time     {figures['seconds']:.1f} s, median of {len(figures['runs'])} runs "
        f"(goal < {GOAL_SECONDS:.0f} s)",
        f"  peak RSS (tree)    {mib(figures['peak_rss'])} (goal < {mib(GOAL_RSS_BYTES)}); largest single "
        f"process {mib(figures['peak_process'])}, ru_maxrss of children {mib(figures['children_maxrss'])}",
        f"  hostile rows with an error finding: {figures['flagged']} of {figures['hostile_rows']}",
        f"  exit codes {exits} (expected 1: a timeout shows as None)",
        f"  {verdict}",
    ]
    if not figures["passed"] and figures["stderr_tail"]:
        lines.append(f"  stderr of the last run ends: {figures['stderr_tail']!r}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a run's processes are killed")
    args = parser.parse_args()
    figures = run_hostile_bench(args.data, args.repeat, args.timeout)
    print(report(figures))
    sys.exit(0 if figures["passed"] else 1)


if __name__ == "__main__":
    main()
