"""What cv2 and PIL make of the files whose headers they read differently, checked on real files, and the real
CLI's findings on them: EXIF-rotated phone photos, palette PNGs, PNGs with a tRNS chunk, CMYK JPEGs.

Every loader claim a finding makes is asserted here against the installed cv2 and PIL, never assumed.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageOps

from maskaudit.cli import run
from maskaudit.header import traits
from maskaudit.loading import load

STORED = (48, 64)  # height, width of the landscape photos as stored
DISPLAYED = (64, 48)  # as shown after Orientation 6 or 8


def photo(seed: int, shape: tuple[int, int] = STORED) -> Any:
    return np.random.default_rng(seed).integers(0, 220, size=(*shape, 3), dtype=np.uint8)


def exif(orientation: int) -> Image.Exif:
    tags = Image.Exif()
    tags[0x0112] = orientation
    return tags


def save_photo(path: Path, array: Any, orientation: int | None, fmt: str = "JPEG") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {"lossless": True} if fmt == "WEBP" else {}
    if orientation is not None:
        extra["exif"] = exif(orientation)
    Image.fromarray(array).save(path, fmt, **extra)
    return f"{path.parent.name}/{path.name}"


def lesion(shape: tuple[int, int], top: int = 10) -> Any:
    mask = np.zeros(shape, np.uint8)
    mask[top:top + 20, top:top + 12] = 1
    return mask


def save_mask(path: Path, mask: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask).save(path)
    return f"{path.parent.name}/{path.name}"


def palette_mask(path: Path, shape: tuple[int, int], transparent: bool = False) -> str:
    image = Image.fromarray(lesion(shape), "P")
    image.putpalette([0, 0, 0, 128, 0, 0] + [0] * 762)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **({"transparency": 0} if transparent else {}))
    return f"{path.parent.name}/{path.name}"


def with_chunk(png: bytes, kind: bytes, body: bytes) -> bytes:
    """A PNG with one more chunk right after its IHDR."""
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return png[:33] + chunk + png[33:]


def pil_array(path: Path, transpose: bool = False) -> Any:
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image) if transpose else image)


def scan(tmp_path: Path, rows: dict[str, tuple[str, str]]) -> tuple[int, dict[str, list[Any]]]:
    manifest = tmp_path / "data" / "train.csv"
    pd.DataFrame.from_records([{"id": k, "image_path": i, "mask_path": m} for k, (i, m) in rows.items()]).to_csv(
        manifest, index=False)
    out = tmp_path / "out"
    code = run(["scan", str(manifest), "--out", str(out), "--quiet"])
    report = json.loads((out / "report.json").read_text())
    by_row: dict[str, list[Any]] = {}
    for finding in report["findings"]:
        key = list(rows)[finding["row"]] if finding["row"] is not None else "dataset"
        by_row.setdefault(key, []).append(finding)
    return code, by_row


@pytest.fixture(autouse=True)
def no_config_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(("fmt", "suffix"), [("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp")])
def test_which_loaders_apply_an_exif_orientation(tmp_path: Path, fmt: str, suffix: str) -> None:
    path = tmp_path / f"o6{suffix}"
    save_photo(path, photo(0), 6, fmt)
    turned = (DISPLAYED[0], DISPLAYED[1], 3)
    assert cv2.imread(str(path)).shape == turned
    assert cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).shape == DISPLAYED
    assert pil_array(path, transpose=True).shape == turned
    assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).shape == (*STORED, 3)
    assert pil_array(path).shape == (*STORED, 3)
    decoded, problem = load(str(path), tmp_path, "image")
    assert problem is None and decoded is not None
    assert decoded.array.shape == (*STORED, 3) and decoded.traits.orientation == 6 and not decoded.traits.upright
    if fmt != "JPEG":  # lossless: the turn is exactly a clockwise quarter turn of the stored pixels
        assert np.array_equal(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), np.rot90(photo(0), -1))


def test_a_tiff_orientation_is_applied_by_cv2_and_pil_so_the_scan_sees_it_upright(tmp_path: Path) -> None:
    path = tmp_path / "o6.tif"
    Image.fromarray(photo(0)).save(path, tiffinfo={0x0112: 6})
    raw = path.read_bytes()
    assert cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED).shape == (*DISPLAYED, 3)
    assert pil_array(path).shape == (*DISPLAYED, 3)
    decoded, problem = load(str(path), tmp_path, "image")
    assert problem is None and decoded is not None
    assert decoded.array.shape == (*DISPLAYED, 3) and decoded.traits.orientation == 6 and decoded.traits.upright


def test_what_cv2_and_pil_make_of_palettes_trns_and_cmyk(tmp_path: Path) -> None:
    shape = (16, 16)
    palette = tmp_path / "m" / "palette.png"
    palette_mask(palette, shape)
    assert pil_array(palette).shape == shape and set(np.unique(pil_array(palette))) == {0, 1}
    colours = cv2.imread(str(palette), cv2.IMREAD_UNCHANGED)
    assert colours.shape == (*shape, 3) and {tuple(c) for c in colours.reshape(-1, 3)} == {(0, 0, 0), (0, 0, 128)}
    assert set(np.unique(cv2.imread(str(palette), cv2.IMREAD_GRAYSCALE))) - {0, 1}

    keyed = tmp_path / "m" / "keyed.png"
    Image.fromarray(np.stack([lesion(shape) * 200] * 3, -1)).save(keyed, transparency=(0, 0, 0))
    assert cv2.imread(str(keyed), cv2.IMREAD_UNCHANGED).shape == (*shape, 4)
    assert cv2.imread(str(keyed)).shape == (*shape, 3) and pil_array(keyed).shape == (*shape, 3)
    palette_keyed = tmp_path / "m" / "palette-keyed.png"
    palette_mask(palette_keyed, shape, transparent=True)
    assert cv2.imread(str(palette_keyed), cv2.IMREAD_UNCHANGED).shape == (*shape, 4)
    assert pil_array(palette_keyed).shape == shape
    grey_keyed = tmp_path / "m" / "grey-keyed.png"  # one channel for both: not a disagreement
    Image.fromarray(lesion(shape)).save(grey_keyed, transparency=0)
    assert cv2.imread(str(grey_keyed), cv2.IMREAD_UNCHANGED).shape == shape == pil_array(grey_keyed).shape

    cmyk = tmp_path / "i" / "cmyk.jpg"
    cmyk.parent.mkdir()
    Image.fromarray(photo(1, shape)).convert("CMYK").save(cmyk, quality=95)
    assert pil_array(cmyk).shape == (*shape, 4)
    assert cv2.imread(str(cmyk)).shape == (*shape, 3) == cv2.imread(str(cmyk), cv2.IMREAD_UNCHANGED).shape

    found = {name: traits(path.read_bytes(), "jpeg" if path.suffix == ".jpg" else "png")
             for name, path in (("palette", palette), ("keyed", keyed), ("palette-keyed", palette_keyed),
                                ("grey-keyed", grey_keyed), ("cmyk", cmyk))}
    assert found["palette"].palette and not found["palette"].transparency
    assert found["keyed"].transparency and not found["keyed"].palette
    assert found["palette-keyed"].palette and found["palette-keyed"].transparency
    assert not found["grey-keyed"].transparency
    assert found["cmyk"].cmyk


def test_a_gamma_chunk_changes_no_pixel_for_either_loader(tmp_path: Path) -> None:
    """Checked and not reported: neither cv2 nor PIL applies gAMA, in 16 or 8 bits."""
    for dtype in (np.uint16, np.uint8):
        pixels = (np.arange(64).reshape(8, 8) * (1000 if dtype == np.uint16 else 3)).astype(dtype)
        path = tmp_path / f"gamma-{np.dtype(dtype).name}.png"
        Image.fromarray(pixels).save(path)
        path.write_bytes(with_chunk(path.read_bytes(), b"gAMA", struct.pack(">I", 100_000)))
        assert np.array_equal(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), pixels)
        assert np.array_equal(pil_array(path), pixels)


def test_exif_rotated_phone_photos_name_the_geometry_their_mask_matches(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rows = {f"clean-{i}": (save_photo(data / "images" / f"clean-{i}.jpg", photo(i), None),
                           save_mask(data / "masks" / f"clean-{i}.png", lesion(STORED, 5 + i))) for i in range(4)}
    rows.update({
        "drawn-upright": (save_photo(data / "images" / "upright.jpg", photo(10), 6),
                          save_mask(data / "masks" / "upright.png", lesion(DISPLAYED))),
        "drawn-on-stored": (save_photo(data / "images" / "stored.jpg", photo(11), 8),
                            save_mask(data / "masks" / "stored.png", lesion(STORED))),
        "square": (save_photo(data / "images" / "square.jpg", photo(12, (48, 48)), 6),
                   save_mask(data / "masks" / "square.png", lesion((48, 48)))),
        "orientation-1": (save_photo(data / "images" / "o1.jpg", photo(13), 1),
                          save_mask(data / "masks" / "o1.png", lesion(STORED))),
        "portrait": (save_photo(data / "images" / "portrait.jpg", photo(14, DISPLAYED), None),
                     save_mask(data / "masks" / "portrait.png", lesion(DISPLAYED))),
        "png-upright": (save_photo(data / "images" / "upright.png", photo(15), 6, "PNG"),
                        save_mask(data / "masks" / "png-upright.png", lesion(DISPLAYED))),
    })
    code, by_row = scan(tmp_path, rows)
    assert code == 1
    checks = {key: sorted((f["check"], f["severity"]) for f in found) for key, found in by_row.items()}
    assert checks == {
        "drawn-upright": [("exif-orientation", "error"), ("shape-mismatch", "error")],
        "drawn-on-stored": [("exif-orientation", "error")],
        "square": [("exif-orientation", "warning")],
        "png-upright": [("exif-orientation", "error"), ("shape-mismatch", "error")],
    }
    message = {(key, f["check"]): f["message"] for key, found in by_row.items() for f in found}
    upright = message["drawn-upright", "exif-orientation"]
    assert "mask matches the picture as displayed (64x48)" in upright and "not the stored 48x64" in upright
    assert "cv2.imread with IMREAD_UNCHANGED, plain PIL Image.open" in upright
    mismatch = message["drawn-upright", "shape-mismatch"]
    assert "matches the image as displayed after its EXIF rotation (Orientation=6)" in mismatch
    assert "the image, not the mask, is the file to fix" in mismatch
    stored = message["drawn-on-stored", "exif-orientation"]
    assert "Orientation=8" in stored and "mask matches the stored 48x64 pixels" in stored
    assert "cv2.imread with default flags (or IMREAD_GRAYSCALE) and PIL ImageOps.exif_transpose" in stored
    assert "cannot tell" in message["square", "exif-orientation"]


def test_a_tiff_mask_drawn_on_the_stored_pixels_is_told_apart_from_the_upright_view(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    Image.fromarray(photo(20)).save(data / "images" / "scan.tif", tiffinfo={0x0112: 6})
    rows = {"tiff": ("images/scan.tif", save_mask(data / "masks" / "scan.png", lesion(STORED)))}
    code, by_row = scan(tmp_path, rows)
    assert code == 1
    found = {f["check"]: f for f in by_row["tiff"]}
    assert set(found) == {"exif-orientation", "shape-mismatch"}
    assert found["exif-orientation"]["details"]["mask_matches"] == "stored"
    assert "cv2 and PIL Image.open turn the image" in found["exif-orientation"]["message"]
    mismatch = found["shape-mismatch"]["message"]
    assert mismatch.startswith("mask is 48x64 but its image is 64x48 as displayed after its EXIF rotation")
    assert "it matches the image's stored pixels, which tifffile" in mismatch


def test_loader_disagreements_are_said_once_per_kind_with_examples(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shape = (32, 32)
    rows = {f"palette-{i}": (save_mask(data / "images" / f"p{i}.png", photo(i, shape)),
                             palette_mask(data / "masks" / f"p{i}.png", shape)) for i in range(3)}
    cmyk = data / "images" / "cmyk.jpg"
    Image.fromarray(photo(5, shape)).convert("CMYK").save(cmyk, quality=95)
    keyed = data / "masks" / "keyed.png"
    Image.fromarray(np.stack([lesion(shape)] * 3, -1)).save(keyed, transparency=(0, 0, 0))
    rows["cmyk"] = ("images/cmyk.jpg", save_mask(data / "masks" / "c.png", lesion(shape)))
    rows["keyed"] = (save_mask(data / "images" / "k.png", photo(6, shape)), "masks/keyed.png")
    rows["plain"] = (save_mask(data / "images" / "plain.png", photo(7, shape)),
                     save_mask(data / "masks" / "plain.png", lesion(shape)))
    _, by_row = scan(tmp_path, rows)
    said = {(f["details"]["role"], f["details"]["trait"]): f for f in by_row["dataset"]
            if f["check"] == "loader-disagreement"}
    assert set(said) == {("mask", "palette"), ("image", "cmyk"), ("mask", "transparency")}
    assert all(f["severity"] == "warning" for f in said.values())
    palette = said["mask", "palette"]
    assert palette["message"].startswith("3 masks are palette PNGs: cv2.imread reads a palette PNG as 3-channel BGR")
    assert "a loader using cv2 gets colours, not labels" in palette["message"]
    assert palette["details"]["examples"] == ["masks/p0.png", "masks/p1.png", "masks/p2.png"]
    assert "PIL Image.open gives 4-channel CMYK arrays" in said["image", "cmyk"]["message"]
    assert "adds a fourth, alpha channel" in said["mask", "transparency"]["message"]
    assert "plain" not in by_row
