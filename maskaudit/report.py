"""The report: frozen data that every reporter renders and every format round-trips through JSON."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from maskaudit.findings import Finding, Severity
from maskaudit.version import SCHEMA_VERSION, __version__


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
    findings: tuple[Finding, ...]
    rows_kept: int
    rows_dropped: int
    splits: Mapping[str, Mapping[str, Any]]
    fail_on: str = "error"
    pipeline: Mapping[str, Any] | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    thumbnails: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    tool_version: str = __version__
    schema_version: int = SCHEMA_VERSION

    @property
    def counts_by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.findings)
        return {s.label: counts.get(s, 0) for s in sorted(Severity, reverse=True)}

    @cached_property
    def findings_by_check(self) -> dict[str, tuple[Finding, ...]]:
        """Findings grouped by check name in one pass, each group in report order."""
        grouped: dict[str, list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault(finding.check, []).append(finding)
        return {name: tuple(group) for name, group in grouped.items()}

    @cached_property
    def counts_by_check(self) -> dict[str, dict[str, Any]]:
        """Per check: code, worst severity and count; worst checks first, then by code."""
        grouped: dict[str, dict[str, Any]] = {}
        for name, findings in self.findings_by_check.items():
            worst = max(f.severity for f in findings)
            grouped[name] = {"code": findings[0].code, "severity": worst.label, "count": len(findings)}
        return dict(sorted(grouped.items(), key=lambda kv: (-Severity.parse(kv[1]["severity"]), kv[1]["code"])))

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def failed(self) -> bool:
        threshold = {"error": Severity.ERROR, "warning": Severity.WARNING}.get(self.fail_on)
        return threshold is not None and any(f.severity >= threshold for f in self.new_findings)

    @property
    def new_findings(self) -> tuple[Finding, ...]:
        """Findings not accepted by a baseline: the only ones that can fail the gate."""
        return tuple(f for f in self.findings if not f.baselined)

    @property
    def baselined_count(self) -> int:
        return sum(1 for f in self.findings if f.baselined)

    @property
    def verdict(self) -> str:
        counts = self.counts_by_severity
        if self.baselined_count:
            new = Counter(f.severity for f in self.new_findings)
            tail = f"{self.baselined_count} baselined finding(s) accepted"
            if self.failed():
                return (f"FAIL: {new[Severity.ERROR]} new error(s), {new[Severity.WARNING]} new warning(s); "
                        f"{tail} (fail-on {self.fail_on})")
            return f"PASS: {len(self.new_findings)} new finding(s); {tail}"
        if self.failed():
            return f"FAIL: {counts['error']} error(s), {counts['warning']} warning(s) (fail-on {self.fail_on})"
        if self.findings:
            return f"PASS with findings: {counts['error']} error(s), {counts['warning']} warning(s)"
        return "PASS: no findings"

    def summary(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "failed": self.failed(),
            "fail_on": self.fail_on,
            "by_severity": self.counts_by_severity,
            "by_check": self.counts_by_check,
            "rows": self.manifest.rows,
            "rows_kept": self.rows_kept,
            "rows_dropped": self.rows_dropped,
            "baselined": self.baselined_count,
        }

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema_version": self.schema_version,
            "tool": {"name": "maskaudit", "version": self.tool_version},
            "manifest": self.manifest.to_dict(),
            "settings": dict(self.settings),
            "summary": self.summary(),
            "splits": {k: dict(v) for k, v in self.splits.items()},
            "outputs": dict(self.outputs),
            "notes": list(self.notes),
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.pipeline is not None:
            data["pipeline"] = dict(self.pipeline)
        if self.thumbnails:
            data["thumbnails"] = {k: dict(v) for k, v in self.thumbnails.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        manifest = data["manifest"]
        summary = data.get("summary", {})
        return cls(
            manifest=ManifestInfo(
                path=manifest["path"], format=manifest.get("format", ""), rows=manifest["rows"],
                content_hash=manifest.get("content_hash", ""), columns=manifest.get("columns", {}),
                root=manifest.get("root", ""), config=manifest.get("config"),
            ),
            settings=data.get("settings", {}),
            findings=tuple(Finding.from_dict(f) for f in data.get("findings", [])),
            rows_kept=summary.get("rows_kept", 0),
            rows_dropped=summary.get("rows_dropped", 0),
            splits=data.get("splits", {}),
            fail_on=summary.get("fail_on", "error"),
            pipeline=data.get("pipeline"),
            outputs=data.get("outputs", {}),
            thumbnails=data.get("thumbnails", {}),
            notes=tuple(data.get("notes", ())),
            tool_version=data.get("tool", {}).get("version", __version__),
            schema_version=data.get("schema_version", SCHEMA_VERSION),
        )

    def findings_for(self, check: str) -> Sequence[Finding]:
        return self.findings_by_check.get(check, ())
