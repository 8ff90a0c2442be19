"""Judge an annotation input: the image checks over its images, then its record checks, then its statistics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from maskaudit.annotations.context import AnnotationContext
from maskaudit.annotations.facts import AnnotationSet
from maskaudit.checks.base import Check, Family, Stage
from maskaudit.checks.context import Context
from maskaudit.checks.registry import ANNOTATION_CHECKS, CHECKS
from maskaudit.data_root import DataRoot
from maskaudit.facts import RowFacts
from maskaudit.findings import Finding, Severity
from maskaudit.judge import active_checks, judge, sort_key, stamp
from maskaudit.settings import Settings

# The manifest checks that judge an image on its own (or images across splits) apply to annotation files unchanged.
IMAGE_CHECKS: tuple[Check, ...] = tuple(
    c for c in CHECKS if c.family is Family.IMAGES
    or c.name in ("image-not-found", "path-outside-root", "split-leakage", "duplicate-image"))


@dataclass(frozen=True)
class AnnotationJudgement:
    """The findings, and what the filtered file leaves out: image rows, and a flag per annotation index (those of
    left-out images included)."""

    findings: tuple[Finding, ...]
    dropped_images: frozenset[int]
    dropped_annotations: NDArray[np.bool_]
    context: AnnotationContext
    image_context: Context


def judge_annotations(data: AnnotationSet, settings: Settings, image_rows: Sequence[RowFacts] = (),
                      root: DataRoot | None = None) -> AnnotationJudgement:
    """Image and record checks first; their errors (and --drop) decide what is kept; statistics judge that."""
    names = {c.name for c in IMAGE_CHECKS}
    image_settings = replace(settings, select=frozenset(names if settings.select is None else names & settings.select))
    images = judge(image_rows, image_settings, has_splits=True, root=root)
    context = AnnotationContext(data, settings, image_rows)
    findings = [_named(f, context) for f in images.findings]
    checks = active_checks(settings, ANNOTATION_CHECKS)
    findings.extend(_run(checks, Stage.ANNOTATIONS, context, settings))
    dropped_rows = set(images.dropped)
    dropped_annotations = np.zeros(len(data.annotations), dtype=np.bool_)
    for finding in findings:
        if finding.severity is not Severity.ERROR and finding.check not in settings.drop:
            continue
        index = finding.details.get("annotation_index")
        if isinstance(index, int):
            dropped_annotations[index] = True
        elif finding.row is not None:
            dropped_rows.add(finding.row)
    image = context.annotation_image
    dropped_annotations |= (image < 0) | np.isin(image, np.fromiter(dropped_rows, dtype=np.int64))
    kept_rows = frozenset(i.row for i in data.images) - dropped_rows
    context = context.with_kept(kept_rows, ~dropped_annotations)
    findings.extend(_run(checks, Stage.ANNOTATIONS_KEPT, context, settings))
    findings.sort(key=sort_key)
    return AnnotationJudgement(tuple(findings), frozenset(dropped_rows), dropped_annotations, context,
                               images.context)


def _run(checks: Sequence[Check], stage: Stage, context: AnnotationContext, settings: Settings) -> list[Finding]:
    found = []
    for check in (c for c in checks if c.stage == stage):
        options = check.resolved_options(settings.thresholds)
        for hit in check.run(context, options):
            finding = stamp(check, hit, settings)
            found.append(replace(finding, row_id=_identity(finding)))
    return found


def _identity(finding: Finding) -> str | None:
    """What a baseline matches an annotation-file finding on: the file and the record's id."""
    details = finding.details
    if "annotation_index" in details:
        return f"{details['file']}:annotation:{details['annotation_id']}#{details['annotation_index']}"
    if finding.row is not None:
        return f"{details['file']}:image:{details['image_id']}"
    return None


def _named(finding: Finding, context: AnnotationContext) -> Finding:
    """An image check's finding, naming the image id and the file that declares it."""
    image = context.data.images[finding.row] if finding.row is not None else None
    if image is None:
        return finding
    return replace(finding, details={**finding.details, "file": context.sources[image.source].name,
                                     "image_id": image.id})
