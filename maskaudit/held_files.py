"""Files read again after the scan (for thumbnails and the replay) by the names the scan gave them, wherever they
are: a path on disk or in a store, a member of a tar shard (``shard-000001.tar:sample001.seg.png``) or a parquet
cell of bytes (``train.parquet[row 12].mask``, ``parts[row 12].masks[2]``).

The held files are read as the scan read them, each source once for all the names asked for: a shard streamed up
to its last wanted member, a row group read once for its wanted columns; their bytes are then checked by the one
loading layer like any file's.
"""

from __future__ import annotations

import os
import re
import tarfile
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from maskaudit import shards
from maskaudit.facts import Problem, ProblemKind
from maskaudit.limits import Limits
from maskaudit.loading import Read, Roles, read_bytes, read_paths
from maskaudit.manifest import Manifest, open_binary

Outcome = tuple[Read | None, Problem | None]
_CELL = re.compile(r"\[row (?P<row>\d+)\]\.(?P<column>.+?)(?:\[(?P<item>\d+)\])?")


def read_files(paths: Sequence[str | None], roles: Roles, root: os.PathLike[str] | str, limits: Limits = Limits(),
               manifest: Manifest | None = None) -> list[Outcome]:
    """Each file's bytes, checked within the limits, in order; exactly one of each pair is None. Names of files
    the manifest holds are read from it; every other path is found and read by the loading layer (objects
    concurrently)."""
    role = (lambda i: roles) if isinstance(roles, str) else (lambda i: roles[i])
    results: list[Outcome] = [(None, None)] * len(paths)
    members: dict[str, dict[str, list[int]]] = {}  # shard -> member -> the indices asking for it
    cells: dict[int, tuple[int, str, int | None]] = {}  # index -> (row, column, item)
    ordinary: list[int] = []
    locations = {shards.shard_name(part): part for part in manifest.parts} if manifest is not None \
        and manifest.kind == "shards" else {}
    for index, path in enumerate(paths):
        if path is not None and locations:
            shard, _, member = path.partition(":")
            if shard in locations and member:
                members.setdefault(locations[shard], {}).setdefault(member, []).append(index)
                continue
        cell = _cell_name(path, manifest) if path is not None and manifest is not None else None
        if cell is not None:
            cells[index] = cell
        else:
            ordinary.append(index)
    for index, outcome in zip(ordinary, read_paths([paths[i] for i in ordinary], root, [role(i) for i in ordinary],
                                                   limits), strict=True):
        results[index] = outcome
    held: dict[int, tuple[bytes | None, Problem | None]] = {}
    for location, wanted in members.items():
        for member, got in _shard_members(location, set(wanted), limits).items():
            held.update(dict.fromkeys(wanted[member], got))
    if cells and manifest is not None:
        held.update(_cells(manifest, cells))
    for index, (data, problem) in held.items():
        name, said = paths[index] or "", role(index)
        results[index] = read_bytes(data, name, said, limits) if data is not None else (
            None, Problem(problem.kind, f"{said} file {name} {problem.message}") if problem is not None else None)
    return results


def _cell_name(path: str, manifest: Manifest) -> tuple[int, str, int | None] | None:
    """The row, column and list element a parquet cell's name gives, when it names a cell of this manifest."""
    if not manifest.embedded or not path.startswith(manifest.name):
        return None
    match = _CELL.fullmatch(path, len(manifest.name))
    if match is None or match["column"] not in manifest.embedded:
        return None
    return int(match["row"]), match["column"], int(match["item"]) if match["item"] is not None else None


def _shard_members(location: str, wanted: set[str], limits: Limits
                   ) -> dict[str, tuple[bytes | None, Problem | None]]:
    """The wanted members' bytes, the shard streamed once up to the last of them; for each member not read, a
    problem whose message follows the file's name."""
    got: dict[str, tuple[bytes | None, Problem | None]] = {}
    try:
        with shards.open_stream(location) as tar:
            for member in tar:
                if member.name in wanted and member.name not in got and member.isfile():
                    got[member.name] = (shards.read_member(tar, member, limits.max_file_bytes), None)
                    if len(got) == len(wanted):
                        break
    except (tarfile.TarError, OSError, EOFError) as exc:
        cut = Problem(ProblemKind.UNREADABLE, f"cannot be read: the shard is cut short or damaged ({exc})")
        return {member: got.get(member, (None, cut)) for member in wanted}
    absent = Problem(ProblemKind.NOT_FOUND, "is not in its shard (the shard changed since the scan)")
    return {member: got.get(member, (None, absent)) for member in wanted}


def _cells(manifest: Manifest, cells: dict[int, tuple[int, str, int | None]]
           ) -> dict[int, tuple[bytes | None, Problem | None]]:
    """The cells' bytes, each row group read once for the columns asked of it; else a problem whose message
    follows the file's name."""
    out: dict[int, tuple[bytes | None, Problem | None]] = {}
    groups: dict[tuple[str, int, int], dict[int, tuple[int, str, int | None]]] = {}
    try:
        first = 0
        bounds: list[tuple[str, int, int, int]] = []  # part, row group, first row, rows
        for part in manifest.parts:
            with open_binary(part) as handle:
                metadata = pq.ParquetFile(handle).metadata
            for group in range(metadata.num_row_groups):
                rows = metadata.row_group(group).num_rows
                bounds.append((part, group, first, rows))
                first += rows
        for index, cell in cells.items():
            where = next(((part, group, start) for part, group, start, rows in bounds
                          if start <= cell[0] < start + rows), None)
            if where is None:
                out[index] = (None, Problem(ProblemKind.NOT_FOUND, f"is not there: the manifest has no row {cell[0]}"))
            else:
                groups.setdefault(where, {})[index] = cell
        for (part, group, start), asked in groups.items():
            with open_binary(part) as handle:
                parquet = pq.ParquetFile(handle)
                names = sorted({column for _, column, _ in asked.values()} & set(parquet.schema_arrow.names))
                table = parquet.read_row_group(group, columns=names)
            for index, (row, column, item) in asked.items():
                value = table.column(column)[row - start].as_py() if column in names else None
                out[index] = _bytes_of(value, item)
    except (pa.ArrowException, OSError, ValueError) as exc:
        unread = Problem(ProblemKind.UNREADABLE, f"cannot be read from {manifest.path} ({type(exc).__name__}: {exc})")
        return {index: out.get(index, (None, unread)) for index in cells}
    return out


def _bytes_of(value: Any, item: int | None) -> tuple[bytes | None, Problem | None]:
    if item is not None:
        value = value[item] if isinstance(value, list) and item < len(value) else None
    data = value.get("bytes") if isinstance(value, dict) else value
    return (data, None) if isinstance(data, bytes) else (
        None, Problem(ProblemKind.NOT_FOUND, "is not there: that cell holds no bytes"))
