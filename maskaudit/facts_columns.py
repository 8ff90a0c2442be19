"""Row facts as Arrow columns and back, derived from the dataclasses' own fields.

A nested record (an image's or a mask's facts, a problem, a file's traits) becomes a struct column, null when
the row has none; tuples become lists, enums their values. A field added to a facts dataclass becomes a
column without any change here.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from maskaudit.collection import collection_paused
from maskaudit.facts import RowFacts

_SCALARS: dict[type, pa.DataType] = {int: pa.int64(), float: pa.float64(), str: pa.string(), bool: pa.bool_()}
_UNSIGNED_FIELDS = {"phash"}  # 64-bit hashes: every bit is data


def _arrow_type(hint: Any, name: str) -> pa.DataType:
    hint = _without_none(hint)
    if _is_record(hint):
        return pa.struct([pa.field(f, _arrow_type(h, f)) for f, h in _hints(hint).items()])
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return pa.string()
    if typing.get_origin(hint) is tuple:
        return pa.list_(_arrow_type(typing.get_args(hint)[0], name))
    if hint is int and name in _UNSIGNED_FIELDS:
        return pa.uint64()
    return _SCALARS[hint]


def _without_none(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0]
    return hint


def _is_record(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


@functools.cache
def facts_schema() -> pa.Schema:
    """The facts file's schema: one column per field of RowFacts."""
    return pa.schema([pa.field(name, _arrow_type(hint, name)) for name, hint in _hints(RowFacts).items()])


def _column(values: list[Any], hint: Any, name: str) -> pa.Array:
    """One field over many records, built field by field: records never become dictionaries."""
    kind = _without_none(hint)
    arrow = _arrow_type(hint, name)
    if _is_record(kind):
        missing = pa.array([v is None for v in values], pa.bool_())
        children = [_column([getattr(v, f) if v is not None else None for v in values], h, f)
                    for f, h in _hints(kind).items()]
        return pa.StructArray.from_arrays(children, fields=list(arrow), mask=missing)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return pa.array([None if v is None else v.value for v in values], arrow)
    return pa.array(values, arrow)


def facts_batch(rows: Sequence[RowFacts]) -> pa.RecordBatch:
    """The rows' facts as one record batch of the facts schema."""
    columns = [_column([getattr(row, name) for row in rows], hint, name) for name, hint in _hints(RowFacts).items()]
    return pa.RecordBatch.from_arrays(columns, schema=facts_schema())


def _values(array: pa.Array, hint: Any) -> list[Any]:
    """One column back as the field's values, built a column at a time: a record's fields are converted as whole
    columns, then zipped into records (a null struct is None)."""
    kind = _without_none(hint)
    if _is_record(kind):
        fields = zip(typing.cast(pa.StructArray, array).flatten(), _hints(kind).values(), strict=True)
        made = [kind(*values) for values in zip(*[_values(child, h) for child, h in fields], strict=True)]
        if array.null_count:
            return [record if present else None for record, present in zip(made, array.is_valid().to_pylist(),
                                                                           strict=True)]
        return made
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        members = {member.value: member for member in kind}
        return [None if value is None else members[value] for value in array.to_pylist()]
    if typing.get_origin(kind) is tuple:
        if typing.get_origin(typing.get_args(kind)[0]) is tuple:
            return [None if v is None else tuple([tuple(inner) for inner in v]) for v in array.to_pylist()]
        return [None if v is None else tuple(v) for v in array.to_pylist()]
    values: list[Any] = array.to_pylist()
    return values


def rows_of(facts: pa.RecordBatch | pa.Table) -> list[RowFacts]:
    """The rows' facts from a batch or table of the facts schema, exactly as the scan measured them."""
    with collection_paused():
        columns = [_values(facts.column(name), hint) for name, hint in _hints(RowFacts).items()]
        return [RowFacts(*values) for values in zip(*columns, strict=True)]


MEMO_ROWS = 20_000  # rows' facts a store keeps once read back: about 1 KB each
GROUP_ROWS = 16_384  # rows of the facts file's row groups a store keeps decoded: a few hundred bytes each


def _rows_of(table: pa.Table) -> dict[int, RowFacts]:
    return {row.row: row for row in rows_of(table)}


class FactsStore:
    """A scan's facts, to read some rows back by number: the facts file (where a row's number is its position),
    or, when a run writes none, its batches held in memory (rows in ascending order)."""

    def __init__(self, source: Path | pa.Table) -> None:
        self.source = source
        self._memo: dict[int, RowFacts] = {}
        self._groups: OrderedDict[int, pa.Table] = OrderedDict()  # row groups read lately, GROUP_ROWS at most
        if isinstance(source, Path):
            self._file = pq.ParquetFile(source)
            sizes = [self._file.metadata.row_group(i).num_rows for i in range(self._file.num_row_groups)]
            self._starts = np.cumsum([0, *sizes])

    @classmethod
    def of(cls, batches: Sequence[pa.RecordBatch]) -> FactsStore:
        return cls(pa.Table.from_batches(batches, schema=facts_schema()))

    def rows(self, numbers: Iterable[int]) -> dict[int, RowFacts]:
        """The facts of the numbered rows, in ascending order; rows read before come from memory (up to
        MEMO_ROWS of them: several checks and the report name the same rows)."""
        wanted = np.unique(np.fromiter(numbers, np.int64))
        if not wanted.size:
            return {}
        memo = self._memo
        missing = np.array([n for n in wanted.tolist() if n not in memo], np.int64)
        read: dict[int, RowFacts] = {}
        if missing.size and isinstance(self.source, pa.Table):
            positions = np.searchsorted(self.source.column("row").to_numpy(), missing)
            read = _rows_of(self.source.take(pa.array(positions)))
        elif missing.size:
            groups = np.searchsorted(self._starts, missing, side="right") - 1
            for group in np.unique(groups).tolist():
                chosen = missing[groups == group] - self._starts[group]
                read.update(_rows_of(self._group(group).take(pa.array(chosen))))
        for number, row in read.items():
            if len(memo) >= MEMO_ROWS:
                break
            memo[number] = row
        return {n: memo[n] if n in memo else read[n] for n in wanted.tolist()}

    def _group(self, group: int) -> pa.Table:
        """A row group of the facts file, decoded once while it is among the latest read: the checks and the
        report each ask for rows of the same groups."""
        groups = self._groups
        if group in groups:
            groups.move_to_end(group)
            return groups[group]
        table = groups[group] = self._file.read_row_group(group)
        while len(groups) > 1 and sum(t.num_rows for t in groups.values()) > GROUP_ROWS:
            groups.popitem(last=False)
        return table

    def batches(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        """Some columns of every row, a batch at a time."""
        if isinstance(self.source, pa.Table):
            yield from self.source.select(columns).to_batches()
        else:
            yield from self._file.iter_batches(columns=columns)
