"""Read a manifest in record batches, find its columns, and write a filtered copy in its own format."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from maskaudit import shards, storage
from maskaudit.errors import UsageError
from maskaudit.loading import file_kind

BATCH_ROWS = 65_536

CANDIDATES: dict[str, tuple[str, ...]] = {
    "image": (
        "image_path", "image", "img_path", "img", "filepath", "file_path", "image_file", "image_filename",
        "image_uri", "input_path", "img_file", "path",
    ),
    "mask": (
        "mask_path", "mask", "annotation_path", "annotation", "label_path", "seg_path", "segmentation_path",
        "segmentation", "gt_path", "target_path", "mask_file", "label_file", "seg", "gt", "label",
    ),
    "split": ("split", "subset", "fold", "partition", "set", "stage"),
    "flag": (
        "has_segmentation", "has_mask", "has_annotation", "has_label", "has_seg", "annotated", "is_annotated",
        "is_labeled", "labeled",
    ),
    "group": ("patient_id", "subject_id", "group_id", "group", "case_id", "study_id", "subject", "patient"),
    "id": ("id", "image_id", "sample_id", "uid", "row_id", "key"),
}
FLAGS = {"image": "--image-col", "mask": "--mask-col", "split": "--split-col", "flag": "--flag-col",
         "group": "--group-col", "id": "--id-col"}
NULL_TEXT = frozenset({"", "nan", "none", "null", "na", "n/a"})
TRUE_TEXT = frozenset({"1", "true", "yes", "y", "t"})
FALSE_TEXT = frozenset({"0", "false", "no", "n", "f"})


@dataclass(frozen=True)
class Columns:
    image: str
    mask: str
    split: str | None = None
    flag: str | None = None
    group: str | None = None
    id: str | None = None

    def selected(self) -> list[str]:
        names = [self.image, self.mask, self.split, self.flag, self.group, self.id]
        return list(dict.fromkeys(n for n in names if n is not None))

    def to_dict(self) -> dict[str, str | None]:
        return {"image": self.image, "mask": self.mask, "split": self.split, "flag": self.flag,
                "group": self.group, "id": self.id}


@dataclass(frozen=True)
class Manifest:
    path: str
    """As the user named it: a local path or a URL (never a Path, which would turn s3:// into s3:/)."""
    kind: str
    columns: tuple[str, ...]
    parts: tuple[str, ...]
    schema: pa.Schema | None = None
    """Parquet only: the parts' schemas unified, which the filtered copy is written in."""
    folder: bool = False

    @property
    def embedded(self) -> dict[str, bool]:
        """Columns holding the files themselves (parquet cells of bytes), each True when it holds a list of
        files a row."""
        return embedded_columns(self.schema) if self.schema is not None else {}

    @property
    def base(self) -> str:
        """The folder relative row paths resolve against by default: the manifest folder, or the file's."""
        if storage.is_remote(self.path):
            return self.path.rstrip("/") + "/" if self.folder else storage.parent(self.path)
        return self.path if self.folder else os.path.dirname(os.path.abspath(self.path))

    @property
    def name(self) -> str:
        return storage.name(self.path) if storage.is_remote(self.path) else Path(self.path).name

    @property
    def stem(self) -> str:
        name = self.name
        for suffix in (".parquet", ".csv", ".jsonl", ".ndjson", ".tar", ".txt"):
            if name.lower().endswith(suffix):
                return name[: -len(suffix)]
        return name

    @property
    def extension(self) -> str:
        return {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl", "shards": "csv"}[self.kind]

    def row_count(self) -> int:
        """The progress bar's total: exact for parquet (footers); for CSV and JSONL the line count less the
        header, which overcounts blank lines and CSV fields with quoted line breaks; unknown (0) for shards, which
        are read once. Never a row count to trust."""
        if self.kind == "shards":
            return 0
        if self.kind == "parquet":
            total = 0
            for part in self.parts:
                with open_binary(part) as handle:
                    total += pq.ParquetFile(handle).metadata.num_rows
            return total
        lines, last = 0, b"\n"
        with open_binary(self.path) as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                lines += block.count(b"\n")
                last = block[-1:]
        lines += last != b"\n"
        return max(lines - (self.kind == "csv"), 0)

    def content_hash(self) -> str:
        if self.kind == "shards":
            return shards.content_hash(self.parts)
        digest = hashlib.blake2b(digest_size=16)
        for part in self.parts:
            with open_binary(part) as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()


def open_binary(location: str) -> Any:
    """A local file or an object, opened for reading bytes."""
    return storage.open_binary(location) if storage.is_remote(location) else open(location, "rb")


def open_manifest(path: str | os.PathLike[str]) -> Manifest:
    location = os.fspath(path)
    if shards.is_shard_pattern(location):
        return Manifest(location, "shards", ("image", "mask"), shards.expand(location))
    if storage.is_remote(location):
        return _open_remote(location)
    location = storage.local_path(location)
    local = Path(location)
    if not local.exists():
        raise UsageError(f"manifest {location} does not exist; check the path")
    if local.is_dir():
        parts = tuple(str(p) for p in sorted(p for p in local.rglob("*.parquet")
                                             if p.is_file() and not _own_output(p, local)))
        return _folder(location, parts)
    mode = local.stat().st_mode
    if not stat.S_ISREG(mode):
        raise UsageError(f"manifest {location} is {file_kind(mode)}, not a regular file; write the manifest to a "
                         "file and scan that (it is read more than once)")
    return _file(location, local.stat().st_size)


def _open_remote(url: str) -> Manifest:
    storage.require(url)
    try:
        info = storage.info(url)
    except FileNotFoundError:
        raise UsageError(f"manifest {url} does not exist; check the URL") from None
    except PermissionError:
        raise UsageError(f"manifest {url} cannot be read: access denied (check credentials)") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"manifest {url} cannot be read ({_first_line(exc)})") from None
    if info.get("type") == "directory":
        listed = storage.listing(url)
        marked = {storage.parent(u) for u in listed if storage.name(u) == OUTPUT_MARKER}
        base = url.rstrip("/") + "/"
        parts = tuple(u for u in listed if u.endswith(".parquet") and storage.parent(u) not in marked
                      and not any(n.startswith(".") or n.endswith(".maskaudit")
                                  for n in u[len(base):].split("/")))
        return _folder(url, parts)
    return _file(url, int(info.get("size") or 0))


def _folder(location: str, parts: tuple[str, ...]) -> Manifest:
    if not parts:
        raise UsageError(f"manifest folder {location} holds no .parquet files; pass a .parquet, .csv or .jsonl file")
    schema = _unified_schema(parts)
    return Manifest(location, "parquet", tuple(schema.names), parts, schema, folder=True)


def _file(location: str, size: int) -> Manifest:
    suffix = location.lower()
    if size == 0:
        raise UsageError(f"manifest {location} is empty (0 bytes); point at a manifest with a header and rows")
    if suffix.endswith(".parquet"):
        schema = _parquet_schema(location)
        return Manifest(location, "parquet", tuple(schema.names), (location,), schema)
    if suffix.endswith(".csv"):
        return Manifest(location, "csv", _csv_columns(location), (location,))
    if suffix.endswith((".jsonl", ".ndjson")):
        return Manifest(location, "jsonl", _jsonl_columns(location), (location,))
    raise UsageError(f"manifest {location} has an unsupported extension; use .parquet, a parquet folder, .csv, "
                     ".jsonl or WebDataset .tar shards")


OUTPUT_MARKER = ".maskaudit-output"
"""The file that marks a folder as one maskaudit wrote; kept here because manifest folders must skip them."""


def _own_output(part: Path, folder: Path) -> bool:
    """A file a maskaudit run wrote (or is writing) inside a manifest folder: never a part of the manifest."""
    inside = part.relative_to(folder).parts[:-1]
    if any(name.startswith(".") or name.endswith(".maskaudit") for name in inside):
        return True
    return part.name.startswith(".") or (part.parent / OUTPUT_MARKER).exists()


def _parquet_schema(path: str) -> pa.Schema:
    try:
        with open_binary(path) as handle:
            schema = pq.ParquetFile(handle).schema_arrow
    except (pa.ArrowException, OSError) as exc:
        raise UsageError(f"manifest {path} is not a readable parquet file ({_first_line(exc)})") from None
    _refuse_duplicates(path, schema.names)
    return schema


def _unified_schema(parts: Sequence[str]) -> pa.Schema:
    """One schema for all parts: types promoted (int32 with int64 is int64), a column some parts lack is null
    there. Parts that disagree on a column's type beyond promotion are a usage error naming both."""
    unified = _parquet_schema(parts[0])
    origin = dict.fromkeys(unified.names, parts[0])
    for part in parts[1:]:
        schema = _parquet_schema(part)
        try:
            unified = pa.unify_schemas([unified, schema], promote_options="permissive")
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            for field in schema:
                if field.name in origin:
                    theirs = unified.field(field.name)
                    try:
                        pa.unify_schemas([pa.schema([theirs]), pa.schema([field])], promote_options="permissive")
                    except (pa.ArrowTypeError, pa.ArrowInvalid):
                        raise UsageError(
                            f"manifest parts {origin[field.name]} and {part} disagree on column {field.name!r} "
                            f"({theirs.type} vs {field.type}); write both with the same type"
                        ) from None
            raise
        for name in schema.names:
            origin.setdefault(name, part)
    return unified


def _refuse_duplicates(path: str, names: Sequence[str]) -> None:
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise UsageError(
            f"manifest {path} names column(s) {', '.join(map(repr, repeated))} more than once; "
            "rename them so each column has one name"
        )


def _csv_columns(path: str) -> tuple[str, ...]:
    try:
        with open_binary(path) as raw, io.TextIOWrapper(raw, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"manifest {path} is not a readable CSV file ({_first_line(exc)})") from None
    if not header:
        raise UsageError(f"manifest {path} has no header row; the first line must name the columns")
    _refuse_duplicates(path, header)
    return tuple(header)


def _jsonl_columns(path: str) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for record in _jsonl_records(path, limit=100):
        names.update(dict.fromkeys(record))
    if not names:
        raise UsageError(f"manifest {path} holds no JSON records; write one JSON object per line")
    return tuple(names)


def _jsonl_records(path: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
    seen = 0
    try:
        with open_binary(path) as raw, io.TextIOWrapper(raw, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line, object_pairs_hook=_unique_keys)
                except json.JSONDecodeError as exc:
                    raise UsageError(f"manifest {path} line {number} is not valid JSON ({exc.msg})") from None
                except _DuplicateKey as exc:
                    raise UsageError(
                        f"manifest {path} line {number} has the key {exc.args[0]!r} more than once; "
                        "keep one"
                    ) from None
                if not isinstance(record, dict):
                    raise UsageError(f"manifest {path} line {number} is not a JSON object")
                yield record
                seen += 1
                if limit is not None and seen >= limit:
                    return
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"manifest {path} is not readable as UTF-8 JSON lines ({_first_line(exc)})") from None


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(pairs)
    if len(record) != len(pairs):
        raise _DuplicateKey(next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1))
    return record


