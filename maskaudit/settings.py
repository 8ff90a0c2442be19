"""What the user asked for: labels, selection, severities, thresholds. Frozen, so checks stay pure."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from maskaudit.findings import Severity


class FailOn(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NEVER = "never"

    def threshold(self) -> Severity | None:
        return {FailOn.ERROR: Severity.ERROR, FailOn.WARNING: Severity.WARNING, FailOn.NEVER: None}[self]


@dataclass(frozen=True)
class Settings:
    labels: tuple[int, ...] | None = None
    label_names: Mapping[int, str] = field(default_factory=dict)
    ignore_index: int | None = None
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    severities: Mapping[str, Severity] = field(default_factory=dict)
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    drop: frozenset[str] = frozenset()
    fail_on: FailOn = FailOn.ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": list(self.labels) if self.labels is not None else None,
            "label_names": {str(k): v for k, v in sorted(self.label_names.items())},
            "ignore_index": self.ignore_index,
            "select": sorted(self.select) if self.select is not None else None,
            "ignore": sorted(self.ignore),
            "severities": {k: v.label for k, v in sorted(self.severities.items())},
            "thresholds": {k: dict(sorted(v.items())) for k, v in sorted(self.thresholds.items())},
            "drop": sorted(self.drop),
            "fail_on": self.fail_on.value,
        }


def parse_labels(text: str) -> tuple[tuple[int, ...], dict[int, str]]:
    """`0,1`, `background,tumor` or `0=background,1=tumor`."""
    labels: list[int] = []
    names: dict[int, str] = {}
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError("--labels is empty; give values such as 0,1 or names such as background,tumor")
    for position, item in enumerate(items):
        if "=" in item:
            value_text, name = (part.strip() for part in item.split("=", 1))
        else:
            value_text, name = item, ""
        try:
            value = int(value_text)
        except ValueError:
            value, name = position, value_text
        labels.append(value)
        if name:
            names[value] = name
    if len(set(labels)) != len(labels):
        raise ValueError(f"--labels {text!r} repeats a value")
    return tuple(labels), names
