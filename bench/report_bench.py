"""Time each reporter on a report with many findings: JUnit, HTML, Markdown and the baseline.

Run with `python -m bench.report_bench [N ...]`; prints render seconds per reporter and finding count as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from maskaudit.baseline import apply_baseline, render_baseline
from maskaudit.checks.registry import all_checks
from maskaudit.findings import Finding, Severity
from maskaudit.report import ManifestInfo, Report
from maskaudit.reporters.html import render_html
from maskaudit.reporters.junit import render_junit
from maskaudit.reporters.markdown import render_markdown

SIZES = (10_000, 100_000)
CHECKS = 30


def synthetic_report(count: int, checks: int = CHECKS) -> Report:
    """`count` row findings over the first `checks` registered checks, a tenth of them baselined.

    Skewed as real scans are: half the findings belong to one check, the rest spread over the others.
    """
    chosen = all_checks()[:checks]
    findings = []
    for i in range(count):
        check = chosen[0 if i % 2 == 0 or len(chosen) == 1 else 1 + (i // 2) % (len(chosen) - 1)]
        severity = (Severity.ERROR, Severity.WARNING, Severity.INFO)[i % 3]
        findings.append(Finding(code=check.code, check=check.name, severity=severity,
                                message=f"row {i} has a defect of kind {check.name}", row=i,
                                split="train" if i % 5 else "val", path=f"images/{i:07d}.png",
                                row_id=f"id-{i:07d}", baselined=i % 10 == 0))
    return Report(
        manifest=ManifestInfo(path="manifest.parquet", format="parquet", rows=count, content_hash="0" * 16,
                              columns={"image": "image_path", "mask": "mask_path"}, root="."),
        settings={}, findings=tuple(findings), rows_kept=count, rows_dropped=0, splits={}, fail_on="warning",
    )


def _seconds(action: Callable[..., object], *args: Any) -> float:
    start = time.perf_counter()
    action(*args)
    return round(time.perf_counter() - start, 3)


def run_report_bench(sizes: Sequence[int] = SIZES) -> list[dict[str, Any]]:
    results = []
    for count in sizes:
        report = synthetic_report(count)
        accepted = frozenset(f.identity for f in report.findings[::2])
        results.append({
            "findings": count,
            "checks": len({f.check for f in report.findings}),
            "junit": _seconds(render_junit, report),
            "html": _seconds(render_html, report),
            "markdown": _seconds(render_markdown, report),
            "baseline": _seconds(apply_baseline, report.findings, accepted),
            "write_baseline": _seconds(render_baseline, report.findings),
        })
    return results


if __name__ == "__main__":
    wanted = [int(a) for a in sys.argv[1:]] or list(SIZES)
    for line in run_report_bench(wanted):
        print(json.dumps(line))
