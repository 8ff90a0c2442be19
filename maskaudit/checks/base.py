"""What a check is: a stable code, a kebab-case name, a default severity and a pure function over facts."""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity

if TYPE_CHECKING:
    from maskaudit.checks.context import Context

DOC_SECTIONS = ("What it finds", "Why it breaks training", "How to fix")


class Family(str, enum.Enum):
    ROWS = "rows"
    MASKS = "masks"
    IMAGES = "images"
    SPLITS = "splits"
    PIPELINE = "pipeline"
    ANNOTATIONS = "annotations"


class Stage(enum.IntEnum):
    """Row checks decide which rows are dropped; split checks then judge what training would see."""

    ROWS = 1
    KEPT = 2
    PIPELINE = 3
    ANNOTATIONS = 4  # annotation-file records, judged by the annotation audit; their errors decide what is kept
    ANNOTATIONS_KEPT = 5  # annotation-file statistics over what the filtered file keeps


Options = Mapping[str, float]
RowFn = Callable[[RowFacts, "Context", Options], Iterable[Hit]]
DatasetFn = Callable[["Context", Options], Iterable[Hit]]


@dataclass(frozen=True)
class Check:
    code: str
    name: str
    severity: Severity
    family: Family
    stage: Stage
    run: Callable[..., Iterable[Hit]]
    per_row: bool
    options: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    option_help: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.run.__doc__ or "")

    @property
    def summary(self) -> str:
        """The first sentence of "What it finds"."""
        text = self.sections().get("What it finds", "")
        end = text.find(". ")
        return text if end < 0 else text[: end + 1]

    def sections(self) -> dict[str, str]:
        """The docstring's fixed sections, keyed by heading."""
        parsed: dict[str, list[str]] = {}
        current: str | None = None
        for line in self.doc.splitlines():
            heading = line.rstrip(":").strip()
            if heading in DOC_SECTIONS and line.strip().endswith(":"):
                current = heading
                parsed[current] = []
            elif current is not None:
                parsed[current].append(line.strip())
        return {k: " ".join(part for part in v if part).strip() for k, v in parsed.items()}

    def resolved_options(self, overrides: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
        merged = dict(self.options)
        merged.update(overrides.get(self.name, {}))
        return merged

    def evaluate(self, ctx: Context, options: Options) -> Iterable[Hit]:
        if self.per_row:
            for row in ctx.rows_for(self.stage):
                yield from self.run(row, ctx, options)
        else:
            yield from self.run(ctx, options)


def _make(
    code: str,
    name: str,
    severity: Severity,
    family: Family,
    stage: Stage,
    per_row: bool,
    options: Mapping[str, tuple[float, str]] | None,
) -> Callable[[Callable[..., Iterable[Hit]]], Check]:
    def wrap(fn: Callable[..., Iterable[Hit]]) -> Check:
        opts = options or {}
        return Check(
            code=code,
            name=name,
            severity=severity,
            family=family,
            stage=stage,
            run=fn,
            per_row=per_row,
            options=MappingProxyType({k: v[0] for k, v in opts.items()}),
            option_help=MappingProxyType({k: v[1] for k, v in opts.items()}),
        )

    return wrap


def row_check(
    code: str,
    name: str,
    severity: Severity,
    family: Family,
    options: Mapping[str, tuple[float, str]] | None = None,
) -> Callable[[RowFn], Check]:
    """A check that looks at one row's facts at a time (with dataset context when it needs it)."""
    return _make(code, name, severity, family, Stage.ROWS, True, options)


def dataset_check(
    code: str,
    name: str,
    severity: Severity,
    family: Family,
    stage: Stage = Stage.ROWS,
    options: Mapping[str, tuple[float, str]] | None = None,
) -> Callable[[DatasetFn], Check]:
    """A check that looks across rows: duplicates, leakage, per-split statistics."""
    return _make(code, name, severity, family, stage, False, options)