def _is_file_type(kind: pa.DataType) -> bool:
    """Plain binary, or the Hugging Face ``Image`` struct: ``struct<bytes: binary, path: string>``."""
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return True
    if not pa.types.is_struct(kind):
        return False
    names = {kind.field(i).name: kind.field(i).type for i in range(kind.num_fields)}
    return "bytes" in names and _is_file_type(names["bytes"]) and not pa.types.is_struct(names["bytes"]) and (
        set(names) <= {"bytes", "path"})


def embedded_columns(schema: pa.Schema) -> dict[str, bool]:
    """The columns whose cells are files (bytes, or bytes and a path), True for a list of them a row."""
    found: dict[str, bool] = {}
    for field in schema:
        kind = field.type
        if _is_file_type(kind):
            found[field.name] = False
        elif (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and _is_file_type(kind.value_type):
            found[field.name] = True
    return found


def image_features(schema: pa.Schema | None) -> list[str]:
    """The columns the ``huggingface`` schema metadata marks as ``Image`` features (or lists of them)."""
    raw = (schema.metadata or {}).get(b"huggingface") if schema is not None else None
    if raw is None:
        return []
    try:
        features = json.loads(raw).get("info", {}).get("features", {})
    except (ValueError, AttributeError):
        return []

    def is_image(feature: Any) -> bool:
        if isinstance(feature, list) and len(feature) == 1:
            return is_image(feature[0])
        if isinstance(feature, dict) and feature.get("_type") == "Sequence":
            return is_image(feature.get("feature"))
        return isinstance(feature, dict) and feature.get("_type") == "Image"

    return [name for name, feature in features.items() if is_image(feature)] if isinstance(features, dict) else []


def detect_columns(manifest: Manifest, overrides: dict[str, str | None]) -> Columns:
    """The manifest's columns by role; for tar shards, the image and mask extensions (``image_ext`` and
    ``mask_ext`` in the overrides)."""
    if manifest.kind == "shards":
        extensions = shards.detect_extensions(manifest.parts, overrides.get("image_ext"), overrides.get("mask_ext"))
        return Columns(*extensions, id="key")
    available = list(manifest.columns)
    lowered = {name.lower(): name for name in available}
    found: dict[str, str | None] = {}
    for role, candidates in CANDIDATES.items():
        explicit = overrides.get(role)
        if explicit is not None:
            if explicit not in available:
                raise UsageError(
                    f"{FLAGS[role]} {explicit!r} is not a column of {manifest.path}; columns found: "
                    f"{', '.join(available)}"
                )
            found[role] = explicit
            continue
        taken = {v for v in found.values() if v is not None}
        found[role] = next((lowered[c] for c in candidates if c in lowered and lowered[c] not in taken), None)
    features = [name for name in image_features(manifest.schema) if name in available]
    for role in ("image", "mask"):  # Image features the names did not place: the first is the image
        if found[role] is None:
            taken = {v for v in found.values() if v is not None}
            found[role] = next((name for name in features if name not in taken), None)
    for role in ("image", "mask"):
        if found[role] is None:
            raise UsageError(
                f"cannot tell which column of {manifest.path} holds the {role} paths; columns found: "
                f"{', '.join(available) or '(none)'}; name it with {FLAGS[role]}"
            )
    image, mask = found["image"], found["mask"]
    assert image is not None and mask is not None
    return Columns(image, mask, found["split"], found["flag"], found["group"], found["id"])


Cell = str | bytes | None
"""A manifest cell: a path, or (in a column of embedded files) the file's bytes, or nothing."""
Batch = dict[str, list[Any]]
"""Each selected column's cells: text or None; in a column of embedded files a Cell, or a list of Cells a row
for a list column."""


def iter_batches(manifest: Manifest, columns: Sequence[str]) -> Iterator[Batch]:
    """The selected columns, at most BATCH_ROWS rows a batch (a row group at a time when the manifest embeds its
    files), in manifest order."""
    wanted = list(columns)
    try:
        if manifest.kind == "parquet":
            for part in manifest.parts:
                yield from _parquet_batches(manifest, part, wanted, None)
        elif manifest.kind == "csv":
            with open_binary(manifest.path) as handle:
                reader = pd.read_csv(
                    handle, usecols=wanted, dtype=str, keep_default_na=False, chunksize=BATCH_ROWS,
                    encoding="utf-8-sig",
                )
                for frame in reader:
                    yield _as_text({name: frame[name].tolist() for name in wanted}, len(frame), wanted)
        else:
            records: list[dict[str, Any]] = []
            for record in _jsonl_records(manifest.path):
                records.append({c: record.get(c) for c in wanted})
                if len(records) >= BATCH_ROWS:
                    yield _as_text({c: [r[c] for r in records] for c in wanted}, len(records), wanted)
                    records = []
            if records:
                yield _as_text({c: [r[c] for r in records] for c in wanted}, len(records), wanted)
    except (pa.ArrowException, ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UsageError(f"manifest {manifest.path} could not be read ({_first_line(exc)})") from None


def iter_row_groups(manifest: Manifest, part: str, first: int, stop: int, columns: Sequence[str]
                    ) -> Iterator[Batch]:
    """iter_batches over row groups ``first`` to ``stop`` (excluded) of one part: what a partition of an
    embedded-files manifest reads for itself."""
    try:
        yield from _parquet_batches(manifest, part, list(columns), range(first, stop))
    except (pa.ArrowException, ValueError, OSError) as exc:
        raise UsageError(f"manifest {manifest.path} could not be read ({_first_line(exc)})") from None


def _parquet_batches(manifest: Manifest, part: str, wanted: list[str], groups: range | None) -> Iterator[Batch]:
    embedded = manifest.embedded
    with open_binary(part) as handle:
        parquet = pq.ParquetFile(handle, pre_buffer=True)  # a row group's columns in few requests
        present = [c for c in wanted if c in parquet.schema_arrow.names]
        if not embedded:
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=present):
                yield {name: column_text(batch.column(name)) if name in present else [None] * batch.num_rows
                       for name in wanted}
            return
        for group in groups if groups is not None else range(parquet.num_row_groups):
            table = parquet.read_row_group(group, columns=present)
            values = {name: table.column(name).to_pylist() for name in present if name not in embedded}
            converted = _as_text(values, table.num_rows, [n for n in wanted if n not in embedded])
            for name in wanted:
                if name in embedded:
                    cells = table.column(name).to_pylist() if name in present else [None] * table.num_rows
                    converted[name] = [[_cell(c) for c in cell or ()] if embedded[name] else _cell(cell)
                                       for cell in cells]
            yield converted


def _cell(value: Any) -> Cell:
    """An embedded file's cell: its bytes when there are any (bytes win), else its path as text, else None."""
    if isinstance(value, dict):
        data, path = value.get("bytes"), value.get("path")
        return data if data is not None else text_or_none(path)
    return value if isinstance(value, bytes) else None


def _as_text(columns: dict[str, list[Any]], size: int, wanted: Sequence[str]) -> Batch:
    return {name: [text_or_none(v) for v in columns[name]] if name in columns else [None] * size
            for name in wanted}


def column_text(column: pa.Array) -> list[str | None]:
    """text_or_none of every cell of a column; a column of text without a Python call a cell."""
    values = column.to_pylist()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return [text_or_none(v) for v in values]
    longest = max(len(word) for word in NULL_TEXT)
    return [None if v is None or (len(t := v.strip()) <= longest and t.lower() in NULL_TEXT) else t
            for v in values]


def text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).strip()
    return None if text.lower() in NULL_TEXT else text


