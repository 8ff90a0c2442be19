"""Compact, settings-independent records of what each file holds.

A file is decoded once into these records; every check reads them and nothing else.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maskaudit.header import PLAIN, Traits


class Encoding(str, enum.Enum):
    """How an image's intensities are encoded, as a training loader would see them."""

    UINT8 = "uint8 0-255"
    UINT16 = "uint16"
    FLOAT_UNIT = "float 0-1"
    FLOAT_255 = "float 0-255"
    ZSCORED = "z-scored"
    OTHER = "other"


class ProblemKind(str, enum.Enum):
    MISSING_PATH = "missing-path"
    NOT_FOUND = "not-found"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a file could not be measured."""

    kind: ProblemKind
    message: str


@dataclass(frozen=True, slots=True)
class MaskFacts:
    """A decoded mask, reduced to its label histogram and shape.

    ``values``/``counts`` is the histogram of the (single-channel) label map: its MAX_VALUES most frequent
    values when it holds more. For a colour-coded mask whose channels differ, ``colors``/``color_counts``
    hold its most frequent RGB(A) colours instead and ``values`` is empty. Totals never come from those
    capped lists: the ``*_pixels`` fields are exact counts over every pixel, whatever the number of values.
    """

    format: str
    shape: tuple[int, ...]
    spatial: tuple[int, ...]
    dtype: str
    channels: int
    values: tuple[float, ...]
    counts: tuple[int, ...]
    distinct: int
    content_hash: str
    # exact counts over every pixel (a colour mask's background is all colour channels 0)
    zero_pixels: int
    nan_pixels: int
    fractional_pixels: int  # finite non-integer values of a float mask
    void_pixels: int  # the value 255
    dtype_max_pixels: int  # the integer dtype's largest value (255 for uint8, 65535 for uint16); 0 for floats
    colors: tuple[tuple[int, ...], ...] = ()
    color_counts: tuple[int, ...] = ()
    # what the header says loaders differ on (EXIF orientation, palette, tRNS, CMYK)
    traits: Traits = PLAIN

    @property
    def pixels(self) -> int:
        total = 1
        for size in self.spatial:
            total *= size
        return total

    @property
    def capped(self) -> bool:
        """True when the histogram keeps only the most frequent of the mask's values."""
        return self.distinct > len(self.values)

    @property
    def is_multichannel(self) -> bool:
        return bool(self.colors)

    def histogram(self) -> dict[float, int]:
        return dict(zip(self.values, self.counts, strict=True))

    def ignored(self, ignore_index: float | None) -> int:
        """Pixels holding the ignore index: exact for 255, the dtype maximum, and any value the histogram
        keeps. Only an ignore index that is none of these, in a mask with more than MAX_VALUES distinct
        values (a picture, not a label map), counts as 0."""
        if ignore_index is None or self.is_multichannel:
            return 0
        if ignore_index == 0:
            return self.zero_pixels
        if ignore_index != ignore_index:
            return self.nan_pixels
        if ignore_index == 255:
            return self.void_pixels
        if self.dtype_max_pixels and ignore_index == self.dtype_maximum:
            return self.dtype_max_pixels
        return next((c for v, c in zip(self.values, self.counts, strict=True) if v == ignore_index), 0)

    @property
    def dtype_maximum(self) -> float | None:
        bounds = _INTEGER_MAX.get(self.dtype)
        return None if bounds is None else float(bounds)

    def labelled(self, ignore_index: float | None) -> int:
        """Pixels that are not the ignore index: what a loss is computed over."""
        return self.pixels - self.ignored(ignore_index)

    def foreground(self, ignore_index: float | None) -> int:
        """Pixels that are neither background (0) nor the ignore index: exact, whatever the number of values."""
        return self.pixels - self.zero_pixels - (self.ignored(ignore_index) if ignore_index != 0 else 0)

    def labels(self, ignore_index: float | None) -> tuple[float, ...]:
        return tuple(v for v in self.values if v != ignore_index)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "channels": self.channels,
            "values": [number(v) for v in self.values],
            "counts": list(self.counts),
            "distinct": self.distinct,
            "content_hash": self.content_hash,
            "colors": [list(c) for c in self.colors],
            "color_counts": list(self.color_counts),
            **traits_dict(self.traits),
            "zero_pixels": self.zero_pixels,
            "nan_pixels": self.nan_pixels,
            "fractional_pixels": self.fractional_pixels,
            "void_pixels": self.void_pixels,
            "dtype_max_pixels": self.dtype_max_pixels,
        }


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """A decoded image, reduced to its shape and intensity statistics over finite pixels."""

    format: str
    shape: tuple[int, ...]
    spatial: tuple[int, ...]
    dtype: str
    channels: int
    minimum: float
    maximum: float
    mean: float
    std: float
    nan: int
    inf: int
    content_hash: str
    # what the header says loaders differ on (EXIF orientation, palette, tRNS, CMYK)
    traits: Traits = PLAIN
    # near-duplicate matching: a 64-bit perceptual hash (None for volumes, flat or non-finite pictures) and a
    # digest of the file's bytes (exact copies)
    phash: int | None = None
    file_hash: str = ""

    @property
    def encoding(self) -> Encoding:
        return classify_encoding(self.dtype, self.minimum, self.maximum, self.mean, self.std)

    @property
    def is_constant(self) -> bool:
        return self.maximum == self.minimum

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "channels": self.channels,
            "min": self.minimum,
            "max": self.maximum,
            "mean": self.mean,
            "std": self.std,
            "nan": self.nan,
            "inf": self.inf,
            "encoding": self.encoding.value,
            "content_hash": self.content_hash,
            **traits_dict(self.traits),
            "phash": None if self.phash is None else f"{self.phash:016x}",
            "file_hash": self.file_hash,
        }


