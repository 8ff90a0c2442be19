"""Accepted findings: write them once, then fail the gate only on findings that are new.

A finding is matched by its check and the row's identity (the id column, else the image path), never by
row position, so reordering or appending rows keeps the baseline valid. Dataset-level findings match by
check and split (and transform, for pipeline findings).

A baseline is a file written with --write-baseline, or a previous run's findings file (every finding of it
is accepted), or a report.json that lists every finding (as reports did before they held examples).
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterable
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Any

from maskaudit.errors import UsageError
from maskaudit.findings import Finding
from maskaudit.findings_file import FINDINGS_FILE, read_findings
from maskaudit.jsonfile import read_json
from maskaudit.report import Report

BASELINE_SCHEMA = 1
Key = tuple[str, str, str]


def entry(finding: Finding) -> dict[str, Any]:
    check, scope, identity = finding.identity
    data: dict[str, Any] = {"check": check, "code": finding.code}
    if scope == "row":
        data["row_id"] = identity
    else:
        data["split"] = finding.split
        if finding.transform is not None:
            data["transform"] = finding.transform
    data["severity"] = finding.severity.label
    data["message"] = finding.message
    return data


def render_baseline(findings: Iterable[Finding]) -> str:
    """Sorted, one entry per accepted finding: stable across runs and easy to review in a diff."""
    entries = {finding.identity: entry(finding) for finding in findings}
    ordered = [entries[key] for key in sorted(entries)]
    data = {"schema_version": BASELINE_SCHEMA, "tool": "maskaudit", "findings": ordered}
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def key_of(item: Any, source: Path) -> Key:
    if not isinstance(item, dict) or not isinstance(item.get("check"), str):
        raise UsageError(f"baseline {source} holds an entry without a check name; rewrite it with --write-baseline")
    if item.get("row_id") is not None:
        return (item["check"], "row", str(item["row_id"]))
    return (item["check"], "split", f"{item.get('split') or ''}|{item.get('transform') or ''}")


def load_baseline(path: Path) -> frozenset[Key]:
    if _is_parquet(path):
        return frozenset(f.identity for f in read_findings(path))
    data = read_json(path, "baseline", f"create it with --write-baseline {path}")
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise UsageError(f"baseline {path} has no findings list; rewrite it with --write-baseline")
    if isinstance(data.get("manifest"), dict):
        return _report_keys(path, data)
    version = data.get("schema_version")
    if version != BASELINE_SCHEMA:
        raise UsageError(f"baseline {path} has schema_version {version!r}; this maskaudit reads {BASELINE_SCHEMA}")
    return frozenset(key_of(item, path) for item in data["findings"])


def _is_parquet(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return stream.read(4) == b"PAR1"
    except OSError:
        return False  # read_json names the problem


def _report_keys(path: Path, data: dict[str, Any]) -> frozenset[Key]:
    """The findings of a report.json: from the findings file beside it, or its own list when that is complete."""
    try:
        report = Report.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"baseline {path} is not a maskaudit report ({type(exc).__name__}: {exc})") from None
    named = report.outputs.get("findings")
    beside = path.parent / PurePath(named).name if named else None
    if beside is not None and beside.is_file():
        return frozenset(f.identity for f in read_findings(beside))
    if len(report.examples) < report.finding_count:
        raise UsageError(f"baseline {path} lists {len(report.examples)} of its {report.finding_count} findings; "
                         f"pass the {FINDINGS_FILE} written beside it, or a --write-baseline file")
    return frozenset(f.identity for f in report.examples)


def apply_baseline(findings: Iterable[Finding], accepted: Container[Key]) -> tuple[Finding, ...]:
    """The findings, with those the baseline accepts marked as baselined."""
    return tuple(replace(f, baselined=f.identity in accepted) for f in findings)


class AcceptEverything:
    """The baseline of a run that writes one (--write-baseline): it accepts every finding the run makes."""

    def __contains__(self, key: object) -> bool:
        return True
