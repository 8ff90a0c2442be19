"""Run the replay end to end: load, sample, measure, judge; return findings and the report section."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import albumentations as A
import numpy as np
from numpy.typing import NDArray

from maskaudit.errors import UsageError
from maskaudit.facts import RowFacts
from maskaudit.findings import Finding
from maskaudit.judge import judge_pipeline, sort_key
from maskaudit.limits import Limits
from maskaudit.manifest import Manifest
from maskaudit.replay.cli_help import DEFAULT_PREPROCESS, DEFAULT_REPEATS, DEFAULT_SAMPLES, DEFAULT_SEED
from maskaudit.replay.engine import Sample, run_samples
from maskaudit.replay.facts import ReplayFacts, shift_and_ratio
from maskaudit.replay.flatten import flatten
from maskaudit.replay.leaf import Leaf
from maskaudit.replay.preprocess import Preprocess, parse_preprocess
from maskaudit.replay.sampling import RowRef, load_samples, stratified
from maskaudit.replay.section import PipelineSection
from maskaudit.replay.spec import LoadedPipeline, load_pipeline
from maskaudit.settings import Settings
from maskaudit.thumbnails import REPLAY_SAMPLES, replay_thumbnails

if TYPE_CHECKING:
    from maskaudit.facts_columns import FactsStore

MASK_LIKE = ("mask", "msk", "label", "seg", "gt", "target")


@dataclass(frozen=True)
class ReplayOptions:
    pipeline: str
    preprocess: str = DEFAULT_PREPROCESS
    samples: int = DEFAULT_SAMPLES
    repeats: int = DEFAULT_REPEATS
    seed: int = DEFAULT_SEED
    workers: int = 1
    limits: Limits = field(default_factory=Limits)

    def validate(self) -> None:
        if self.samples < 1:
            raise UsageError(f"--replay-samples {self.samples}: give at least 1")
        if self.repeats < 1:
            raise UsageError(f"--replay-repeats {self.repeats}: give at least 1")
        if self.seed < 0:
            raise UsageError(f"--seed {self.seed}: give a non-negative integer")


def static_notes(compose: A.Compose, leaves: Sequence[Leaf]) -> list[str]:
    """What reading the pipeline tells before running it: ignored arguments and data keys."""
    notes = []
    for leaf in leaves:
        if leaf.ignored_args:
            notes.append(f"{leaf.label}: albumentations ignored argument(s) {', '.join(leaf.ignored_args)}; "
                         f"p stays {leaf.p:g}")
    targets = dict(getattr(compose, "additional_targets", {}) or {})
    for key, kind in sorted(targets.items()):
        if kind == "image" and any(word in key.lower() for word in MASK_LIKE):
            notes.append(f"additional target {key!r} looks like a mask but is declared as 'image': it gets "
                         f"pixel-level transforms and image interpolation")
        if kind not in ("image", "mask", "masks", "bboxes", "keypoints", "volume", "volumes", "images", "mask3d"):
            notes.append(f"additional target {key!r} has unknown type {kind!r}")
    spatial = any(leaf.target == "dual" for leaf in leaves)
    if spatial and not getattr(compose, "strict", False):
        extra = sorted((getattr(compose, "additional_targets", {}) or {}).keys())
        known = ", ".join(["image", "mask", "masks", *extra])
        notes.append(f"the Compose is not strict: a data key other than {known} is passed through untouched, so "
                     f"a mask under a typo (msk=) is never augmented; construct it with strict=True")
    return notes


def known_keys(compose: A.Compose) -> set[str]:
    keys = set(getattr(compose, "_available_keys", set()) or set())
    return keys | {"image", "mask"} | set((getattr(compose, "additional_targets", {}) or {}).keys())


@dataclass(frozen=True)
class PreparedReplay:
    """Options checked, the pipeline loaded and --preprocess imported, once and before any file is scanned:
    usage errors come first, and user code runs once per run."""

    options: ReplayOptions
    loaded: LoadedPipeline
    preprocess_name: str
    preprocess: Preprocess

    @classmethod
    def of(cls, options: ReplayOptions) -> PreparedReplay:
        options.validate()
        preprocess_name, preprocess = parse_preprocess(options.preprocess)
        return cls(options, load_pipeline(options.pipeline), preprocess_name, preprocess)


def measure_pipeline(
    replay: PreparedReplay, rows: Sequence[RowRef], root: Path | str, manifest: Manifest | None = None
) -> tuple[ReplayFacts, list[Sample]]:
    """The replay facts of a pipeline on sampled rows (measurements only, no judgement), and the samples
    it decoded, in row order; with the manifest, the files it holds are read from it."""
    options, loaded = replay.options, replay.loaded
    refs = stratified(rows, options.samples, options.seed)
    samples, skipped = load_samples(refs, root, replay.preprocess, options.limits, manifest)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        leaves = flatten(loaded.compose, loaded.lost_lambdas)
        result = run_samples(loaded.compose, leaves, samples, options.repeats, options.seed, options.workers)
    step_names: dict[int, list[str]] = {}
    for leaf, _ in leaves:
        step_names.setdefault(leaf.step, []).append(leaf.label)
    notes = [*loaded.notes, *static_notes(loaded.compose, [leaf for leaf, _ in leaves]), *skipped[:20]]
    if not samples:
        notes.append("no row could be replayed: no readable image among the sampled rows")
    source, final = result.source.summary(), result.final.summary()
    shift, ratio = shift_and_ratio(source, final)
    facts = ReplayFacts(
        spec=loaded.spec, kind=loaded.kind, preprocess=replay.preprocess_name, samples=len(samples),
        repeats=options.repeats, seed=options.seed,
        transforms=tuple(measure.facts(leaf) for (leaf, _), measure in zip(leaves, result.leaves, strict=True)),
        steps=tuple(step.facts(i, step_names.get(i, [])) for i, step in enumerate(result.steps)),
        source_image=source, source_mask=result.source_mask.summary(),
        final_image=final, final_mask=result.final_mask.summary(), mean_shift_std=shift, std_ratio=ratio,
        keys=tuple(sorted(known_keys(loaded.compose))), notes=tuple(notes),
        rows=tuple(sample.row for sample in samples),
    )
    return facts, samples


def run_replay(
    rows: Sequence[RowRef], root: Path | str, settings: Settings, replay: PreparedReplay,
    manifest: Manifest | None = None,
) -> tuple[list[Finding], PipelineSection]:
    """Pipeline findings and the report's `pipeline` section."""
    findings, section, _ = _replay(rows, root, settings, replay, manifest)
    return findings, section


