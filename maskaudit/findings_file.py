"""The findings file: every finding of a run, one row each, written in batches and read back in batches.

Reports hold counts and the first examples per check; this file holds the full list, so its size grows
with the findings while report.json stays small.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeAlias

import pyarrow as pa
import pyarrow.parquet as pq

from maskaudit.errors import UsageError
from maskaudit.findings import Finding, Severity

FINDINGS_FILE = "findings.parquet"
FINDINGS_SCHEMA = pa.schema([
    ("code", pa.string()), ("check", pa.string()), ("severity", pa.string()), ("row", pa.int64()),
    ("split", pa.string()), ("path", pa.string()), ("row_id", pa.string()), ("transform", pa.string()),
    ("message", pa.string()), ("details", pa.string()), ("baselined", pa.bool_()),
])
BATCH_ROWS = 65_536
WRITE_ROWS = 16_384
"""Findings the writer holds before writing them as a row group: a bounded batch of Finding objects."""
FindingsSource: TypeAlias = Path | pa.Buffer
"""A findings file: on disk, or held compressed in memory (a run with no output folder)."""
LABELS = {severity: severity.label for severity in Severity}
SEVERITIES = {label: severity for severity, label in LABELS.items()}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


_ENCODE = json.JSONEncoder(allow_nan=False).encode


def details_json(details: Any) -> str:
    """Details as strict JSON text (NaN and Inf become null), the same as report.json holds them; ASCII, so any
    string survives, even one UTF-8 cannot hold."""
    if not details:
        return "{}"
    try:
        return _ENCODE(details if isinstance(details, dict) else dict(details))
    except ValueError:  # a NaN or an Inf somewhere
        return _ENCODE(_finite(dict(details)))


def _strings(values: list[str | None]) -> pa.Array:
    """A string column; text UTF-8 cannot hold (a file name decoded with surrogateescape) gets "?" there."""
    try:
        return pa.array(values, pa.string())
    except (UnicodeEncodeError, pa.ArrowException):
        return pa.array([None if v is None else v.encode("utf-8", "replace").decode("utf-8") for v in values],
                        pa.string())


class FindingsWriter:
    """Accepts findings in any number of calls and writes them as parquet row groups of ``batch_rows``.

    Only the current batch is held in memory, so a scan can feed it partition by partition.
    """

    def __init__(self, sink: str | Path | IO[bytes] | pa.NativeFile, batch_rows: int = WRITE_ROWS) -> None:
        self._writer = pq.ParquetWriter(sink, FINDINGS_SCHEMA, compression="zstd")
        self._batch_rows = batch_rows
        self._pending: list[Finding] = []
        self.count = 0

    def write(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self._pending.append(finding)
            if len(self._pending) >= self._batch_rows:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        batch = self._pending
        self._pending = []
        arrays = [
            _strings([f.code for f in batch]),
            _strings([f.check for f in batch]),
            pa.array([LABELS[f.severity] for f in batch], pa.string()),
            pa.array([f.row for f in batch], pa.int64()),
            _strings([f.split for f in batch]),
            _strings([f.path for f in batch]),
            _strings([f.row_id for f in batch]),
            _strings([f.transform for f in batch]),
            _strings([f.message for f in batch]),
            pa.array([details_json(f.details) for f in batch], pa.string()),
            pa.array([f.baselined for f in batch], pa.bool_()),
        ]
        self._writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=FINDINGS_SCHEMA))
        self.count += len(batch)

    def close(self) -> None:
        """Write what is pending and the file's footer; safe to call twice."""
        self._flush()
        self._writer.close()

    def __enter__(self) -> FindingsWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def write_findings(findings: Iterable[Finding], sink: str | Path | IO[bytes]) -> int:
    """Write every finding to ``sink``; the number written."""
    with FindingsWriter(sink) as writer:
        writer.write(findings)
    return writer.count


def _open(path: FindingsSource) -> pq.ParquetFile:
    try:
        source = pq.ParquetFile(pa.BufferReader(path) if isinstance(path, pa.Buffer) else path)
    except FileNotFoundError:
        raise UsageError(f"findings file {path} does not exist; pass the {FINDINGS_FILE} a scan wrote") from None
    except (OSError, pa.ArrowException) as exc:
        raise UsageError(f"findings file {path} is not readable parquet ({exc}); "
                         f"pass the {FINDINGS_FILE} a scan wrote") from None
    missing = [name for name in FINDINGS_SCHEMA.names if name not in source.schema_arrow.names]
    if missing:
        raise UsageError(f"{path} is not a maskaudit findings file (no column {missing[0]!r}); "
                         f"pass the {FINDINGS_FILE} a scan wrote")
    return source


def findings_in(path: FindingsSource) -> int:
    """How many findings the file holds, from its footer."""
    return int(_open(path).metadata.num_rows)


def read_findings(path: FindingsSource) -> Iterator[Finding]:
    """The findings of a findings file, in file order, read one row group at a time.

    A file that is not a findings file is a usage error naming it.
    """
    source = _open(path)
    names = FINDINGS_SCHEMA.names
    try:
        for batch in source.iter_batches(batch_size=BATCH_ROWS, columns=names):
            values = [batch.column(name).to_pylist() for name in names]
            for code, check, severity, row, split, where, row_id, transform, message, details, baselined \
                    in zip(*values, strict=True):
                yield Finding(code=code, check=check, severity=SEVERITIES[severity], message=message, row=row,
                              split=split, path=where, details=json.loads(details) if details != "{}" else {},
                              transform=transform, row_id=row_id, baselined=bool(baselined))
    except (OSError, pa.ArrowException, ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"findings file {path} is damaged ({exc}); scan again to rewrite it") from None
