"""Write a finished audit to disk: every file atomically, never over the input."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from maskaudit.api import AuditRun
from maskaudit.errors import UsageError
from maskaudit.facts import RowFacts
from maskaudit.findings import Finding
from maskaudit.manifest import write_filtered
from maskaudit.report import Report
from maskaudit.reporters.html import render_html
from maskaudit.reporters.json_report import render_json
from maskaudit.reporters.junit import render_junit
from maskaudit.reporters.markdown import render_markdown, render_summary
from maskaudit.thumbnails import make_thumbnails


def default_out_dir(manifest_path: Path) -> Path:
    stem = manifest_path.name.split(".")[0] if manifest_path.is_file() else manifest_path.name
    return manifest_path.parent / f"{stem}.maskaudit"


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Write through a temporary file in the same folder, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda stream: stream.write(text.encode("utf-8")))


def output_paths(run: AuditRun, out_dir: Path) -> dict[str, Path]:
    stem = run.manifest.stem
    paths = {
        "report_json": out_dir / "report.json",
        "report_md": out_dir / "report.md",
        "filtered_manifest": out_dir / f"{stem}.filtered.{run.manifest.extension}",
        "facts": out_dir / f"{stem}.facts.parquet",
        "report_html": out_dir / "report.html",
        "report_junit": out_dir / "report.junit.xml",
    }
    inputs = {p.resolve() for p in run.manifest.parts} | {run.manifest.path.resolve()}
    for path in paths.values():
        if path.resolve() in inputs:
            raise UsageError(f"output {path} would overwrite the input manifest; choose another --out")
    return paths


def write_facts(facts: Sequence[RowFacts], findings: Sequence[Finding], dropped: frozenset[int],
                ignore_index: float | None, stream: IO[bytes]) -> None:
    names: dict[int, list[str]] = {}
    for finding in findings:
        if finding.row is not None:
            names.setdefault(finding.row, [])
            if finding.check not in names[finding.row]:
                names[finding.row].append(finding.check)
    columns: dict[str, list[Any]] = {key: [] for key in FACT_COLUMNS}
    for row in facts:
        mask, image = row.mask, row.image
        values = {
            "row": row.row, "split": row.split, "image_path": row.image_path, "mask_path": row.mask_path,
            "row_id": row.row_id, "group": row.group, "flag": row.flag,
            "mask_format": mask.format if mask else None,
            "mask_shape": list(mask.shape) if mask else None,
            "mask_dtype": mask.dtype if mask else None,
            "mask_channels": mask.channels if mask else None,
            "label_values": list(mask.values) if mask else None,
            "label_counts": list(mask.counts) if mask else None,
            "mask_colors": [list(c) for c in mask.colors] if mask and mask.colors else None,
            "foreground_pixels": mask.foreground(ignore_index) if mask else None,
            "mask_hash": mask.content_hash if mask else None,
            "mask_problem": row.mask_problem.message if row.mask_problem else None,
            "image_format": image.format if image else None,
            "image_shape": list(image.shape) if image else None,
            "image_dtype": image.dtype if image else None,
            "image_channels": image.channels if image else None,
            "image_min": image.minimum if image else None,
            "image_max": image.maximum if image else None,
            "image_mean": image.mean if image else None,
            "image_std": image.std if image else None,
            "image_nan": image.nan if image else None,
            "image_inf": image.inf if image else None,
            "image_encoding": image.encoding.value if image else None,
            "image_hash": image.content_hash if image else None,
            "image_problem": row.image_problem.message if row.image_problem else None,
            "findings": names.get(row.row, []),
            "dropped": row.row in dropped,
        }
        for key, value in values.items():
            columns[key].append(value)
    table = pa.table({key: pa.array(values, type=FACT_COLUMNS[key]) for key, values in columns.items()})
    pq.write_table(table, stream)


FACT_COLUMNS: dict[str, pa.DataType] = {
    "row": pa.int64(), "split": pa.string(), "image_path": pa.string(), "mask_path": pa.string(),
    "row_id": pa.string(), "group": pa.string(), "flag": pa.bool_(),
    "mask_format": pa.string(), "mask_shape": pa.list_(pa.int64()), "mask_dtype": pa.string(),
    "mask_channels": pa.int64(), "label_values": pa.list_(pa.float64()), "label_counts": pa.list_(pa.int64()),
    "mask_colors": pa.list_(pa.list_(pa.int64())), "foreground_pixels": pa.int64(), "mask_hash": pa.string(),
    "mask_problem": pa.string(),
    "image_format": pa.string(), "image_shape": pa.list_(pa.int64()), "image_dtype": pa.string(),
    "image_channels": pa.int64(), "image_min": pa.float64(), "image_max": pa.float64(),
    "image_mean": pa.float64(), "image_std": pa.float64(), "image_nan": pa.int64(), "image_inf": pa.int64(),
    "image_encoding": pa.string(), "image_hash": pa.string(), "image_problem": pa.string(),
    "findings": pa.list_(pa.string()), "dropped": pa.bool_(),
}


def write_outputs(run: AuditRun, out_dir: Path) -> tuple[Report, dict[str, Path]]:
    """Write every output; the report returned (and written) lists where they are."""
    paths = output_paths(run, out_dir)
    report = replace(run.report, outputs={key: str(path) for key, path in paths.items()},
                     thumbnails={**make_thumbnails(run.facts, run.report.findings, Path(run.report.manifest.root)),
                                 **run.replay_thumbnails})
    keep = [row.row not in run.dropped for row in run.facts]
    atomic_write(paths["filtered_manifest"], lambda stream: write_filtered(run.manifest, keep, stream))
    atomic_write(
        paths["facts"],
        lambda stream: write_facts(run.facts, run.report.findings, run.dropped, run.context.ignore_index, stream),
    )
    atomic_write_text(paths["report_md"], render_markdown(report))
    atomic_write_text(paths["report_html"], render_html(report))
    atomic_write_text(paths["report_junit"], render_junit(report))
    atomic_write_text(paths["report_json"], render_json(report))
    return report, paths


def append_step_summary(report: Report) -> None:
    """In a GitHub Actions step, add the Markdown summary to the job's summary page."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as stream:
            stream.write("\n".join(["## maskaudit", "", *render_summary(report)]) + "\n\n")
    except OSError as exc:
        raise UsageError(f"cannot append to GITHUB_STEP_SUMMARY {target} ({exc.strerror or exc})") from None
