"""The report: frozen data that every reporter renders and every format round-trips through JSON.

A report holds counts per check and severity and the first examples of each check, never every finding: the
full list goes to the findings file (``outputs["findings"]``), so a report stays small however many rows fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from maskaudit.checks.base import Check, Family
from maskaudit.findings import Finding, Severity
from maskaudit.judge import active_checks, sort_key
from maskaudit.replay.section import PipelineSection
from maskaudit.settings import FailOn, Settings
from maskaudit.stats import SplitStats
from maskaudit.version import SCHEMA_VERSION, __version__

DEFAULT_EXAMPLES = 1_000
"""Findings per check that report.json holds; the findings file holds them all."""
LISTED_PER_CHECK = 50
"""Findings per check that Markdown, HTML and JUnit list (never more than report.json holds)."""


def _severity_counts(data: Any) -> dict[Severity, int]:
    if not isinstance(data, Mapping):
        return {}
    return {Severity.parse(str(label)): int(count) for label, count in data.items() if count}


def _labelled(counts: Mapping[Severity, int]) -> dict[str, int]:
    return {s.label: counts[s] for s in sorted(counts, reverse=True) if counts[s]}


@dataclass(frozen=True)
class CheckTally:
    """How many findings one check made, per severity, new and baselined."""

    code: str
    check: str
    new: Mapping[Severity, int]
    baselined: Mapping[Severity, int] = field(default_factory=dict)

    @property
    def new_count(self) -> int:
        return sum(self.new.values())

    @property
    def baselined_count(self) -> int:
        return sum(self.baselined.values())

    @property
    def count(self) -> int:
        return self.new_count + self.baselined_count

    @property
    def severity(self) -> Severity:
        """The worst severity among the check's findings."""
        return max(s for counts in (self.new, self.baselined) for s, n in counts.items() if n)

    def count_at(self, severity: Severity) -> int:
        return self.new.get(severity, 0) + self.baselined.get(severity, 0)

    def blocking(self, threshold: Severity | None) -> int:
        """New findings at or above ``threshold``: the ones that fail the gate."""
        return 0 if threshold is None else sum(n for s, n in self.new.items() if s >= threshold)

    def to_dict(self) -> dict[str, Any]:
        by_severity = {s: self.count_at(s) for s in {*self.new, *self.baselined}}
        return {"code": self.code, "severity": self.severity.label, "count": self.count, "new": self.new_count,
                "by_severity": _labelled(by_severity), "baselined_by_severity": _labelled(self.baselined)}

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> CheckTally:
        baselined = _severity_counts(data.get("baselined_by_severity"))
        total = _severity_counts(data.get("by_severity")) or {Severity.parse(data["severity"]): int(data["count"])}
        new = {s: n - baselined.get(s, 0) for s, n in total.items() if n - baselined.get(s, 0)}
        return cls(code=str(data["code"]), check=name, new=new, baselined=baselined)


class FindingsTally:
    """Counts findings per check and keeps each check's first ``examples`` in report order (``sort_key``), fed
    in any number of calls and in any order: it holds at most twice ``examples`` findings per check."""

    def __init__(self, examples: int = DEFAULT_EXAMPLES) -> None:
        self.examples_per_check = examples
        self._counts: dict[str, tuple[str, dict[Severity, int], dict[Severity, int]]] = {}
        self._held: dict[str, list[Finding]] = {}
        self._worst_kept: dict[str, tuple[int, int, str, str]] = {}  # of a check whose examples were trimmed

    def add(self, findings: Iterable[Finding]) -> None:
        limit = self.examples_per_check
        for finding in findings:
            entry = self._counts.get(finding.check)
            if entry is None:
                entry = self._counts[finding.check] = (finding.code, {}, {})
                self._held[finding.check] = []
            counts = entry[2] if finding.baselined else entry[1]
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
            if limit == 0:
                continue
            worst = self._worst_kept.get(finding.check)
            if worst is not None and sort_key(finding) >= worst:  # a tie goes to the one that came first
                continue
            held = self._held[finding.check]
            held.append(finding)
            if len(held) >= 2 * limit:
                self._trim(finding.check)

    def _trim(self, check: str) -> list[Finding]:
        held = self._held[check]
        held.sort(key=sort_key)  # stable: among equals, the first to come stays first
        del held[self.examples_per_check:]
        if held and len(held) == self.examples_per_check:
            self._worst_kept[check] = sort_key(held[-1])
        return held

    @property
    def examples(self) -> tuple[Finding, ...]:
        """Each check's first findings, all in report order."""
        kept = [finding for check in self._held for finding in self._trim(check)]
        return tuple(sorted(kept, key=sort_key))

    def tallies(self) -> tuple[CheckTally, ...]:
        """Per check, worst checks first, then by code."""
        tallies = [CheckTally(code, name, dict(new), dict(baselined))
                   for name, (code, new, baselined) in self._counts.items()]
        return tuple(sorted(tallies, key=lambda t: (-t.severity, t.code, t.check)))


