"""Which transform of a replayed pipeline most likely caused the damage: the one ranking every report uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from maskaudit.findings import Severity

SHIFT_KEYS = ("mean_shift_std", "mean_shift")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def severity_rank(label: Any) -> int:
    """A severity label's rank (info lowest); 0 for anything that is not a severity."""
    try:
        return int(Severity.parse(label)) if isinstance(label, str) else 0
    except ValueError:
        return 0


def findings_of(transform: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    listed = transform.get("findings")
    return [f for f in listed if isinstance(f, Mapping)] if isinstance(listed, list) else []


def mean_shift(transform: Mapping[str, Any]) -> float | None:
    """The transform's mean shift, wherever the section stores it (on it, under measures or their output)."""
    measures = _mapping(transform.get("measures"))
    for place in (transform, measures, _mapping(measures.get("output")), _mapping(transform.get("stats"))):
        for key in SHIFT_KEYS:
            value = place.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value \
                    and abs(value) != float("inf"):
                return float(value)
    return None


def culprit_order(transforms: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The transforms, likeliest cause first: worst finding, then most findings, then the largest mean shift,
    then pipeline order."""
    def key(item: tuple[int, Mapping[str, Any]]) -> tuple[int, int, float, int]:
        position, transform = item
        found = findings_of(transform)
        worst = max((severity_rank(f.get("severity")) for f in found), default=0)
        shift = mean_shift(transform)
        return (-worst, -len(found), -abs(shift) if shift is not None else 0.0, position)

    return [transform for _, transform in sorted(enumerate(transforms), key=key)]