def parse_flag(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered in TRUE_TEXT:
        return True
    if lowered in FALSE_TEXT:
        return False
    try:
        return float(lowered) != 0.0
    except ValueError:
        return None


class ManifestChanged(UsageError):
    """The manifest no longer holds the rows the scan read."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(f"manifest {path} changed during the scan; run again when it is no longer being written")


@dataclass(frozen=True)
class Relocation:
    """Relative paths in ``columns`` resolve against a folder; ``prefix`` is that folder seen from the folder the
    filtered copy is written to. Absolute paths, ``~`` paths, URLs and empty values stay as they are."""

    columns: tuple[str, ...]
    prefix: str
    """Ends in a separator: a relative path is ``prefix + path``."""

    @classmethod
    def between(cls, columns: Sequence[str], base: str | Path, target: str | Path) -> Relocation | None:
        """Relative when the two folders share more than the filesystem root, else the base folder's absolute
        path (a ../../.. chain up to / is no more portable and much harder to read). A URL base is kept whole:
        rows relative to a bucket prefix become URLs."""
        if storage.is_remote(os.fspath(base)) or storage.is_remote(os.fspath(target)):
            if not storage.is_remote(os.fspath(base)):
                return cls(tuple(dict.fromkeys(columns)), os.path.join(str(Path(base).resolve()), ""))
            return cls(tuple(dict.fromkeys(columns)), os.fspath(base).rstrip("/") + "/")
        source, copy = Path(base).resolve(), Path(target).resolve()
        shared = os.path.commonpath([source, copy])
        prefix = os.path.relpath(source, copy) if shared != source.anchor else str(source)
        return None if prefix == "." else cls(tuple(dict.fromkeys(columns)), os.path.join(prefix, ""))

    def text(self, value: Any) -> Any:
        path = text_or_none(value) if isinstance(value, str) else None
        if path is None or os.path.isabs(path) or path.startswith("~") or "://" in path:
            return value
        return self.prefix + path

    def array(self, values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        if pa.types.is_dictionary(values.type):
            return self.array(values.cast(values.type.value_type)).cast(values.type)
        if isinstance(values, pa.ChunkedArray):
            return pa.chunked_array([self.array(chunk) for chunk in values.chunks], values.type)
        if pa.types.is_struct(values.type) and values.type.get_field_index("path") >= 0:  # an embedded file
            fields = [values.type.field(i) for i in range(values.type.num_fields)]
            children = [self.array(values.field(f.name)) if f.name == "path" else values.field(f.name)
                        for f in fields]
            return pa.StructArray.from_arrays(children, fields=fields, mask=values.is_null())
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            return values
        path = pc.utf8_trim_whitespace(values)
        verbatim = pc.or_(
            pc.or_(pc.is_in(pc.utf8_lower(path), value_set=pa.array(sorted(NULL_TEXT))),
                   pc.or_(pc.starts_with(path, "/"), pc.starts_with(path, "~"))),
            pc.match_substring(path, "://"),
        )
        moved = pc.binary_join_element_wise(pa.scalar(self.prefix, values.type), path,
                                            pa.scalar("", values.type))
        return pc.if_else(pc.fill_null(verbatim, True), values, moved)


def write_filtered(manifest: Manifest, keep: Sequence[bool] | np.ndarray[Any, np.dtype[np.bool_]],
                   target: io.BufferedWriter | Any,
                   relocation: Relocation | None = None) -> int:
    """Write the manifest's rows whose position is kept to an open binary file; same columns, same order.

    ``keep`` holds one entry per row the scan read: a manifest with more or fewer rows now raises
    ManifestChanged. With a relocation, relative paths are rewritten to resolve from the copy's folder."""
    kept = 0
    position = 0

    def chosen_rows(size: int) -> np.ndarray[Any, np.dtype[np.bool_]]:
        nonlocal position, kept
        if position + size > len(keep):
            raise ManifestChanged(manifest.path)
        rows = np.asarray(keep[position : position + size], dtype=bool)
        position += size
        kept += int(rows.sum())
        return rows

    if manifest.kind == "parquet":
        schema = manifest.schema if manifest.schema is not None else _parquet_schema(manifest.parts[0])
        with pq.ParquetWriter(target, schema) as writer:
            for part in manifest.parts:
                with open_binary(part) as handle:
                    for batch in pq.ParquetFile(handle, pre_buffer=True).iter_batches(batch_size=BATCH_ROWS):
                        table = pa.Table.from_batches([batch.filter(pa.array(chosen_rows(batch.num_rows)))])
                        writer.write_table(_conform(table, schema, relocation))
    elif manifest.kind == "csv":
        text = io.TextIOWrapper(target, encoding="utf-8", newline="")
        header = True
        source = open_binary(manifest.path)
        reader = pd.read_csv(source, dtype=str, keep_default_na=False, chunksize=BATCH_ROWS,
                             encoding="utf-8-sig")
        for frame in reader:
            chosen = frame.loc[chosen_rows(len(frame))]
            for name in relocation.columns if relocation else ():
                chosen[name] = chosen[name].map(relocation.text)  # type: ignore[union-attr]
            chosen.to_csv(text, index=False, header=header, lineterminator="\n")
            header = False
        if header:
            csv.writer(text, lineterminator="\n").writerow(manifest.columns)
        text.flush()
        text.detach()
        source.close()
    else:
        with open_binary(manifest.path) as raw, io.TextIOWrapper(raw, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                if chosen_rows(1)[0]:
                    target.write(_relocated_line(line, relocation).encode("utf-8") + b"\n")
    if position != len(keep):
        raise ManifestChanged(manifest.path)
    return kept


def _conform(table: pa.Table, schema: pa.Schema, relocation: Relocation | None) -> pa.Table:
    """The part's rows in the unified schema: columns it lacks are null, narrower types are promoted."""
    moved = set(relocation.columns) if relocation else set()
    columns = []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name).cast(field.type)
            columns.append(relocation.array(column) if relocation and field.name in moved else column)
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _relocated_line(line: str, relocation: Relocation | None) -> str:
    line = line.rstrip("\n")
    if relocation is None:
        return line
    record = json.loads(line)
    changed = False
    for name in relocation.columns:
        if name in record:
            value = relocation.text(record[name])
            changed = changed or value != record[name]
            record[name] = value
    return json.dumps(record, ensure_ascii=False) if changed else line


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
