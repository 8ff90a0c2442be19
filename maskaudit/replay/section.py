"""The `pipeline` section of the report: the replay facts, and which checks fired on each transform."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from maskaudit.findings import Finding, Severity
from maskaudit.replay.facts import ReplayFacts, TransformFacts


@dataclass(frozen=True)
class TransformFinding:
    """A check that fired on one transform, at the severity it reported."""

    check: str
    code: str
    severity: Severity

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "code": self.code, "severity": self.severity.label}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TransformFinding:
        return cls(str(data["check"]), str(data["code"]), Severity.parse(str(data["severity"])))


@dataclass(frozen=True)
class PipelineSection:
    """What the report says about a replay: its facts, and the findings of each transform."""

    facts: ReplayFacts
    findings: Mapping[str, tuple[TransformFinding, ...]] = field(default_factory=dict)
    """By transform label (``index:name``), in the order the findings came."""

    @classmethod
    def of(cls, facts: ReplayFacts, findings: Iterable[Finding]) -> PipelineSection:
        """The section as report.json holds it (values rounded as reports show them), so a report rendered now
        and one rendered again from its report.json are the same text."""
        by_transform: dict[str, list[TransformFinding]] = {}
        for finding in findings:
            if finding.transform is not None:
                by_transform.setdefault(finding.transform, []).append(
                    TransformFinding(finding.check, finding.code, finding.severity))
        made = cls(facts, {label: tuple(found) for label, found in by_transform.items()})
        return cls.from_dict(made.to_dict())

    def findings_of(self, transform: TransformFacts) -> tuple[TransformFinding, ...]:
        return self.findings.get(transform.label, ())

    def to_dict(self) -> dict[str, Any]:
        section = self.facts.to_dict()
        for entry, transform in zip(section["transforms"], self.facts.transforms, strict=True):
            entry["findings"] = [f.to_dict() for f in self.findings_of(transform)]
        return section

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineSection:
        facts = ReplayFacts.from_dict(data)
        findings = {transform.label: tuple(TransformFinding.from_dict(f) for f in entry["findings"])
                    for entry, transform in zip(data["transforms"], facts.transforms, strict=True)
                    if entry["findings"]}
        return cls(facts, findings)