def _replay(
    rows: Sequence[RowRef], root: Path | str, settings: Settings, replay: PreparedReplay,
    manifest: Manifest | None = None,
) -> tuple[list[Finding], PipelineSection, list[Sample]]:
    facts, samples = measure_pipeline(replay, rows, root, manifest)
    findings = judge_pipeline(facts, settings)
    return findings, PipelineSection.of(facts, findings), samples


def prepare_replay(
    pipeline: str | None, preprocess: str | None = None, samples: int | None = None, repeats: int | None = None,
    seed: int | None = None, workers: int | None = None, limits: Limits = Limits(),
) -> PreparedReplay | None:
    """None without --pipeline; otherwise the validated options (defaults where a value is None) and the pipeline."""
    if pipeline is None:
        return None
    from maskaudit.api import default_workers

    return PreparedReplay.of(ReplayOptions(
        pipeline,
        preprocess if preprocess is not None else DEFAULT_PREPROCESS,
        samples if samples is not None else DEFAULT_SAMPLES,
        repeats if repeats is not None else DEFAULT_REPEATS,
        seed if seed is not None else DEFAULT_SEED,
        min(workers or default_workers(), default_workers()),
        limits,
    ))


@dataclass(frozen=True)
class Replayed:
    """What a replay adds to a scan: the pipeline findings (in report order), the report's section and the
    pictures of the first replayed rows."""

    findings: tuple[Finding, ...]
    section: PipelineSection
    thumbnails: dict[str, dict[str, Any]]


def replay_audit(facts: FactsStore, kept: NDArray[np.bool_], root: str, settings: Settings,
                 replay: PreparedReplay, manifest: Manifest | None = None) -> Replayed:
    """The replay over a finished scan's kept rows (``kept``: by row number) whose image was measured."""
    rows: list[RowRef] = []
    identities: dict[int, str] = {}
    for batch in facts.batches(["row", "split", "image_path", "mask_path", "row_id", "image"]):
        measured = batch.column("image").is_valid().to_pylist()
        columns = [batch.column(name).to_pylist() for name in ("row", "split", "image_path", "mask_path", "row_id")]
        for ok, row, split, image_path, mask_path, row_id in zip(measured, *columns, strict=True):
            if ok and kept[row]:
                rows.append(RowRef(row, split, image_path, mask_path))
                identities[row] = RowFacts(row, image_path, mask_path, row_id=row_id).identity
    findings, section, samples = _replay(rows, root, settings, replay, manifest)
    return Replayed(tuple(sorted(findings, key=sort_key)), section, sample_pictures(samples, replay, identities))


def sample_pictures(samples: Sequence[Sample], replay: PreparedReplay,
                    identities: Mapping[int, str]) -> dict[str, dict[str, Any]]:
    """Pictures of the first replayed rows before and after one draw, from the samples and the pipeline the
    replay already has: nothing is decoded or imported again."""
    return replay_thumbnails(replay.loaded.compose, samples[:REPLAY_SAMPLES], replay.options.seed, identities)
