"""Accepted findings: write them once, then fail the gate only on findings that are new.

A finding is matched by its check and the row's identity (the id column, else the image path), never by
row position, so reordering or appending rows keeps the baseline valid. Dataset-level findings match by
check and split (and transform, for pipeline findings).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from maskaudit.errors import UsageError
from maskaudit.findings import Finding
from maskaudit.jsonfile import read_json

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
    data = read_json(path, "baseline", f"create it with --write-baseline {path}")
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise UsageError(f"baseline {path} has no findings list; rewrite it with --write-baseline")
    version = data.get("schema_version")
    if version != BASELINE_SCHEMA:
        raise UsageError(f"baseline {path} has schema_version {version!r}; this maskaudit reads {BASELINE_SCHEMA}")
    return frozenset(key_of(item, path) for item in data["findings"])


def apply_baseline(findings: Sequence[Finding], accepted: frozenset[Key]) -> tuple[Finding, ...]:
    """The findings, with those the baseline accepts marked as baselined."""
    return tuple(replace(f, baselined=f.identity in accepted) for f in findings)
