"""Small inline pictures of flagged rows, computed once at scan time and stored in the report.

The HTML reporter stays a pure function of the report: it only embeds these data URIs. A missing or
corrupt file never breaks anything; its picture is left out with a note saying why.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from numpy.typing import NDArray

from maskaudit.decode import Decoded
from maskaudit.facts import Problem, ProblemKind, RowFacts
from maskaudit.findings import Finding
from maskaudit.held_files import read_files
from maskaudit.limits import Limits
from maskaudit.loading import Read, decode
from maskaudit.manifest import Manifest
from maskaudit.native_stderr import native_stderr_silenced

if TYPE_CHECKING:
    from maskaudit.replay.engine import Sample

THUMB_SIZE = 96
PER_CHECK = 3
MAX_ROWS = 48
THUMB_CHUNK = 8
"""Flagged rows whose files are read together: at most this many rows' files are held (encoded) at once."""
REPLAY_SAMPLES = 4
# Label colours for the overlay (RGB), picked by label value.
PALETTE = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240))
ALPHA = 0.45
IMAGE_ONLY = frozenset({"empty-mask"})
SIDE_BY_SIDE = frozenset({"shape-mismatch"})


def data_uri(array: NDArray[np.uint8], fmt: str) -> str:
    """An RGB or grey uint8 array as a JPEG or PNG data URI."""
    pixels = cv2.cvtColor(array, cv2.COLOR_RGB2BGR) if array.ndim == 3 else array
    params = [cv2.IMWRITE_JPEG_QUALITY, 80] if fmt == "jpeg" else [cv2.IMWRITE_PNG_COMPRESSION, 9]
    ok, encoded = cv2.imencode(".jpg" if fmt == "jpeg" else ".png", pixels, params)
    if not ok:
        raise ValueError(f"cannot encode a {fmt} thumbnail")
    return f"data:image/{fmt};base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


