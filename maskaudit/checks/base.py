"""What a check is: a stable code, a kebab-case name, a default severity and a pure function over facts."""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity
from maskaudit.replay.facts import ReplayFacts

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from maskaudit.checks.context import Context

DOC_SECTIONS = ("What it finds", "Why it breaks training", "How to fix")


class Family(str, enum.Enum):
    ROWS = "rows"
    MASKS = "masks"
    IMAGES = "images"
    SPLITS = "splits"
    PIPELINE = "pipeline"
    ANNOTATIONS = "annotations"


class Kind(str, enum.Enum):
    """Where a check runs: over one row's facts (in the map, beside the decoding), across rows (in the reduce,
    over every row of the manifest), over the merged per-split aggregates of the kept rows (in the reduce), or
    over what a replay of the training pipeline measured (the replay's facts)."""

    ROW = "row"
    KEYS = "keys"
    SPLIT = "split"
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
# the rows a row check judged against the whole manifest may report, over the reduce's keys: a cheap superset
CandidatesFn = Callable[["Context", Options], "NDArray[np.bool_]"]


@dataclass(frozen=True)
class Check:
    code: str
    name: str
    severity: Severity
    family: Family
    stage: Stage
    run: Callable[..., Iterable[Hit]]
    per_row: bool
    kind: Kind
    candidates: CandidatesFn | None = None
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

    def evaluate(self, ctx: Context | ReplayFacts, options: Options) -> Iterable[Hit]:
        """The hits over what the check judges: a replay's facts (pipeline checks), or a context's rows, keys or
        split aggregates."""
        if isinstance(ctx, ReplayFacts):
            yield from self.run(ctx, options)
        elif self.per_row and self.candidates is not None:  # in the reduce: the candidates' facts, read back
            keys = ctx.all_keys
            chosen = keys.row[self.candidates(ctx, options)]
            found = ctx.read(chosen.tolist())
            for number in chosen.tolist():
                yield from self.run(found[number], ctx, options)
        elif self.per_row:
            for row in ctx.rows:
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
    kind: Kind,
    options: Mapping[str, tuple[float, str]] | None,
    candidates: CandidatesFn | None = None,
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
            kind=kind,
            candidates=candidates,
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
    candidates: CandidatesFn | None = None,
) -> Callable[[RowFn], Check]:
    """A check that looks at one row's facts at a time. With candidates, it judges a row against what the whole
    manifest holds (inferred labels, the median foreground share): it runs in the reduce, on the facts of the
    rows ``candidates`` selects from the keys."""
    return _make(code, name, severity, family, Stage.ROWS, True, Kind.ROW if candidates is None else Kind.KEYS,
                 options, candidates)


def dataset_check(
    code: str,
    name: str,
    severity: Severity,
    family: Family,
    stage: Stage = Stage.ROWS,
    options: Mapping[str, tuple[float, str]] | None = None,
) -> Callable[[DatasetFn], Check]:
    """A check that looks across rows: duplicates, leakage, per-split statistics (Stage.KEPT: over kept rows)."""
    return _make(code, name, severity, family, stage, False, Kind.SPLIT if stage is Stage.KEPT else Kind.KEYS,
                 options)
