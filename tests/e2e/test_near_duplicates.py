"""The real CLI on real files: a photograph re-encoded (PNG to JPEG q90, JPEG recompressed at q75) across
splits is leakage; re-encoded copies of different scenes and near frames within one split are not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import pytest

from maskaudit.cli import run

SIDE = 96


def scene(seed: int) -> Any:
    """A smooth gradient, a few shapes and sensor noise: one scene type, each seed a different scene."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, SIDE, dtype=np.float32)[None, :, None] * rng.uniform(0, 255, 3).astype(np.float32)
    canvas = np.broadcast_to(ramp, (SIDE, SIDE, 3)).copy() + rng.uniform(0, 60, 3).astype(np.float32)
    for _ in range(6):
        centre = (int(rng.integers(0, SIDE)), int(rng.integers(0, SIDE)))
        cv2.circle(canvas, centre, int(rng.integers(6, 30)), tuple(float(c) for c in rng.uniform(0, 255, 3)), -1)
    canvas += rng.normal(0, 5, canvas.shape).astype(np.float32)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def encode(array: Any, ext: str, quality: int | None = None) -> bytes:
    ok, data = cv2.imencode(ext, array, [cv2.IMWRITE_JPEG_QUALITY, quality] if quality else [])
    assert ok
    return data.tobytes()


@pytest.fixture(autouse=True)
def no_config_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_reencoded_copies_leak_across_splits_and_different_scenes_do_not(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    mask = np.zeros((SIDE, SIDE), np.uint8)
    mask[30:60, 30:60] = 1
    cv2.imwrite(str(root / "masks" / "m.png"), mask)
    files: dict[str, bytes] = {f"train-{i}.png": encode(scene(i), ".png") for i in range(8)}
    q90 = encode(scene(0), ".jpg", 90)
    files["test-0-q90.jpg"] = q90  # train-0 saved as JPEG q90
    files["test-1-q75.jpg"] = encode(cv2.imdecode(np.frombuffer(encode(scene(1), ".jpg", 90), np.uint8),
                                                  cv2.IMREAD_COLOR), ".jpg", 75)  # train-1, JPEG recompressed
    files["test-2-copy.png"] = files["train-2.png"]  # byte for byte
    for seed in (20, 21, 22):  # different scenes, re-encoded the same way: no match
        files[f"test-{seed}-q75.jpg"] = encode(scene(seed), ".jpg", 75)
    frame = scene(3).astype(np.int16)
    frame[:, :2] = 0  # the next frame of train-3's video: a near duplicate within train
    files["train-3-next-frame.png"] = encode(np.clip(frame, 0, 255).astype(np.uint8), ".png")
    records = []
    for name, data in files.items():
        (root / "images" / name).write_bytes(data)
        records.append({"image_path": f"images/{name}", "mask_path": "masks/m.png",
                        "split": name.split("-")[0]})
    manifest = root / "manifest.csv"
    pd.DataFrame.from_records(records).to_csv(manifest, index=False)
    out = tmp_path / "out"
    code = run(["scan", str(manifest), "--out", str(out), "--quiet"])
    report = json.loads((out / "report.json").read_text())
    leaks = {records[f["row"]]["image_path"]: f for f in report["findings"] if f["check"] == "split-leakage"}
    assert code == 1
    assert set(leaks) == {"images/test-0-q90.jpg", "images/test-1-q75.jpg", "images/test-2-copy.png"}
    assert leaks["images/test-2-copy.png"]["details"]["match"] == "exact"
    for name, home in (("test-0-q90.jpg", "train-0.png"), ("test-1-q75.jpg", "train-1.png")):
        finding = leaks[f"images/{name}"]
        assert finding["details"]["match"] == "near" and finding["details"]["distance"] <= 5
        assert f"images/{home}" in finding["message"] and finding["details"]["home_path"] == f"images/{home}"
    assert not [f for f in report["findings"] if f["check"] == "duplicate-image"]