@dataclass(frozen=True)
class RanCheck:
    """A check the run evaluated, with the severity it reports at."""

    code: str
    name: str
    severity: Severity

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "check": self.name, "severity": self.severity.label}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RanCheck:
        return cls(code=str(data["code"]), name=str(data["check"]), severity=Severity.parse(str(data["severity"])))


def checks_ran(settings: Settings, pipeline: bool, checks: Iterable[Check] | None = None,
               annotations: bool = False) -> tuple[RanCheck, ...]:
    """The checks a run with these settings evaluates, in registry order (pipeline checks only with a replay,
    annotation checks only over annotation files)."""
    chosen = []
    for check in active_checks(settings, checks):
        if check.family is Family.PIPELINE and not pipeline:
            continue
        if (check.family is Family.ANNOTATIONS) is not annotations:
            continue
        chosen.append(RanCheck(check.code, check.name, settings.severities.get(check.name) or check.severity))
    return tuple(chosen)


@dataclass(frozen=True)
class Histogram:
    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, list[float] | list[int]]:
        return {"edges": list(self.edges), "counts": list(self.counts)}

    @classmethod
    def from_dict(cls, data: Any) -> Histogram:
        """The stored histogram; one whose edges do not bound its counts is left empty."""
        if not isinstance(data, Mapping):
            return cls()
        edges, counts = data.get("edges"), data.get("counts")
        if not isinstance(edges, list) or not isinstance(counts, list) or len(edges) != len(counts) + 1:
            return cls()
        return cls(tuple(float(e) for e in edges), tuple(int(c) for c in counts))


@dataclass(frozen=True)
class SplitSummary:
    """What the report says about one split; every aggregate but ``rows`` is over the kept rows."""

    rows: int
    masks: int = 0
    empty_masks: int = 0
    empty_share: float = 0.0
    foreground_share: Mapping[str, float] = field(default_factory=dict)
    label_histogram: Mapping[str, int] = field(default_factory=dict)
    images: int = 0
    image_intensity: Mapping[str, float | None] = field(default_factory=dict)
    encoding: str | None = None
    encodings: Mapping[str, int] = field(default_factory=dict)
    foreground_share_histogram: Histogram = Histogram()
    image_mean_histogram: Histogram = Histogram()
    rows_kept: int | None = None

    @classmethod
    def of(cls, stats: SplitStats, rows_kept: int | None) -> SplitSummary:
        return replace(cls.from_dict(stats.to_dict()), rows_kept=rows_kept)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rows": self.rows, "masks": self.masks, "empty_masks": self.empty_masks, "empty_share": self.empty_share,
            "foreground_share": dict(self.foreground_share), "label_histogram": dict(self.label_histogram),
            "images": self.images, "image_intensity": dict(self.image_intensity), "encoding": self.encoding,
            "encodings": dict(self.encodings),
            "foreground_share_histogram": self.foreground_share_histogram.to_dict(),
            "image_mean_histogram": self.image_mean_histogram.to_dict(),
        }
        if self.rows_kept is not None:
            data["rows_kept"] = self.rows_kept
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SplitSummary:
        intensity = data.get("image_intensity") or {}
        return cls(
            rows=int(data.get("rows", 0)), masks=int(data.get("masks", 0)),
            empty_masks=int(data.get("empty_masks", 0)), empty_share=float(data.get("empty_share", 0.0)),
            foreground_share={str(k): float(v) for k, v in (data.get("foreground_share") or {}).items()},
            label_histogram={str(k): int(v) for k, v in (data.get("label_histogram") or {}).items()},
            images=int(data.get("images", 0)),
            image_intensity={str(k): None if v is None else float(v) for k, v in intensity.items()},
            encoding=data.get("encoding"), encodings={str(k): int(v) for k, v in (data.get("encodings") or {}).items()},
            foreground_share_histogram=Histogram.from_dict(data.get("foreground_share_histogram")),
            image_mean_histogram=Histogram.from_dict(data.get("image_mean_histogram")),
            rows_kept=None if data.get("rows_kept") is None else int(data["rows_kept"]),
        )


