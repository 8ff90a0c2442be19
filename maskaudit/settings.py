"""What the user asked for: labels, selection, severities, thresholds. Frozen, so checks stay pure."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from maskaudit.errors import UsageError
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


# No integer mask type holds a value outside int64's minimum and uint64's maximum.
MASK_VALUE_MIN = -(1 << 63)
MASK_VALUE_MAX = (1 << 64) - 1
LABELS_FIX = "give values such as 0,1, names such as background,tumor, or pairs such as 0=background,1=tumor"


def check_mask_value(option: str, value: int) -> int:
    """A label or ignore value some integer mask could hold; anything else is a usage error."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{option} {value!r} is not an integer mask value; {LABELS_FIX}")
    if not MASK_VALUE_MIN <= value <= MASK_VALUE_MAX:
        raise UsageError(f"{option} {value} is outside what any integer mask can hold "
                         f"({MASK_VALUE_MIN}..{MASK_VALUE_MAX}); give the value the masks use")
    return value


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def parse_labels(text: str) -> tuple[tuple[int, ...], dict[int, str]]:
    """`0,1`, `background,tumor` or `0=background,1=tumor`; anything else is a UsageError naming the item."""
    labels: list[int] = []
    names: dict[int, str] = {}
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise UsageError(f"--labels is empty; {LABELS_FIX}")
    bare_names = 0
    for position, item in enumerate(items):
        if "=" in item:
            value_text, name = (part.strip() for part in item.split("=", 1))
            value = _integer(value_text)
            if value is None or not name:
                raise UsageError(f"--labels item {item!r} is not value=name; {LABELS_FIX}")
        elif not item:
            raise UsageError(f"--labels {text!r} has an empty item; {LABELS_FIX}")
        else:
            value = _integer(item)
            name = ""
            if value is None:
                value, name = position, item
                bare_names += 1
        labels.append(check_mask_value("--labels", value))
        if name:
            names[value] = name
    if bare_names and bare_names != len(items):
        raise UsageError(f"--labels {text!r} mixes values and bare names; {LABELS_FIX}")
    if bare_names == 1:
        raise UsageError(f"--labels {text!r} names a single label; name every label, background first "
                         "(e.g. background,tumor), or give values such as 0,1")
    if len(set(labels)) != len(labels):
        raise UsageError(f"--labels {text!r} repeats a value")
    if len(set(names.values())) != len(names):
        raise UsageError(f"--labels {text!r} repeats a name")
    return tuple(labels), names