@dataclass(frozen=True, slots=True)
class RowFacts:
    """One manifest row: what the manifest says, and what its files hold."""

    row: int
    image_path: str | None
    mask_path: str | None
    split: str | None = None
    flag: bool | None = None
    group: str | None = None
    row_id: str | None = None
    image: ImageFacts | None = None
    mask: MaskFacts | None = None
    image_problem: Problem | None = None
    mask_problem: Problem | None = None
    # the data root (normalised) a path escapes, when it does; None when the path lies under the root
    image_outside_root: str | None = None
    mask_outside_root: str | None = None

    @property
    def identity(self) -> str:
        """A row's identity that survives reordering: its id, else its image path."""
        if self.row_id is not None:
            return self.row_id
        return self.image_path if self.image_path is not None else f"#{self.row}"


def traits_dict(traits: Traits) -> dict[str, Any]:
    """The traits a file has, for JSON: nothing for a plain file."""
    if traits == PLAIN:
        return {}
    shown: dict[str, Any] = {"orientation": traits.orientation} if traits.orientation != 1 else {}
    shown.update({name: True for name in ("palette", "transparency", "cmyk", "upright") if getattr(traits, name)})
    return shown


_INTEGER_MAX = {"uint8": 255, "uint16": 65535, "uint32": 2**32 - 1, "int8": 127, "int16": 32767,
                "int32": 2**31 - 1, "uint64": 2**64 - 1, "int64": 2**63 - 1}


def classify_encoding(dtype: str, minimum: float, maximum: float, mean: float, std: float) -> Encoding:
    if dtype == "uint8":
        return Encoding.UINT8
    if dtype == "uint16":
        return Encoding.UINT16
    if not dtype.startswith("float"):
        return Encoding.OTHER
    if minimum >= 0.0 and maximum <= 1.0:
        return Encoding.FLOAT_UNIT
    if minimum < 0.0 and abs(mean) < 1.0 and 0.2 < std < 5.0:
        return Encoding.ZSCORED
    if minimum >= 0.0 and maximum <= 255.0:
        return Encoding.FLOAT_255
    return Encoding.OTHER


def number(value: float) -> float | int:
    """A label value as JSON shows it: integers without a trailing .0."""
    return int(value) if float(value).is_integer() else value


def format_values(values: Mapping[float, int] | tuple[float, ...], limit: int = 12) -> str:
    items = list(values)
    shown = ", ".join(str(number(v)) for v in items[:limit])
    return "{" + shown + (", ..." if len(items) > limit else "") + "}"
