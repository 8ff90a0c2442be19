"""Run the pipeline on sampled images and masks: each transform forced alone, then each real step."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import albumentations as A
import numpy as np
from numpy.typing import NDArray

from maskaudit.errors import UsageError
from maskaudit.replay.leaf import Leaf
from maskaudit.replay.measures import LeafMeasure, StepMeasure
from maskaudit.replay.probe import PROBE_FOREGROUND, alignment, probe_pair
from maskaudit.replay.stats import (
    MaskStats,
    ValueStats,
    count_nonzero,
    histogram_span,
    label_set,
    labels_outside,
)

PROBE_REPEATS = 2

Array = NDArray[Any]


@dataclass(frozen=True)
class Sample:
    row: int
    split: str | None
    image: Array
    mask: Array | None


@dataclass
class SampleResult:
    leaves: list[LeafMeasure]
    steps: list[StepMeasure]
    source: ValueStats = field(default_factory=ValueStats)
    source_mask: MaskStats = field(default_factory=MaskStats)
    final: ValueStats = field(default_factory=ValueStats)
    final_mask: MaskStats = field(default_factory=MaskStats)

    def merge(self, other: SampleResult) -> None:
        for mine, theirs in zip(self.leaves, other.leaves, strict=True):
            mine.merge(theirs)
        for step, their_step in zip(self.steps, other.steps, strict=True):
            step.merge(their_step)
        self.source.merge(other.source)
        self.source_mask.merge(other.source_mask)
        self.final.merge(other.final)
        self.final_mask.merge(other.final_mask)


def run_samples(
    compose: A.Compose, leaves: Sequence[tuple[Leaf, A.BasicTransform]], samples: Sequence[Sample],
    repeats: int, seed: int, workers: int,
) -> SampleResult:
    """Every sample in its own task with its own copies of the transforms; merged in sample order.

    Tasks run on threads: nothing is forked (a child forked while OpenCV's threads hold a lock can wait on
    it forever) and the pipeline, user code included, is never pickled. OpenCV and numpy release the GIL
    in their kernels, so the threads share the cores.
    """
    try:
        copy.deepcopy(compose)
    except Exception as exc:  # a transform holding an uncopyable object; training with workers would fail too
        raise UsageError(f"--pipeline: the pipeline cannot be copied for the replay ({_one_line(exc)})") from None
    source = ValueStats()
    for sample in samples:
        source.add(sample.image)
    span = histogram_span(source)
    total = SampleResult([LeafMeasure.spanning(span) for _ in leaves], [StepMeasure() for _ in compose.transforms])

    def task(position: int) -> SampleResult:
        return _replay_sample(compose, leaves, samples[position], position, repeats, seed, span)

    # The warning filters are process-wide: set once here, never from the tasks.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if workers > 1 and len(samples) > 1:
            pool = ThreadPoolExecutor(max_workers=min(workers, len(samples)))
            try:
                results = list(pool.map(task, range(len(samples))))
            finally:  # on an interrupt or an error, samples not yet started are dropped, not run to the end
                pool.shutdown(wait=True, cancel_futures=True)
        else:
            results = [task(i) for i in range(len(samples))]
    for result in results:
        total.merge(result)
    return total


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([abs(p) for p in parts]).generate_state(1)[0])


def _wrap(transform: A.BasicTransform | A.BaseCompose, forced: bool) -> A.Compose:
    child = copy.deepcopy(transform)
    if forced:
        child.p = 1.0
    return A.Compose([child], p=1.0)


def _replay_sample(
    compose: A.Compose, leaves: Sequence[tuple[Leaf, A.BasicTransform]], sample: Sample, position: int,
    repeats: int, seed: int, span: tuple[float, float] | None,
) -> SampleResult:
    forced = [_wrap(transform, forced=True) for _, transform in leaves]
    steps = [_wrap(child, forced=False) for child in compose.transforms]
    by_step: dict[int, list[int]] = {}
    for leaf, _ in leaves:
        by_step.setdefault(leaf.step, []).append(leaf.index)
    result = SampleResult([LeafMeasure.spanning(span) for _ in leaves], [StepMeasure() for _ in steps])
    gate = np.random.default_rng(_seed(seed, position, 7))
    cache = StateCache()
    for repeat in range(repeats):
        image, mask = sample.image, sample.mask
        result.source.add(image)
        if mask is not None:
            result.source_mask.add(mask)
        runs_pipeline = gate.random() < float(compose.p)
        for step, step_compose in enumerate(steps):
            for index in by_step.get(step, []):
                leaf = leaves[index][0]
                measure = result.leaves[index]
                _measure_forced(forced[index], measure, image, mask, _seed(seed, position, repeat, index, 1), cache)
                if repeat < PROBE_REPEATS and leaf.target != "image":
                    _probe(forced[index], measure, image, _seed(seed, position, repeat, index, 2), cache)
            if runs_pipeline:
                image, mask = _run_step(step_compose, result.steps[step], image, mask,
                                        _seed(seed, position, repeat, step, 0))
            _record(result.steps[step], image, mask)
        result.final.add(image)
        if mask is not None:
            result.final_mask.add(mask)
    return result


def reseed(node: A.BasicTransform | A.BaseCompose, seed: int) -> int:
    """Give every transform and container its own generator; returns the next free seed.

    `set_random_seed` hands every child the same seed, so nested probability gates would draw the same
    number and fire together; training (unseeded) draws them independently.
    """
    node.set_random_seed(seed)
    following = seed + 1
    if isinstance(node, A.BaseCompose):
        for child in node.transforms:
            following = reseed(child, following)
    return following


def _call(compose: A.Compose, seed: int, image: Array, mask: Array | None) -> tuple[Array, Array | None]:
    reseed(compose, seed)
    data: dict[str, Any] = {"image": image}
    if mask is not None:
        data["mask"] = mask
    out = compose(**data)
    return np.asarray(out["image"]), (np.asarray(out["mask"]) if mask is not None else None)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


def _run_step(
    compose: A.Compose, measure: StepMeasure, image: Array, mask: Array | None, seed: int
) -> tuple[Array, Array | None]:
    measure.runs += 1
    try:
        return _call(compose, seed, image, mask)
    except Exception:  # a raising step is reported by its transforms; the sample goes on unchanged
        measure.errors += 1
        return image, mask


def _record(measure: StepMeasure, image: Array, mask: Array | None) -> None:
    measure.image.add(image)
    if mask is not None:
        measure.mask.add(mask)


class StateCache:
    """What every transform forced on the same state shares: its mask's labels and its probe pair.

    It holds the arrays it was computed from, so an identity test cannot match a recycled object.
    """

    def __init__(self) -> None:
        self._mask: Array | None = None
        self._labels: set[float] = set()
        self._image: Array | None = None
        self._pair: tuple[Array, Array] | None = None

    def labels(self, mask: Array) -> set[float]:
        if self._mask is not mask:
            self._mask, self._labels = mask, label_set(mask)
        return self._labels

    def probe(self, image: Array) -> tuple[Array, Array]:
        if self._image is not image or self._pair is None:
            self._image, self._pair = image, probe_pair(image)
        return self._pair


def _measure_forced(
    compose: A.Compose, measure: LeafMeasure, image: Array, mask: Array | None, seed: int, cache: StateCache
) -> None:
    measure.runs += 1
    try:
        out_image, out_mask = _call(compose, seed, image, mask)
    except Exception as exc:  # a transform raising on this data is a finding, never a crash
        measure.errors += 1
        measure.messages[_one_line(exc)] += 1
        return
    measure.image_in.add(image)
    measure.image_out.add(out_image)
    if mask is None or out_mask is None:
        return
    measure.mask_in.add(mask)
    measure.mask_out.add(out_mask)
    measure.new_labels |= labels_outside(out_mask, cache.labels(mask) | _fills(compose))
    if count_nonzero(mask):
        measure.nonempty_in += 1
        measure.emptied += not count_nonzero(out_mask)


def _fills(compose: A.Compose) -> set[float]:
    args = compose.transforms[0].get_transform_init_args() if compose.transforms else {}
    fill = args.get("fill_mask", 0)
    if isinstance(fill, int | float):
        return {float(fill)}
    if isinstance(fill, list | tuple):
        return {float(v) for v in fill if isinstance(v, int | float)}
    return {0.0}


def _probe(compose: A.Compose, measure: LeafMeasure, image: Array, seed: int, cache: StateCache) -> None:
    probe_image, probe_mask = cache.probe(image)
    try:
        out_image, out_mask = _call(compose, seed, probe_image, probe_mask)
    except Exception:  # the forced run on real data already reports the error
        return
    assert out_mask is not None
    measure.probe_runs += 1
    measure.probe_new_values |= label_set(out_mask) - {0.0, float(PROBE_FOREGROUND)} - _fills(compose)
    aligned = alignment(out_image, out_mask)
    if aligned is not None:
        measure.aligned_checked += 1
        measure.misaligned += not aligned
