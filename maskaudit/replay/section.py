"""The `pipeline` section of report.json: replay facts plus which checks fired on each transform."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maskaudit.findings import Finding
from maskaudit.replay.facts import ReplayFacts


def pipeline_section(facts: ReplayFacts, findings: Sequence[Finding]) -> dict[str, Any]:
    section = facts.to_dict()
    by_transform: dict[str, list[dict[str, str]]] = {}
    for finding in findings:
        if finding.transform is not None:
            by_transform.setdefault(finding.transform, []).append(
                {"check": finding.check, "code": finding.code, "severity": finding.severity.label}
            )
    for entry in section["transforms"]:
        entry["findings"] = by_transform.get(f"{entry['index']}:{entry['name']}", [])
    return section
