"""Severities and findings: frozen data that checks produce and reporters read."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            allowed = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r}; use one of: {allowed}") from None


@dataclass(frozen=True)
class Hit:
    """What a check reports; the engine stamps it with the check's code, name and severity."""

    message: str
    row: int | None = None
    split: str | None = None
    path: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    transform: str | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class Finding:
    code: str
    check: str
    severity: Severity
    message: str
    row: int | None = None
    split: str | None = None
    path: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    transform: str | None = None
    row_id: str | None = None
    baselined: bool = False

    @property
    def identity(self) -> tuple[str, str, str]:
        """What a baseline matches on: the check and the row's identity, never its position."""
        if self.row is not None or self.row_id is not None:
            return (self.check, "row", self.row_id if self.row_id is not None else f"#{self.row}")
        return (self.check, "split", f"{self.split or ''}|{self.transform or ''}")

    @property
    def location(self) -> str:
        """Where the finding is, as reports say it: a transform, a row, a split or the whole dataset."""
        if self.transform is not None:
            return f"transform {self.transform}"
        if self.row is not None:
            return f"row {self.row}"
        return f"split {self.split}" if self.split is not None else "dataset"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "check": self.check,
            "severity": self.severity.label,
            "row": self.row,
            "split": self.split,
            "path": self.path,
            "message": self.message,
            "details": dict(self.details),
        }
        if self.transform is not None:
            data["transform"] = self.transform
        if self.row_id is not None:
            data["row_id"] = self.row_id
        if self.baselined:
            data["baselined"] = True
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            code=data["code"],
            check=data["check"],
            severity=Severity.parse(data["severity"]),
            message=data["message"],
            row=data.get("row"),
            split=data.get("split"),
            path=data.get("path"),
            details=dict(data.get("details") or {}),
            transform=data.get("transform"),
            row_id=data.get("row_id"),
            baselined=bool(data.get("baselined", False)),
        )
