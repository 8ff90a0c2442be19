"""Feed images to the pipeline as the training dataset does (--preprocess)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from maskaudit.errors import UsageError
from maskaudit.facts import Encoding, classify_encoding

Array = NDArray[Any]
Preprocess = Callable[[Array], Array]
BUILTIN = ("none", "zscore", "zscore-channel", "minmax", "unit")
EPSILON = 1e-8


def _as_loaded(image: Array) -> Array:
    return image


def _zscore(image: Array) -> Array:
    data = image.astype(np.float32)
    result: Array = ((data - data.mean()) / max(float(data.std()), EPSILON)).astype(np.float32)
    return result


def _zscore_channel(image: Array) -> Array:
    data = image.astype(np.float32)
    if data.ndim < 3:
        return _zscore(image)
    mean = data.mean(axis=(0, 1), keepdims=True)
    std = np.maximum(data.std(axis=(0, 1), keepdims=True), EPSILON)
    result: Array = ((data - mean) / std).astype(np.float32)
    return result


def _minmax(image: Array) -> Array:
    data = image.astype(np.float32)
    low, high = float(data.min()), float(data.max())
    return ((data - low) / max(high - low, EPSILON)).astype(np.float32)


def _unit(image: Array) -> Array:
    if image.dtype.kind in "ui":
        return (image.astype(np.float32) / float(np.iinfo(image.dtype).max)).astype(np.float32)
    return image.astype(np.float32)


def parse_preprocess(text: str) -> tuple[str, Preprocess]:
    """The name to report and the function; a module:fn path is imported only here."""
    builtin: dict[str, Preprocess] = {
        "none": _as_loaded, "zscore": _zscore, "zscore-channel": _zscore_channel, "minmax": _minmax, "unit": _unit,
    }
    if text in builtin:
        return text, builtin[text]
    if ":" not in text:
        raise UsageError(f"--preprocess {text!r} is unknown; use one of {', '.join(BUILTIN)} or module:fn")
    from maskaudit.replay.spec import import_location

    location, _, name = text.rpartition(":")
    module = import_location(f"--preprocess {text}", location)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise UsageError(f"--preprocess {text}: {location} has no callable {name!r}")

    def call(image: Array) -> Array:
        try:
            return np.asarray(fn(image))
        except Exception as exc:  # user code may raise anything; the option is what the user can fix
            raise UsageError(f"--preprocess {text}: {name}() raised {type(exc).__name__}: {exc}") from None

    return text, call


DOMAINS = {
    Encoding.UINT8: "uint8 0-255",
    Encoding.FLOAT_UNIT: "float 0-1",
    Encoding.ZSCORED: "z-scored",
}


def input_domain(dtype: str, minimum: float, maximum: float, mean: float, std: float) -> str:
    """uint8 0-255, float 0-1, z-scored or other."""
    encoding = classify_encoding(dtype, minimum, maximum, mean, std)
    return DOMAINS.get(encoding, "other")
