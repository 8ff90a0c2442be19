"""Every finding of a run as it is made: marked when the baseline accepts it, counted for the report and
appended to the findings file, so a scan holds a bounded batch of findings however many it makes."""

from __future__ import annotations

import contextlib
from collections.abc import Container, Iterable
from pathlib import Path
from types import TracebackType

import pyarrow as pa

from maskaudit.baseline import Key, apply_baseline
from maskaudit.errors import written
from maskaudit.findings import Finding
from maskaudit.findings_file import FindingsSource, FindingsWriter
from maskaudit.report import DEFAULT_EXAMPLES, FindingsTally


class FindingsStream:
    """Takes findings in stream order and passes each on once: to the tally (counts and the first examples of
    each check) and to the findings file at ``path``, or to a compressed file in memory without one. A finding
    whose identity ``accepted`` holds (a baseline) is marked baselined first. Writing errors are
    OutputNotWritten."""

    def __init__(self, path: Path | None, examples: int = DEFAULT_EXAMPLES,
                 accepted: Container[Key] | None = None) -> None:
        self.tally = FindingsTally(examples)
        self._accepted = accepted
        self._path = path
        self._memory = pa.BufferOutputStream() if path is None else None
        self._writer = written(lambda: FindingsWriter(path if path is not None else self._memory))  # type: ignore[arg-type]
        self._closed = False

    def add(self, findings: Iterable[Finding]) -> None:
        batch = list(findings) if self._accepted is None else list(apply_baseline(findings, self._accepted))
        self.tally.add(batch)
        written(lambda: self._writer.write(batch))

    def close(self) -> FindingsSource:
        """Write the file's last batch and footer; where to read the findings back."""
        if not self._closed:
            self._closed = True
            written(self._writer.close)
        return self._path if self._path is not None else self._memory.getvalue()  # type: ignore[union-attr]

    def __enter__(self) -> FindingsStream:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self.close()
        elif not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self._writer.close()
