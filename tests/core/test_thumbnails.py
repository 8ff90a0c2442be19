"""Thumbnails shrink before converting, keep label values, and load through the bounded loader."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from maskaudit.facts import RowFacts
from maskaudit.findings import Finding, Severity
from maskaudit.thumbnails import THUMB_SIZE, make_thumbnails, shrink, to_rgb


def test_a_float64_picture_shrinks_to_a_small_float32_copy() -> None:
    picture = np.random.default_rng(0).normal(size=(2000, 3000))
    picture[5:50, 5:50] = np.nan
    small = shrink(picture)
    assert small.shape == (64, THUMB_SIZE) and small.dtype == np.float32
    assert to_rgb(small).shape == (64, THUMB_SIZE, 3)


def test_labels_shrink_by_picking_pixels_and_keep_their_values() -> None:
    labels = np.zeros((1000, 500), np.int64)
    labels[200:800, 100:400] = 7
    small = shrink(labels, nearest=True)
    assert small.shape == (THUMB_SIZE, 48) and small.dtype == np.int64
    assert set(np.unique(small).tolist()) == {0, 7}


def test_a_fifo_row_gets_a_note_instead_of_a_picture(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.png")
    row = RowFacts(row=0, image_path="pipe.png", mask_path=None)
    finding = Finding(code="I001", check="image-unreadable", severity=Severity.ERROR, message="x", row=0)
    thumbs = make_thumbnails([row], [finding], tmp_path)
    assert thumbs["0"]["pictures"] == []
    assert thumbs["0"]["note"] == "image unreadable; no mask path"