@dataclass(frozen=True)
class ManifestInfo:
    path: str
    format: str
    rows: int
    content_hash: str
    columns: Mapping[str, str | None]
    root: str
    config: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "rows": self.rows,
                "content_hash": self.content_hash, "columns": dict(self.columns), "root": self.root,
                "config": self.config}


@dataclass(frozen=True)
class Report:
    manifest: ManifestInfo
    settings: Mapping[str, Any]
    rows_kept: int
    rows_dropped: int
    splits: Mapping[str, SplitSummary] = field(default_factory=dict)
    tallies: tuple[CheckTally, ...] = ()
    examples: tuple[Finding, ...] = ()
    examples_per_check: int = DEFAULT_EXAMPLES
    ran: tuple[RanCheck, ...] = ()
    fail_on: FailOn = FailOn.ERROR
    pipeline: PipelineSection | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    thumbnails: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    tool_version: str = __version__
    schema_version: int = SCHEMA_VERSION

    def with_findings(self, findings: Iterable[Finding]) -> Report:
        """This report with its counts and examples taken from ``findings`` (every finding of the run)."""
        tally = FindingsTally(self.examples_per_check)
        tally.add(findings)
        return self.with_tally(tally)

    def with_tally(self, tally: FindingsTally) -> Report:
        """This report with the counts and examples of a tally fed every finding of the run."""
        return replace(self, tallies=tally.tallies(), examples=tally.examples)

    @property
    def threshold(self) -> Severity | None:
        return self.fail_on.threshold()

    @property
    def finding_count(self) -> int:
        return sum(t.count for t in self.tallies)

    @property
    def baselined_count(self) -> int:
        return sum(t.baselined_count for t in self.tallies)

    @property
    def new_count(self) -> int:
        return sum(t.new_count for t in self.tallies)

    @property
    def counts_by_severity(self) -> dict[str, int]:
        return {s.label: sum(t.count_at(s) for t in self.tallies) for s in sorted(Severity, reverse=True)}

    def new_at(self, severity: Severity) -> int:
        return sum(t.new.get(severity, 0) for t in self.tallies)

    @cached_property
    def examples_by_check(self) -> dict[str, tuple[Finding, ...]]:
        """The examples grouped by check name in one pass, each group in report order."""
        grouped: dict[str, list[Finding]] = {}
        for finding in self.examples:
            grouped.setdefault(finding.check, []).append(finding)
        return {name: tuple(group) for name, group in grouped.items()}

    def examples_for(self, check: str) -> Sequence[Finding]:
        return self.examples_by_check.get(check, ())

    @property
    def listed_per_check(self) -> int:
        """How many findings per check the Markdown, HTML and JUnit reports list."""
        return min(LISTED_PER_CHECK, self.examples_per_check)

    @property
    def findings_file(self) -> str:
        """Where the full list of findings is, as the reports name it."""
        return self.outputs.get("findings", "findings.parquet")

    @property
    def worst(self) -> Severity | None:
        return max((t.severity for t in self.tallies), default=None)

    def failed(self) -> bool:
        return any(t.blocking(self.threshold) for t in self.tallies)

    @property
    def verdict(self) -> str:
        counts = self.counts_by_severity
        fail_on = self.fail_on.value
        if self.baselined_count:
            tail = f"{self.baselined_count} baselined finding(s) accepted"
            if self.failed():
                return (f"FAIL: {self.new_at(Severity.ERROR)} new error(s), {self.new_at(Severity.WARNING)} new "
                        f"warning(s); {tail} (fail-on {fail_on})")
            return f"PASS: {self.new_count} new finding(s); {tail}"
        if self.failed():
            return f"FAIL: {counts['error']} error(s), {counts['warning']} warning(s) (fail-on {fail_on})"
        if self.tallies:
            return f"PASS with findings: {counts['error']} error(s), {counts['warning']} warning(s)"
        return "PASS: no findings"

    def summary(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "failed": self.failed(),
            "fail_on": self.fail_on.value,
            "by_severity": self.counts_by_severity,
            "by_check": {t.check: t.to_dict() for t in self.tallies},
            "rows": self.manifest.rows,
            "rows_kept": self.rows_kept,
            "rows_dropped": self.rows_dropped,
            "findings": self.finding_count,
            "baselined": self.baselined_count,
        }

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema_version": self.schema_version,
            "tool": {"name": "maskaudit", "version": self.tool_version},
            "manifest": self.manifest.to_dict(),
            "settings": dict(self.settings),
            "summary": self.summary(),
            "checks_ran": [c.to_dict() for c in self.ran],
            "splits": {k: v.to_dict() for k, v in self.splits.items()},
            "outputs": dict(self.outputs),
            "notes": list(self.notes),
            "examples_per_check": self.examples_per_check,
            "findings": [f.to_dict() for f in self.examples],
        }
        if self.pipeline is not None:
            data["pipeline"] = self.pipeline.to_dict()
        if self.thumbnails:
            data["thumbnails"] = {k: dict(v) for k, v in self.thumbnails.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """A report from report.json; one written before reports held examples lists every finding, and its
        counts are taken from that list."""
        manifest = data["manifest"]
        summary = data.get("summary", {})
        findings = [Finding.from_dict(f) for f in data.get("findings", [])]
        examples = int(data.get("examples_per_check", DEFAULT_EXAMPLES))
        tally = FindingsTally(examples)
        tally.add(findings)
        by_check = summary.get("by_check", {})
        complete = "examples_per_check" in data and all("by_severity" in v for v in by_check.values())
        tallies = (tuple(CheckTally.from_dict(name, entry) for name, entry in by_check.items()) if complete
                   else tally.tallies())
        ran = tuple(RanCheck.from_dict(c) for c in data["checks_ran"]) if "checks_ran" in data else tuple(
            RanCheck(t.code, t.check, t.severity) for t in sorted(tallies, key=lambda t: t.code))
        return cls(
            manifest=ManifestInfo(
                path=manifest["path"], format=manifest.get("format", ""), rows=manifest["rows"],
                content_hash=manifest.get("content_hash", ""), columns=manifest.get("columns", {}),
                root=manifest.get("root", ""), config=manifest.get("config"),
            ),
            settings=data.get("settings", {}),
            rows_kept=summary.get("rows_kept", 0),
            rows_dropped=summary.get("rows_dropped", 0),
            splits={str(k): SplitSummary.from_dict(v) for k, v in (data.get("splits") or {}).items()},
            tallies=tallies,
            examples=tally.examples,
            examples_per_check=examples,
            ran=ran,
            fail_on=FailOn(summary.get("fail_on", FailOn.ERROR.value)),
            pipeline=None if data.get("pipeline") is None else PipelineSection.from_dict(data["pipeline"]),
            outputs=data.get("outputs", {}),
            thumbnails=data.get("thumbnails", {}),
            notes=tuple(data.get("notes", ())),
            tool_version=data.get("tool", {}).get("version", __version__),
            schema_version=data.get("schema_version", SCHEMA_VERSION),
        )
