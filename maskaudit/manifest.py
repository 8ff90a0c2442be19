"""Read a manifest in record batches, find its columns, and write a filtered copy in its own format."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from maskaudit.errors import UsageError

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
    path: Path
    kind: str
    columns: tuple[str, ...]
    parts: tuple[Path, ...]

    @property
    def stem(self) -> str:
        name = self.path.name
        for suffix in (".parquet", ".csv", ".jsonl", ".ndjson"):
            if name.lower().endswith(suffix):
                return name[: -len(suffix)]
        return name

    @property
    def extension(self) -> str:
        return {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}[self.kind]

    def row_count(self) -> int | None:
        """Rows, when the format records them (parquet footers); None when only a full read can tell."""
        if self.kind != "parquet":
            return None
        return int(sum(pq.ParquetFile(part).metadata.num_rows for part in self.parts))

    def content_hash(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for part in self.parts:
            with part.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()


def open_manifest(path: Path) -> Manifest:
    if not path.exists():
        raise UsageError(f"manifest {path} does not exist; check the path")
    if path.is_dir():
        parts = tuple(sorted(p for p in path.rglob("*.parquet") if p.is_file()))
        if not parts:
            raise UsageError(f"manifest folder {path} holds no .parquet files; pass a .parquet, .csv or .jsonl file")
        return Manifest(path, "parquet", _parquet_columns(parts[0]), parts)
    suffix = path.name.lower()
    if path.stat().st_size == 0:
        raise UsageError(f"manifest {path} is empty (0 bytes); point at a manifest with a header and rows")
    if suffix.endswith(".parquet"):
        return Manifest(path, "parquet", _parquet_columns(path), (path,))
    if suffix.endswith(".csv"):
        return Manifest(path, "csv", _csv_columns(path), (path,))
    if suffix.endswith((".jsonl", ".ndjson")):
        return Manifest(path, "jsonl", _jsonl_columns(path), (path,))
    raise UsageError(f"manifest {path} has an unsupported extension; use .parquet, a parquet folder, .csv or .jsonl")


def _parquet_columns(path: Path) -> tuple[str, ...]:
    try:
        return tuple(pq.ParquetFile(path).schema_arrow.names)
    except (pa.ArrowException, OSError) as exc:
        raise UsageError(f"manifest {path} is not a readable parquet file ({_first_line(exc)})") from None


def _csv_columns(path: Path) -> tuple[str, ...]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"manifest {path} is not a readable CSV file ({_first_line(exc)})") from None
    if not header:
        raise UsageError(f"manifest {path} has no header row; the first line must name the columns")
    return tuple(header)


def _jsonl_columns(path: Path) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for record in _jsonl_records(path, limit=100):
        names.update(dict.fromkeys(record))
    if not names:
        raise UsageError(f"manifest {path} holds no JSON records; write one JSON object per line")
    return tuple(names)


def _jsonl_records(path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    seen = 0
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UsageError(f"manifest {path} line {number} is not valid JSON ({exc.msg})") from None
                if not isinstance(record, dict):
                    raise UsageError(f"manifest {path} line {number} is not a JSON object")
                yield record
                seen += 1
                if limit is not None and seen >= limit:
                    return
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"manifest {path} is not readable as UTF-8 JSON lines ({_first_line(exc)})") from None


def detect_columns(manifest: Manifest, overrides: dict[str, str | None]) -> Columns:
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
    for role in ("image", "mask"):
        if found[role] is None:
            raise UsageError(
                f"cannot tell which column of {manifest.path} holds the {role} paths; columns found: "
                f"{', '.join(available) or '(none)'}; name it with {FLAGS[role]}"
            )
    image, mask = found["image"], found["mask"]
    assert image is not None and mask is not None
    return Columns(image, mask, found["split"], found["flag"], found["group"], found["id"])


Batch = dict[str, list[str | None]]


def iter_batches(manifest: Manifest, columns: Sequence[str]) -> Iterator[Batch]:
    """The selected columns as lists of text or None, at most BATCH_ROWS rows a batch, in manifest order."""
    wanted = list(columns)
    try:
        if manifest.kind == "parquet":
            for part in manifest.parts:
                parquet = pq.ParquetFile(part)
                present = [c for c in wanted if c in parquet.schema_arrow.names]
                for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=present):
                    yield _as_text({name: batch.column(name).to_pylist() for name in present},
                                   batch.num_rows, wanted)
        elif manifest.kind == "csv":
            reader = pd.read_csv(
                manifest.path, usecols=wanted, dtype=str, keep_default_na=False, chunksize=BATCH_ROWS,
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


def _as_text(columns: dict[str, list[Any]], size: int, wanted: Sequence[str]) -> Batch:
    return {name: [text_or_none(v) for v in columns[name]] if name in columns else [None] * size
            for name in wanted}


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


def write_filtered(manifest: Manifest, keep: Sequence[bool], target: io.BufferedWriter | Any) -> int:
    """Write the manifest's rows whose position is kept to an open binary file; same columns, same order."""
    kept = 0
    position = 0
    if manifest.kind == "parquet":
        schema = pq.ParquetFile(manifest.parts[0]).schema_arrow
        with pq.ParquetWriter(target, schema) as writer:
            for part in manifest.parts:
                for batch in pq.ParquetFile(part).iter_batches(batch_size=BATCH_ROWS):
                    mask = pa.array(keep[position : position + batch.num_rows], type=pa.bool_())
                    position += batch.num_rows
                    chosen = batch.filter(mask)
                    kept += chosen.num_rows
                    writer.write_table(pa.Table.from_batches([chosen], schema=batch.schema).cast(schema))
    elif manifest.kind == "csv":
        text = io.TextIOWrapper(target, encoding="utf-8", newline="")
        header = True
        reader = pd.read_csv(manifest.path, dtype=str, keep_default_na=False, chunksize=BATCH_ROWS,
                             encoding="utf-8-sig")
        for frame in reader:
            chosen = frame.loc[np.asarray(keep[position : position + len(frame)], dtype=bool)]
            position += len(frame)
            kept += len(chosen)
            chosen.to_csv(text, index=False, header=header, lineterminator="\n")
            header = False
        if header:
            csv.writer(text, lineterminator="\n").writerow(manifest.columns)
        text.flush()
        text.detach()
    else:
        with manifest.path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                if keep[position]:
                    target.write(line.rstrip("\n").encode("utf-8") + b"\n")
                    kept += 1
                position += 1
    return kept


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
