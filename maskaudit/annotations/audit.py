"""Audit annotation files end to end: read, decode the images, judge, report, and write the filtered files."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from maskaudit import storage
from maskaudit.annotations.detect import Input
from maskaudit.annotations.facts import AnnotationSet, InputKind
from maskaudit.annotations.filtered import write_filtered
from maskaudit.annotations.images import image_rows
from maskaudit.annotations.judge import IMAGE_CHECKS, AnnotationJudgement, judge_annotations
from maskaudit.annotations.overlaps import OVERLAP_FLOOR
from maskaudit.annotations.rasterize import RASTER_CHECKS, judge_rasterized, raster_settings, rasterized_rows
from maskaudit.annotations.reader import annotation_elements, read_annotations
from maskaudit.checks.annotations.duplicate_instance import duplicate_instance
from maskaudit.data_root import DataRoot
from maskaudit.errors import UsageError
from maskaudit.facts import RowFacts
from maskaudit.facts_columns import FactsStore, facts_batch
from maskaudit.findings import Finding
from maskaudit.findings_file import write_findings
from maskaudit.judge import sort_key
from maskaudit.limits import Limits
from maskaudit.output import SCAN_FILES, OutputSet, write_facts
from maskaudit.report import DEFAULT_EXAMPLES, ManifestInfo, Report, SplitSummary, checks_ran
from maskaudit.reporters.html import render_html
from maskaudit.reporters.json_report import render_json
from maskaudit.reporters.junit import render_junit
from maskaudit.reporters.markdown import render_markdown
from maskaudit.settings import Settings
from maskaudit.thumbnails import make_thumbnails


@dataclass(frozen=True)
class AnnotationRun:
    """A finished audit of annotation files: the report, and what writing the other outputs needs."""

    report: Report
    findings: tuple[Finding, ...]
    data: AnnotationSet
    rows: list[RowFacts]
    judgement: AnnotationJudgement
    roots: tuple[str, ...]
    limits: Limits = field(default_factory=Limits)

    def kept_counts(self, source: int) -> dict[str, int]:
        """Images and annotations of one input file that the filtered file keeps."""
        images = sum(1 for i in self.data.images if i.source == source and i.row not in self.judgement.dropped_images)
        start, end = self.data.annotations.starts[source], self.data.annotations.starts[source + 1]
        return {"images": images, "annotations": int(np.count_nonzero(~self.judgement.dropped_annotations[start:end]))}


def content_hash(paths: list[str]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def run_annotation_audit(given: Input, settings: Settings, *, root: str | os.PathLike[str] | None = None,
                         split_field: str | None = None, workers: int = 1, limits: Limits = Limits(),
                         examples: int = DEFAULT_EXAMPLES, config: Path | None = None,
                         rasterize: bool = False) -> AnnotationRun:
    """Read the annotation files, decode each image they name once, and judge; image names resolve against
    ``root``, else the folder of the file that names them. ``rasterize``: also judge each kept image's label map
    with the mask checks."""
    iou = duplicate_instance.resolved_options(settings.thresholds)["iou"]
    if iou < OVERLAP_FLOOR:
        raise UsageError(f"duplicate-instance iou {iou:g} is below {OVERLAP_FLOOR:g}, the least overlap measured; "
                         f"set it to {OVERLAP_FLOOR:g} or more")
    data = read_annotations(given, split_field)
    roots = tuple(os.fspath(root) if root is not None else _folder(location) for location in given.locations)
    rows = image_rows(data.images, data.sources, roots, workers, limits)
    data_root = DataRoot(roots[0] if storage.is_remote(roots[0]) else os.path.normpath(os.path.abspath(roots[0])),
                         declared=root is not None)
    judgement = judge_annotations(data, settings, rows, data_root)
    findings, ran = judgement.findings, checks_ran(settings, pipeline=False, checks=IMAGE_CHECKS)
    if rasterize:
        painted = raster_settings(settings, judgement.context)
        counts = np.diff(data.annotations.starts).tolist()
        maps = rasterized_rows(judgement.context, annotation_elements(data.sources, counts), limits)
        findings = tuple(sorted(findings + judge_rasterized(judgement.context, maps, painted, data_root), key=sort_key))
        ran += checks_ran(painted, pipeline=False, checks=RASTER_CHECKS)
    kept = frozenset(i.row for i in data.images) - judgement.dropped_images
    kept_by_split = Counter(i.split for i in data.images if i.row in kept)
    stats = {name: SplitSummary.of(s, kept_by_split[name])
             for name, s in judgement.image_context.by_split_stats().items()}
    kept_annotations = len(data.annotations) - int(np.count_nonzero(judgement.dropped_annotations))
    paths = [s.path for s in data.sources]
    shown = given.locations
    report = Report(
        manifest=ManifestInfo(
            path=shown[0] if len(shown) == 1 else f"{shown[0]} (+{len(shown) - 1} more)",
            format=given.kind.value, rows=len(data.images), content_hash=content_hash(paths),
            columns={"split": split_field}, root=roots[0], config=str(config) if config is not None else None),
        settings={**settings.to_dict(), "max_file_bytes": limits.max_file_bytes, "max_pixels": limits.max_pixels,
                  "cache": False},
        rows_kept=len(kept), rows_dropped=len(data.images) - len(kept), splits=stats, examples_per_check=examples,
        ran=ran + checks_ran(settings, False, annotations=True),
        fail_on=settings.fail_on,
        notes=(f"{given.kind.value} input: {len(paths)} file(s), {len(data.images)} images, {len(data.categories)} "
               f"categories, {len(data.annotations)} annotations ({kept_annotations} kept); rows are images",),
    ).with_findings(findings)
    return AnnotationRun(report, findings, data, rows, judgement, roots, limits)


def _folder(location: str) -> str:
    """The folder an annotation file lies in, where the images it names are looked for without --root."""
    return storage.parent(location) if storage.is_remote(location) else os.path.dirname(os.path.abspath(location))


def filtered_name(source_path: str) -> str:
    stem = os.path.basename(source_path)
    stem = stem[:-5] if stem.lower().endswith(".json") else stem
    return f"{stem}.filtered.json"


def write_annotation_outputs(run: AnnotationRun, output: OutputSet) -> tuple[Report, dict[str, Path | str]]:
    """Write the reports, the facts and findings, and one filtered file per input (SA-1B: a folder ``filtered``
    of the kept per-image files); commit the set."""
    names: dict[str, str] = dict(SCAN_FILES)
    drops = _drops(run)
    if run.data.kind is InputKind.COCO:
        for number, source in enumerate(run.data.sources):
            names["filtered_manifest" if number == 0 else f"filtered_{number}"] = filtered_name(source.path)
    else:
        names["filtered_manifest"] = "filtered"
    report = replace(run.report, outputs={key: str(output.final(name)) for key, name in names.items()},
                     thumbnails=make_thumbnails(run.rows, run.report.examples, run.roots[0], limits=run.limits))
    if run.data.kind is InputKind.COCO:
        for number, source in enumerate(run.data.sources):
            _write_checked(output.staged(filtered_name(source.path)), source.path, drops[number],
                           run.kept_counts(number))
    else:
        folder = output.staged("filtered")
        folder.mkdir()
        for number, source in enumerate(run.data.sources):
            if run.kept_counts(number)["images"]:
                _write_checked(folder / source.name, source.path, drops[number], run.kept_counts(number))
    _write(output.staged(names["facts"]), lambda stream: write_facts(FactsStore.of([facts_batch(run.rows)]), stream))
    _write(output.staged(names["findings"]), lambda stream: write_findings(run.findings, stream))
    for key, render in (("report_md", render_markdown), ("report_html", render_html), ("report_junit", render_junit),
                        ("report_json", render_json)):
        text = render(report)
        _write(output.staged(names[key]), lambda stream, text=text: stream.write(text.encode("utf-8")))
    output.commit()
    return report, {key: output.final(name) for key, name in names.items()}


def _drops(run: AnnotationRun) -> dict[int, dict[str, set[int]]]:
    """Per input file, the positions of left-out records in its images and annotations arrays."""
    drops: dict[int, dict[str, set[int]]] = {n: {"images": set(), "annotations": set()}
                                             for n in range(len(run.data.sources))}
    for image in run.data.images:
        if image.row in run.judgement.dropped_images:
            drops[image.source]["images"].add(image.position)
    columns = run.data.annotations
    dropped = np.flatnonzero(run.judgement.dropped_annotations)
    for source, position in zip(columns.source[dropped].tolist(), columns.positions(dropped).tolist(), strict=True):
        drops[source]["annotations"].add(position)
    if run.data.kind is InputKind.SA1B:
        for drop in drops.values():
            del drop["images"]
    return drops


def _write_checked(path: Path, source: str, drop: dict[str, set[int]], expected: dict[str, int]) -> None:
    kept: dict[str, int] = {}

    def write(stream: IO[bytes]) -> None:
        kept.update(write_filtered(source, drop, stream))

    _write(path, write)
    if any(kept.get(key, expected[key]) != expected[key] for key in drop):
        raise UsageError(f"{source} changed while it was audited; scan it again")


def _write(path: Path, write: Any) -> None:
    with path.open("wb") as stream:
        write(stream)
        stream.flush()
        os.fsync(stream.fileno())
