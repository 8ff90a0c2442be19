"""Checks of the augmentation replay: pure functions over the replay facts, never running albumentations."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from maskaudit.checks.base import Check, Family, Kind, Options, Stage, _make
from maskaudit.findings import Hit, Severity
from maskaudit.replay.facts import ReplayFacts

PipelineFn = Callable[[ReplayFacts, Options], Iterable[Hit]]


def pipeline_check(
    code: str, name: str, severity: Severity, options: Mapping[str, tuple[float, str]] | None = None
) -> Callable[[PipelineFn], Check]:
    """A check over a whole replay's facts; the judge runs it as ``check.run(replay_facts, options)``."""
    return _make(code, name, severity, Family.PIPELINE, Stage.PIPELINE, False, Kind.PIPELINE, options)
