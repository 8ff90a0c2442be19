"""Choosing rows to replay, and feeding them as the dataset does."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from maskaudit.errors import UsageError
from maskaudit.replay.preprocess import input_domain, parse_preprocess
from maskaudit.replay.sampling import RowRef, stratified


def refs(counts: dict[str, int]) -> list[RowRef]:
    rows: list[RowRef] = []
    for split, count in counts.items():
        rows += [RowRef(len(rows), split, f"{split}/{i}.png", None) for i in range(count)]
    return rows


def test_stratified_keeps_split_proportions_and_small_splits() -> None:
    chosen = stratified(refs({"train": 80, "val": 15, "test": 5}), 20, seed=0)
    counts = Counter(r.split for r in chosen)
    assert sum(counts.values()) == 20
    assert counts["train"] == 16 and counts["val"] == 3 and counts["test"] == 1
    assert [r.row for r in chosen] == sorted(r.row for r in chosen)


def test_stratified_is_seeded() -> None:
    rows = refs({"train": 50, "val": 50})
    assert stratified(rows, 10, seed=1) == stratified(rows, 10, seed=1)
    assert stratified(rows, 10, seed=1) != stratified(rows, 10, seed=2)
    assert len(stratified(rows, 500, seed=1)) == 100
    assert len(stratified(refs({"a": 1, "b": 1, "c": 1}), 2, seed=0)) == 2


def test_preprocess_domains() -> None:
    image = np.random.default_rng(0).integers(0, 256, size=(16, 16, 3), dtype=np.uint8)

    def domain(name: str) -> str:
        data = parse_preprocess(name)[1](image)
        return input_domain(str(data.dtype), float(data.min()), float(data.max()), float(data.mean()),
                            float(data.std()))

    assert domain("none") == "uint8 0-255"
    assert domain("unit") == "float 0-1"
    assert domain("minmax") == "float 0-1"
    assert domain("zscore") == "z-scored"
    assert domain("zscore-channel") == "z-scored"
    per_channel = parse_preprocess("zscore-channel")[1](image)
    assert np.allclose(per_channel.mean(axis=(0, 1)), 0, atol=1e-5)


def test_user_preprocess_is_imported_and_its_errors_are_usage_errors(tmp_path: Path) -> None:
    module = tmp_path / "user_preprocess.py"
    module.write_text("def halve(image):\n    return image / 2.0\n\ndef broken(image):\n    raise ValueError('no')\n")
    name, halve = parse_preprocess(f"{module}:halve")
    assert name == f"{module}:halve" and float(halve(np.full((2, 2), 4.0)).max()) == 2.0
    broken = parse_preprocess(f"{module}:broken")[1]
    with pytest.raises(UsageError, match="broken\\(\\) raised ValueError"):
        broken(np.zeros((2, 2)))


def test_samples_are_loaded_within_the_scan_limits(tmp_path: Path) -> None:
    import cv2

    from maskaudit.limits import Limits
    from maskaudit.replay.sampling import load_samples

    cv2.imwrite(str(tmp_path / "i.png"), np.zeros((40, 50), np.uint8))
    cv2.imwrite(str(tmp_path / "m.png"), np.zeros((40, 50), np.uint8))
    refs = [RowRef(0, None, "i.png", "m.png")]
    samples, skipped = load_samples(refs, tmp_path, lambda a: a)
    assert [s.image.shape for s in samples] == [(40, 50)] and skipped == []
    samples, skipped = load_samples(refs, tmp_path, lambda a: a, Limits(max_pixels=1000))
    assert samples == [] and len(skipped) == 1 and "--max-pixels" in skipped[0]
