"""The real CLI on real files that hide what real datasets hide: pictures passed as masks, an undeclared void
rim, a 0/255 mask under an ignore index, inverted and interpolated masks; and the controls that stay silent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import pytest

from maskaudit.cli import run

SIDE = 64


def lesion(top: int = 20, size: int = 11, shape: tuple[int, int] = (SIDE, SIDE), dtype: Any = np.uint8) -> Any:
    mask = np.zeros(shape, dtype=dtype)
    mask[top:top + size, top:top + size] = 1
    return mask


def photo(seed: int, shape: tuple[int, ...] = (SIDE, SIDE, 3), high: int = 220) -> Any:
    return np.random.default_rng(seed).integers(0, high, size=shape, dtype=np.uint8)


def write(path: Path, array: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".npy":
        np.save(path, array)
    else:
        ok, data = cv2.imencode(path.suffix, array)
        assert ok
        path.write_bytes(data.tobytes())
    return f"{path.parent.name}/{path.name}"


def with_rim(value: int) -> Any:
    mask = lesion()
    ring = cv2.dilate(mask, np.ones((3, 3), np.uint8)) - mask
    mask[ring == 1] = value
    return mask


def interpolated() -> Any:
    """A binary lesion downsampled linearly: quarter steps along its border."""
    mask = lesion().astype(np.float32)
    mask[19, 20:31] = mask[31, 20:31] = 0.5
    mask[20:31, 19] = mask[20:31, 31] = 0.25
    mask[19, 19] = mask[31, 31] = 0.75
    return mask


def dataset(root: Path, extra: dict[str, tuple[Any, Any]]) -> Path:
    """Nine clean lesion rows (3% foreground) in train and val, then the named rows; each value is
    (image array or path to reuse, mask array or path to reuse)."""
    records = []
    rows: dict[str, tuple[Any, Any]] = {f"clean-{i}": (photo(i), lesion(10 + i)) for i in range(9)}
    for name, (image, mask) in {**rows, **extra}.items():
        image_path = image if isinstance(image, str) else write(
            root / "images" / (f"{name}.npy" if image.dtype.kind == "f" else f"{name}.png"), image)
        mask_path = mask if isinstance(mask, str) else write(
            root / "masks" / (f"{name}.npy" if mask.dtype.kind == "f" else f"{name}.png"), mask)
        records.append({"id": name, "image_path": image_path, "mask_path": mask_path,
                        "split": "val" if name in {"clean-6", "clean-7", "clean-8"} else "train"})
    manifest = root / "train.csv"
    pd.DataFrame.from_records(records).to_csv(manifest, index=False)
    return manifest


def scan(manifest: Path, out: Path, *options: str) -> tuple[int, dict[str, Any], dict[str, list[tuple[str, str]]]]:
    code = run(["scan", str(manifest), "--out", str(out), "--quiet", *options])
    report = json.loads((out / "report.json").read_text())
    ids = list(pd.read_csv(manifest)["id"])
    by_row: dict[str, list[tuple[str, str]]] = {}
    for finding in report["findings"]:
        key = ids[finding["row"]] if finding["row"] is not None else "dataset"
        by_row.setdefault(key, []).append((finding["check"], finding["severity"]))
    return code, report, by_row


@pytest.fixture(autouse=True)
def no_config_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_realistic_defects_are_caught_and_the_flood_is_gone(tmp_path: Path) -> None:
    root = tmp_path / "data"
    zscored = ((photo(50, (SIDE, SIDE)).astype(np.float32) - 110.0) / 60.0).astype(np.float32)
    zscored_path = write(root / "images" / "ct.npy", zscored)
    rgb_path = write(root / "images" / "street.png", photo(51))
    manifest = dataset(root, {
        "ct-as-mask": (zscored_path, zscored_path),
        "photo-as-mask": (rgb_path, rgb_path),
        "void-rim": (photo(52), with_rim(255)),
        "inverted": (photo(53), 1 - lesion()),
        "interpolated": (photo(54), interpolated()),
        "grey-rgb-mask": (photo(55), cv2.cvtColor(lesion(15), cv2.COLOR_GRAY2BGR)),
        "tiny-lesion": (photo(56), lesion(30, 5)),
        "underexposed": (photo(57, high=12), lesion(12)),
        "portrait": (photo(58, (80, 48, 3)), lesion(20, shape=(80, 48))),
    })
    code, report, by_row = scan(manifest, tmp_path / "out")
    assert code == 1
    assert by_row == {
        "ct-as-mask": [("image-as-mask", "error")],
        "photo-as-mask": [("image-as-mask", "error")],
        "void-rim": [("unexpected-label", "error")],
        "interpolated": [("lossy-mask", "error")],
        "inverted": [("inverted-mask", "warning")],
    }
    messages = {f["check"]: f["message"] for f in report["findings"]}
    assert "this looks like an image, not a label map" in messages["image-as-mask"]
    assert "declare --ignore-index 255 if it is a void label" in messages["unexpected-label"]
    assert "median of 3.0%" in messages["inverted-mask"]
    assert "{0.25, 0.5, 0.75}" in messages["lossy-mask"]
    for stats in report["splits"].values():
        assert set(stats["label_histogram"]) == {"0", "1"}
    kept = set(pd.read_csv(tmp_path / "out" / "filtered.csv")["id"])
    assert kept == set(pd.read_csv(manifest)["id"]) - {"ct-as-mask", "photo-as-mask", "void-rim", "interpolated"}


def test_declared_labels_see_no_junk_values_from_a_picture(tmp_path: Path) -> None:
    root = tmp_path / "data"
    rgb_path = write(root / "images" / "grey.png", photo(60, (SIDE, SIDE)))
    manifest = dataset(root, {"grey-photo-as-mask": (rgb_path, rgb_path)})
    code, _, by_row = scan(manifest, tmp_path / "out", "--labels", "0,1")
    assert code == 1 and by_row == {"grey-photo-as-mask": [("image-as-mask", "error")]}


def test_a_0_255_mask_under_ignore_index_255_is_dropped_and_void_regions_are_not(tmp_path: Path) -> None:
    root = tmp_path / "data"
    void_region = lesion()
    void_region[40:, :] = 255
    manifest = dataset(root, {
        "saved-as-0-255": (photo(70), lesion() * 255),
        "large-void": (photo(71), void_region),
        "void-rim": (photo(72), with_rim(255)),
        "sixteen-bit": (photo(73), lesion(dtype=np.uint16)),
    })
    code, report, by_row = scan(manifest, tmp_path / "out", "--ignore-index", "255")
    assert code == 1
    assert by_row == {"saved-as-0-255": [("unexpected-label", "error"), ("empty-mask", "warning")]}
    message = next(f["message"] for f in report["findings"] if f["check"] == "unexpected-label")
    assert "binary mask saved as 0/255" in message


def test_a_void_label_in_most_masks_is_said_once_not_per_row(tmp_path: Path) -> None:
    root = tmp_path / "data"
    manifest = dataset(root, {f"voc-{i}": (photo(80 + i), with_rim(255)) for i in range(12)})
    code, _, by_row = scan(manifest, tmp_path / "out")
    assert code == 0
    assert set(by_row) == {"dataset"}
    assert by_row["dataset"].count(("undeclared-void-label", "info")) == 1
