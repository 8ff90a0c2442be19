"""The replay's own machinery: seeding, the alignment probe, and what reading a pipeline tells."""

from __future__ import annotations

import os
import warnings
from collections import Counter
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import pytest

from maskaudit.findings import Finding
from maskaudit.replay.engine import reseed
from maskaudit.replay.flatten import flatten
from maskaudit.replay.probe import alignment, probe_pair
from maskaudit.replay.run import PreparedReplay, ReplayOptions, run_replay, static_notes
from maskaudit.replay.section import PipelineSection
from maskaudit.settings import Settings
from tests.replay.conftest import refs_of
from tests.replay.dataset import pipeline

CORNER = {0: "none", 3: "horizontal", 12: "vertical", 15: "both"}


def flips_fired(compose: A.Compose, seeding: str) -> Counter[str]:
    """Which flips ran, read from where the top-left pixel of a 4x4 ramp ends up."""
    image = np.arange(16, dtype=np.uint8).reshape(4, 4)
    seen: Counter[str] = Counter()
    for seed in range(200):
        if seeding == "library":
            compose.set_random_seed(seed)
        else:
            reseed(compose, seed * 100)
        out = compose(image=image)["image"]
        seen[CORNER[int(out[0, 0])]] += 1
    return seen


def test_reseeding_keeps_sibling_gates_independent() -> None:
    compose = A.Compose([A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5)])
    assert set(flips_fired(compose, "library")) == {"none", "both"}  # the library's seeding: together
    combinations = flips_fired(compose, "replay")
    assert len(combinations) == 4 and min(combinations.values()) > 25


def test_probe_bar_tells_aligned_from_misaligned() -> None:
    for image in (np.zeros((48, 48, 3), np.uint8), np.random.default_rng(0).normal(size=(48, 40)).astype(np.float32)):
        probe, mask = probe_pair(image)
        assert probe.dtype == image.dtype and probe.shape == image.shape
        assert set(np.unique(mask)) == {0, 255}
        assert alignment(probe, mask) is True
        assert alignment(np.ascontiguousarray(probe[:, ::-1]), mask) is False
        assert alignment(np.ascontiguousarray(np.swapaxes(probe, 0, 1)), np.ascontiguousarray(mask.T)) is True
        assert alignment(probe[:, ::-1], np.ascontiguousarray(mask[:, ::-1])) is True
        assert alignment(probe[:10], mask) is False


def test_noise_does_not_count_as_misalignment() -> None:
    probe, mask = probe_pair(np.random.default_rng(1).normal(size=(64, 64)).astype(np.float32))
    noisy = probe + np.random.default_rng(2).normal(0, 0.6, size=probe.shape).astype(np.float32)
    assert alignment(noisy, mask) is True


def test_linear_interpolation_shows_on_a_0_255_mask_only() -> None:
    rotate = A.Compose([A.Rotate(limit=(30, 30), mask_interpolation=cv2.INTER_LINEAR, p=1.0)])
    binary = np.zeros((32, 32), np.uint8)
    binary[8:20, 6:14] = 1
    image = np.zeros((32, 32), np.uint8)
    assert set(np.unique(rotate(image=image, mask=binary)["mask"])) <= {0, 1}
    assert len(np.unique(rotate(image=image, mask=binary * 255)["mask"])) > 2


def test_static_notes_name_ignored_arguments_and_mask_keys() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compose = A.Compose([A.RandomGamma(always_apply=True, p=0.5), A.HorizontalFlip(p=0.5)],
                            additional_targets={"gt_mask": "image"})
    notes = static_notes(compose, [leaf for leaf, _ in flatten(compose)])
    assert any("0:RandomGamma" in n and "always_apply" in n and "p stays 0.5" in n for n in notes)
    assert any("'gt_mask' looks like a mask" in n for n in notes)
    assert any("not strict" in n for n in notes)
    strict = A.Compose([A.HorizontalFlip(p=0.5)], strict=True)
    assert static_notes(strict, [leaf for leaf, _ in flatten(strict)]) == []


def test_replay_on_several_workers_never_forks_and_matches_one_worker(
    datasets: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = datasets["zscore"]

    def replayed(workers: int) -> tuple[list[Finding], PipelineSection]:
        options = ReplayOptions(pipeline("clip_then_gamma"), samples=6, repeats=3, seed=5, workers=workers)
        return run_replay(refs_of(manifest), manifest.parent, Settings(), PreparedReplay.of(options))

    def no_fork() -> int:
        raise AssertionError("the replay forked")

    monkeypatch.setattr(os, "fork", no_fork)
    findings, section = replayed(2)
    assert section.facts.samples == 6 and findings
    assert (findings, section) == replayed(1)