def plane(decoded: Decoded) -> NDArray[Any]:
    """A 2-D (or H x W x C) view of any decoded array: middle slice of a volume, channels last."""
    array = np.asarray(decoded.array)
    if decoded.channels_first and array.ndim == 3:
        array = np.moveaxis(array, 0, -1)
    while array.ndim > 3:
        array = array[..., array.shape[-1] // 2] if decoded.volume else array[array.shape[0] // 2]
    if array.ndim == 3 and array.shape[2] not in (1, 3, 4):
        array = array[..., array.shape[2] // 2]
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    return array


def to_rgb(array: NDArray[Any]) -> NDArray[np.uint8]:
    """Scale finite values to 0-255 and return RGB, whatever the dtype or range (of an already small array)."""
    values = np.asarray(array, dtype=np.float64)
    if values.ndim == 3:
        values = values[..., :3]
    finite = np.isfinite(values)
    if not finite.any():
        values = np.zeros(values.shape)
    else:
        low, high = float(values[finite].min()), float(values[finite].max())
        values = np.where(finite, values, low)
        values = (values - low) / (high - low) * 255.0 if high > low else np.full(values.shape, 128.0)
    scaled = np.clip(values, 0, 255).astype(np.uint8)
    return np.repeat(scaled[..., None], 3, axis=2) if scaled.ndim == 2 else np.ascontiguousarray(scaled)


def _target(array: NDArray[Any], size: int) -> tuple[int, int]:
    height, width = array.shape[:2]
    scale = size / max(height, width, 1)
    return max(1, round(height * scale)), max(1, round(width * scale))


def shrink(array: NDArray[Any], nearest: bool = False, size: int = THUMB_SIZE) -> NDArray[Any]:
    """Fit within size x size, before any conversion: labels (nearest) keep their values, pictures are averaged.

    Labels are picked pixel by pixel (any dtype, no full-size copy). A uint8 picture is area-averaged as it is;
    other dtypes are first subsampled to a few times the target, then averaged as float32: never a full-size
    float copy.
    """
    height, width = _target(array, size)
    if nearest:
        rows = (np.arange(height) * array.shape[0]) // height
        cols = (np.arange(width) * array.shape[1]) // width
        return np.ascontiguousarray(array[rows][:, cols])
    if array.dtype != np.uint8:
        step = max(1, max(array.shape[:2]) // (size * 4))
        array = np.asarray(array[::step, ::step], dtype=np.float32)
    if array.ndim == 3 and array.shape[2] > 4:
        array = np.ascontiguousarray(array[..., :4])
    smooth = height < array.shape[0] or width < array.shape[1]
    return cv2.resize(array, (width, height), interpolation=cv2.INTER_AREA if smooth else cv2.INTER_NEAREST)


def label_map(array: NDArray[Any]) -> NDArray[np.int32]:
    """Mask labels as integers; a colour-coded mask becomes one id per distinct colour."""
    if array.ndim == 3:
        flat = array.reshape(-1, array.shape[2])
        _, inverse = np.unique(flat, axis=0, return_inverse=True)
        ids = inverse.reshape(array.shape[:2]).astype(np.int32)
        background = np.all(array[..., :3] == 0, axis=2)
        return np.where(background, 0, ids + 1)
    values = np.nan_to_num(np.asarray(array, dtype=np.float64), nan=0.0)
    return values.astype(np.int32)


def overlay(image: NDArray[np.uint8], labels: NDArray[np.int32]) -> NDArray[np.uint8]:
    if labels.shape[:2] != image.shape[:2]:
        labels = np.asarray(cv2.resize(labels, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST),
                            dtype=np.int32)
    out = image.astype(np.float64)
    for value in np.unique(labels):
        if value == 0:
            continue
        colour = np.array(PALETTE[int(value) % len(PALETTE)], dtype=np.float64)
        where = labels == value
        out[where] = out[where] * (1 - ALPHA) + colour * ALPHA
    return out.astype(np.uint8)


def mask_picture(labels: NDArray[np.int32]) -> NDArray[np.uint8]:
    picture = np.zeros((*labels.shape[:2], 3), dtype=np.uint8)
    for value in np.unique(labels):
        if value != 0:
            picture[labels == value] = PALETTE[int(value) % len(PALETTE)]
    return picture


def _plane(outcome: tuple[Read | None, Problem | None], role: str, limits: Limits
           ) -> tuple[NDArray[Any] | None, str | None]:
    content, problem = outcome
    decoded, problem = decode(content, role, limits) if content is not None else (None, problem)
    if decoded is None:  # the finding says why; the note only says which picture is missing
        kind = problem.kind if problem is not None else ProblemKind.MISSING_PATH
        return None, {ProblemKind.MISSING_PATH: f"no {role} path", ProblemKind.NOT_FOUND: f"{role} file not found",
                      ProblemKind.UNREADABLE: f"{role} unreadable"}[kind]
    try:
        return plane(decoded), None
    except Exception as exc:  # a damaged file omits its picture, never the report
        return None, f"{role} unreadable ({type(exc).__name__})"


def row_thumbnail(image: NDArray[Any] | None, mask: NDArray[Any] | None, check: str, notes: Sequence[str | None]
                  ) -> dict[str, Any]:
    """Pictures for one flagged row: overlay, both sides of a mismatch, or the image of an empty mask; ``notes``
    say which pictures are missing."""
    pictures: list[dict[str, str]] = []
    said = [n for n in notes if n]
    try:
        rgb = to_rgb(shrink(image)) if image is not None else None
        labels = label_map(shrink(mask, nearest=True)) if mask is not None else None
        if rgb is not None and labels is not None and check not in SIDE_BY_SIDE:
            pictures.append({"label": "image + mask", "src": data_uri(overlay(rgb, labels), "jpeg")})
        else:
            if rgb is not None:
                size = "x".join(str(s) for s in image.shape[:2]) if image is not None else ""
                pictures.append({"label": f"image {size}".strip(), "src": data_uri(rgb, "jpeg")})
            if labels is not None:
                size = "x".join(str(s) for s in mask.shape[:2]) if mask is not None else ""
                pictures.append({"label": f"mask {size}".strip(), "src": data_uri(mask_picture(labels), "png")})
    except Exception as exc:  # odd arrays (zero-sized, exotic dtypes) lose their picture, nothing else
        pictures, said = [], [*said, f"picture failed ({type(exc).__name__})"]
    return {"pictures": pictures, "note": "; ".join(said) or None}


def flagged_rows(findings: Iterable[Finding], per_check: int = PER_CHECK) -> dict[int, str]:
    """Up to per_check rows per check, first finding first; each row pictured once."""
    chosen: dict[int, str] = {}
    taken: dict[str, int] = {}
    for finding in findings:
        if finding.row is None or finding.row in chosen or taken.get(finding.check, 0) >= per_check:
            continue
        chosen[finding.row] = finding.check
        taken[finding.check] = taken.get(finding.check, 0) + 1
        if len(chosen) >= MAX_ROWS:
            break
    return chosen


def picture(image: NDArray[Any], mask: NDArray[Any] | None) -> str:
    rgb = to_rgb(shrink(plane(Decoded(np.asarray(image), "array"))))
    if mask is None:
        return data_uri(rgb, "jpeg")
    return data_uri(overlay(rgb, label_map(shrink(np.asarray(mask), nearest=True))), "jpeg")


def replay_thumbnails(compose: Any, samples: Sequence[Sample], seed: int,
                      identities: Mapping[int, str]) -> dict[str, dict[str, Any]]:
    """Replayed rows before and after one draw of the pipeline, keyed "replay:<row>".

    Made by the replay itself, from the pipeline it loaded and the samples it decoded: nothing is loaded twice.
    """
    thumbs: dict[str, dict[str, Any]] = {}
    for position, sample in enumerate(samples):
        entry: dict[str, Any] = {"check": "replay", "row_id": identities.get(sample.row), "note": None}
        try:
            compose.set_random_seed(seed + position)
            out = compose(**({"image": sample.image} | ({"mask": sample.mask} if sample.mask is not None else {})))
            entry["pictures"] = [{"label": "before", "src": picture(sample.image, sample.mask)},
                                 {"label": "after", "src": picture(out["image"], out.get("mask"))}]
        except Exception as exc:  # a transform that raises on this row loses its picture, nothing else
            entry["pictures"], entry["note"] = [], f"replay failed ({type(exc).__name__})"
        thumbs[f"replay:{sample.row}"] = entry
    return thumbs


def make_thumbnails(facts: Sequence[RowFacts], findings: Sequence[Finding], root: Path | str,
                    per_check: int = PER_CHECK, limits: Limits = Limits(), manifest: Manifest | None = None
                    ) -> dict[str, dict[str, Any]]:
    """Thumbnails of flagged rows, keyed by row number (as text, as JSON keys are). The files are read as the
    scan named them: with the manifest, members of its shards and cells of its parquet are read from it."""
    by_row = {row.row: row for row in facts}
    chosen = [(by_row[number], check) for number, check in flagged_rows(findings, per_check).items()
              if number in by_row]
    thumbs: dict[str, dict[str, Any]] = {}
    with native_stderr_silenced():
        for start in range(0, len(chosen), THUMB_CHUNK):
            chunk = chosen[start:start + THUMB_CHUNK]
            paths = [row.image_path for row, _ in chunk] + [
                None if check in IMAGE_ONLY else row.mask_path for row, check in chunk]
            contents = read_files(paths, ["image"] * len(chunk) + ["mask"] * len(chunk), root, limits, manifest)
            for position, (row, check) in enumerate(chunk):
                image, image_note = _plane(contents[position], "image", limits)
                mask, mask_note = (None, None) if check in IMAGE_ONLY else _plane(
                    contents[len(chunk) + position], "mask", limits)
                thumbs[str(row.row)] = {"check": check, **row_thumbnail(image, mask, check, (image_note, mask_note))}
    return thumbs
