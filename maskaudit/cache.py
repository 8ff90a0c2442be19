"""Facts of files already measured, kept in the user's cache folder so that an unchanged file is not read again.

One SQLite database, three tables of entries:

- ``files``, the stat index: absolute path, size, mtime_ns, ctime_ns, inode, device -> the digest (xxh3-128) of
  the bytes. It only lets an unchanged file skip the read. Any change of status means a new read: an edit in
  place to the same size with its mtime set back still moves ctime, which no user can set. A file changed within
  RACY_NS of its read is not indexed (a second write in the same clock tick would keep its status). An object
  in a store is indexed by its URL, size and version (the ETag or generation, hashed into the inode column;
  mtime, ctime and device 0): a write makes a new version, so the racy rule does not apply; an object whose
  store gives no version is never indexed.
- ``facts``: (digest, variant) -> the facts as JSON text (never pickle: nothing in the cache is executable). The
  variant names the role, the sniffed format, the facts schema, the decoder versions and the limits: everything
  that changes what decoding and measuring give for the same bytes.
- ``partitions``: a partition's rows (their paths and manifest columns, the root, and everything a variant
  names) -> the status of each of its files when they were read, and the partition's facts as an Arrow batch.
  It lets a re-scan of an unchanged partition take one status a file and one lookup; any status that differs
  sends the partition through the file index above. It is written only when every file's status was
  trustworthy (not racy) and every row's files were found and measured.

Judgements are never stored, so changing --labels or a threshold re-judges cached facts. Problems are not
stored either: their messages name the path, and a missing or refused file costs no read to find again.
Writes are batched transactions; a damaged entry is deleted and measured again; a damaged database is moved
aside with one warning; a cache that cannot be opened or written turns itself off with one warning. The
content is bounded by ``max_bytes``, the least recently used entries pruned first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import json
import os
import sqlite3
import sys
import threading
import time
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.ipc
import xxhash
from numpy.typing import NDArray

from maskaudit.facts import ImageFacts, MaskFacts
from maskaudit.facts_columns import facts_schema
from maskaudit.limits import Limits
from maskaudit.storage import Status
from maskaudit.version import __version__

# Raise when measuring changes what a field holds while the fields themselves stay the same.
FACTS_FORMAT = 1
DATABASE_NAME = "facts.sqlite"
DEFAULT_MAX_BYTES = 1 << 30
RACY_NS = 1_000_000_000
BUSY_TIMEOUT_S = 10.0
FLUSH_ENTRIES = 512
HOUR_S = 3600
PRUNE_TO = 0.9  # pruning leaves this share of max_bytes, so that the next run does not prune at once
ROW_OVERHEAD = 64  # bytes an index or facts row costs beyond its text, roughly
FactsT = TypeVar("FactsT", ImageFacts, MaskFacts)
ROLES: dict[type, str] = {ImageFacts: "image", MaskFacts: "mask"}

_TABLES = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL, device INTEGER NOT NULL, digest TEXT NOT NULL, format TEXT NOT NULL,
    used INTEGER NOT NULL, bytes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS facts (
    digest TEXT NOT NULL, variant TEXT NOT NULL, facts TEXT NOT NULL, used INTEGER NOT NULL,
    bytes INTEGER NOT NULL, PRIMARY KEY (digest, variant)
);
CREATE TABLE IF NOT EXISTS partitions (
    key TEXT PRIMARY KEY, statuses BLOB NOT NULL, facts BLOB NOT NULL, used INTEGER NOT NULL,
    bytes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run TEXT PRIMARY KEY, started INTEGER NOT NULL, unchanged INTEGER NOT NULL DEFAULT 0,
    same_content INTEGER NOT NULL DEFAULT 0, measured INTEGER NOT NULL DEFAULT 0
);
"""
_KNOWN = (
    "SELECT i.path, i.size, i.mtime_ns, i.ctime_ns, i.inode, i.device, f.facts, f.used, i.digest, f.variant "
    "FROM files i JOIN facts f ON f.digest = i.digest AND f.variant IN (? || i.format, ? || i.format) "
    "WHERE i.path IN ({})"
)
# a partition's file statuses, in its entry: one record a file (images, then masks), -1 where a row has no path
STATUS_DTYPE = np.dtype([("size", "<i8"), ("mtime_ns", "<i8"), ("ctime_ns", "<i8"), ("inode", "<u8"),
                         ("device", "<u8")])
KNOWN_BATCH = 500  # paths per lookup, well under SQLite's bound on bound parameters
RUNS_KEPT = 20


class CorruptEntry(ValueError):
    """Stored facts that do not fit the facts' fields (damaged, or written by other code)."""


# --- the facts schema and its JSON form, derived from the dataclasses' fields --------------------------------


def _describe(kind: Any, seen: tuple[type, ...] = ()) -> str:
    """A type's full shape as text: nested dataclasses and enums spelled out, so any change shows."""
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        if kind in seen:
            return kind.__name__
        hints = typing.get_type_hints(kind)
        inner = ", ".join(f"{f.name}: {_describe(hints[f.name], (*seen, kind))}" for f in dataclasses.fields(kind))
        return f"{kind.__name__}({inner})"
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return f"{kind.__name__}[{', '.join(repr(m.value) for m in kind)}]"
    args = typing.get_args(kind)
    if args:
        origin = typing.get_origin(kind)
        name = "Union" if origin in (typing.Union, types.UnionType) else getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join('...' if a is Ellipsis else _describe(a, seen) for a in args)}]"
    return getattr(kind, "__name__", str(kind))


@functools.cache
def schema_version() -> str:
    """FACTS_FORMAT and a digest of every field name and type of the facts records, nested ones included."""
    shape = ";".join(_describe(kind) for kind in (ImageFacts, MaskFacts))
    return f"{FACTS_FORMAT}.{xxhash.xxh3_64_hexdigest(shape.encode())}"


def encode(value: Any) -> Any:
    """A facts record as plain JSON data: dataclasses become lists of their fields in order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [encode(getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, enum.Enum):
        return encode(value.value)
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (tuple, list, frozenset, set)):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return [[encode(k), encode(v)] for k, v in value.items()]
    raise TypeError(f"facts hold a {type(value).__name__}, which the cache cannot store")


_PLAIN_TYPES = frozenset({int, float, str, bool, type(None)})


def _plain(value: Any) -> Any:
    """A scalar as it is when JSON takes it so (most are), else encoded."""
    return value if type(value) in _PLAIN_TYPES else encode(value)


@functools.cache
def _encoder(kind: Any) -> Callable[[Any], Any]:
    """encode() for values of one type, the type's structure read once: a record's fields are encoded by their
    declared types; what the declaration leaves open goes through encode()."""
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        parts = [(f.name, _encoder(hints[f.name])) for f in dataclasses.fields(kind)]
        return lambda value: [part(getattr(value, name)) for name, part in parts]
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = _encoder(next(a for a in args if a is not type(None)))
        return lambda value: None if value is None else inner(value)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis and _allowed(args[0]) is not None:
        return lambda value: [_plain(v) for v in value]
    if _allowed(kind) is not None:
        return _plain
    return encode


def dumps(facts: ImageFacts | MaskFacts) -> str:
    kind: Any = type(facts)
    return json.dumps(_encoder(kind)(facts), separators=(",", ":"))


def loads(kind: type[FactsT], text: str) -> FactsT:
    """Facts of the given class from their JSON text; CorruptEntry when the text does not fit the fields."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CorruptEntry(f"not JSON ({exc})") from None
    built: FactsT = _record_builder(typing.cast(Any, kind))(data)
    return built


def _fail(expected: str, data: Any) -> typing.NoReturn:
    raise CorruptEntry(f"expected {expected}, found {type(data).__name__}")


def _allowed(kind: Any) -> tuple[type, ...] | None:
    """The JSON types a scalar field accepts as they are; None for a type that needs building."""
    if kind is bool:
        return (bool,)
    if kind is int:
        return (int,)
    if kind is float:
        return (float, int)  # kept as stored: an int measured into a float field reads back as the same int
    if kind is str:
        return (str,)
    if kind is type(None):
        return (type(None),)
    return None


def _scalar(kind: type) -> Callable[[Any], Any]:
    allowed = _allowed(kind)
    if allowed is None:
        raise TypeError(f"the cache cannot store facts of type {kind!r}")

    def build(data: Any) -> Any:
        if type(data) not in allowed:
            _fail(kind.__name__, data)
        return data

    return build


@functools.cache
def _builder(kind: Any) -> Callable[[Any], Any]:
    """A function that rebuilds a value of the type from its JSON data, checking every part on the way."""
    if kind is Any:
        return lambda data: data
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _dataclass_builder(kind, intern=True)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _enum_builder(kind)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return _union_builder(args)
    if origin is tuple:
        return _tuple_builder(args)
    if origin in (list, set, frozenset):
        item, made = _builder(args[0]), origin

        def sequence(data: Any) -> Any:
            if type(data) is not list:
                _fail("a list", data)
            return made(item(v) for v in data)

        return sequence
    if origin in (dict, Mapping, typing.Mapping):
        key, value = _builder(args[0]), _builder(args[1])

        def mapping(data: Any) -> Any:
            if type(data) is not list or any(type(p) is not list or len(p) != 2 for p in data):
                _fail("a list of pairs", data)
            return {key(k): value(v) for k, v in data}

        return mapping
    return _scalar(kind)


@functools.cache
def _record_builder(kind: Any) -> Callable[[Any], Any]:
    return _dataclass_builder(kind, intern=False)


def _dataclass_builder(kind: type, intern: bool) -> Callable[[Any], Any]:
    hints = typing.get_type_hints(kind)
    parts = [_builder(hints[f.name]) for f in dataclasses.fields(kind) if f.init]
    if len(parts) != len(dataclasses.fields(kind)):
        raise TypeError(f"{kind.__name__} has fields its constructor does not take; the cache cannot rebuild it")
    shared: dict[Any, Any] = {}  # equal nested records (Traits) share one instance, as decoded ones share PLAIN

    # Scalar fields are checked in place; only the others are built, which is most of a re-scan's cost saved.
    scalars = [(i, allowed) for i, f in enumerate(dataclasses.fields(kind))
               if (allowed := _allowed(hints[f.name])) is not None]
    built = [(i, part) for i, part in enumerate(parts) if i not in {j for j, _ in scalars}]

    def build(data: Any) -> Any:
        if type(data) is not list or len(data) != len(parts):
            _fail(f"{kind.__name__} as a list of {len(parts)} fields", data)
        for i, allowed in scalars:
            if type(data[i]) not in allowed:
                _fail(allowed[0].__name__, data[i])
        values = list(data)
        for i, part in built:
            values[i] = part(values[i])
        made = kind(*values)
        if not intern:
            return made
        try:
            return shared.setdefault(made, made) if len(shared) < 256 else shared.get(made, made)
        except TypeError:  # a record holding a mapping cannot be hashed, nor shared
            return made

    return build


def _enum_builder(kind: type[enum.Enum]) -> Callable[[Any], Any]:
    def build(data: Any) -> Any:
        try:
            return kind(data)
        except ValueError:
            raise CorruptEntry(f"{data!r} is not a {kind.__name__}") from None

    return build


def _union_builder(args: tuple[Any, ...]) -> Callable[[Any], Any]:
    options = [_builder(a) for a in args]

    def build(data: Any) -> Any:
        for option in options:
            with contextlib.suppress(CorruptEntry):
                return option(data)
        _fail(" | ".join(_describe(a) for a in args), data)

    return build


def _tuple_builder(args: tuple[Any, ...]) -> Callable[[Any], Any]:
    if len(args) == 2 and args[1] is Ellipsis:
        item, allowed = _builder(args[0]), _allowed(args[0])

        def repeated(data: Any) -> Any:
            if type(data) is not list:
                _fail("a list", data)
            if allowed is not None:
                for v in data:
                    if type(v) not in allowed:
                        _fail(args[0].__name__, v)
                return tuple(data)
            return tuple([item(v) for v in data])

        return repeated
    parts = [_builder(a) for a in args]

    def fixed(data: Any) -> Any:
        if type(data) is not list or len(data) != len(parts):
            _fail(f"a list of {len(parts)}", data)
        return tuple(part(v) for part, v in zip(parts, data, strict=True))

    return fixed


# --- where the cache lives ------------------------------------------------------------------------------------


def default_dir() -> Path:
    """$XDG_CACHE_HOME/maskaudit, else ~/.cache/maskaudit: the user's, never beside the data."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "maskaudit"


def decoder_versions() -> str:
    import cv2
    import PIL

    try:
        import nibabel

        nifti = str(nibabel.__version__)
    except ImportError:
        nifti = "none"
    return f"maskaudit {__version__}, opencv {cv2.__version__}, pillow {PIL.__version__}, numpy {np.__version__}, " \
           f"nibabel {nifti}"


@functools.cache
def _variant_base(role: str, limits: Limits) -> str:
    """Everything but the format that changes what the same bytes measure to, as one short text."""
    text = f"{role}|{schema_version()}|{decoder_versions()}|{limits.max_file_bytes}|{limits.max_pixels}"
    return f"{role[0]}{xxhash.xxh3_64_hexdigest(text.encode())}:"


def digest(data: bytes | bytearray) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def trusted(info: Status, read_started_ns: int) -> bool:
    """Whether a file's status may stand for its content: an object with a version, or a file last changed
    RACY_NS before its read began (a second write within the same clock tick would keep its status)."""
    return info.versioned and max(info.mtime_ns, info.ctime_ns) < read_started_ns - RACY_NS


def _hour() -> int:
    return int(time.time()) // HOUR_S


@dataclass(frozen=True, slots=True)
class RunStats:
    """What a scan took from the cache: files not read, files read but not decoded, files decoded."""

    unchanged: int = 0
    same_content: int = 0
    measured: int = 0

    @property
    def files(self) -> int:
        return self.unchanged + self.same_content + self.measured

    def describe(self) -> str:
        return f"cache: {self.unchanged:,} of {self.files:,} files unchanged" + (
            f", {self.same_content:,} read but known by content" if self.same_content else "")


class FactsCache:
    """The facts cache at a folder. Picklable: a copy in another process opens its own connections lazily.

    Every thread gets its own connection; entries to write are buffered and written in one transaction by
    whichever thread fills the buffer, and by flush(). A process pool's task calls flush() before it returns.
    """

    def __init__(self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES, run: str | None = None) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.run = run or uuid.uuid4().hex
        self._reset()

    def _reset(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._files: list[tuple[Any, ...]] = []
        self._facts: list[tuple[Any, ...]] = []
        self._partitions: list[tuple[Any, ...]] = []
        self._touched: list[tuple[Any, ...]] = []
        self._touched_partitions: list[tuple[Any, ...]] = []
        self._counts = [0, 0, 0]
        self._disabled = False
        self._ready = False

    def __getstate__(self) -> dict[str, Any]:
        return {"folder": self.folder, "max_bytes": self.max_bytes, "run": self.run}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.folder, self.max_bytes, self.run = state["folder"], state["max_bytes"], state["run"]
        self._reset()

    @property
    def path(self) -> Path:
        return self.folder / DATABASE_NAME

    # --- lookups and stores, called by the scan for every file ---

    def known_many(
        self, kinds: Sequence[type[ImageFacts] | type[MaskFacts]], files: Sequence[tuple[str, Status]], limits: Limits,
        every: bool = False,
    ) -> list[ImageFacts | MaskFacts | None]:
        """For each file, its facts when its status is the one indexed (so it need not be read); else None.
        With ``every``, all None (and nothing counted) unless every file is known.

        One query a batch of files, one lock for the counts: the per-file cost of a re-scan is the decoding."""
        bases = {kind: _variant_base(ROLES[kind], limits) for kind in (ImageFacts, MaskFacts)}
        wanted = [i for i, (_, info) in enumerate(files) if info.versioned]
        rows: dict[tuple[str, str], tuple[Any, ...]] = {}
        for start in range(0, len(wanted), KNOWN_BATCH):
            paths = list(dict.fromkeys(files[i][0] for i in wanted[start:start + KNOWN_BATCH]))
            sql = _KNOWN.format(", ".join("?" * len(paths)))
            for row in self._query_all(sql, (bases[ImageFacts], bases[MaskFacts], *paths)):
                rows[(row[0], row[-1][:len(bases[ImageFacts])])] = row
        out: list[ImageFacts | MaskFacts | None] = [None] * len(files)
        hour, touched, corrupt = _hour(), [], []
        if every and len(wanted) < len(files):
            return out
        for i in wanted:
            (full, info), kind = files[i], kinds[i]
            row = rows.get((full, bases[kind]))
            if row is None:
                if every:
                    return [None] * len(files)
                continue
            _, size, mtime, ctime, inode, device, text, used, found_digest, variant = row
            if (size != info.size or mtime != info.mtime_ns or ctime != info.ctime_ns or inode != info.inode
                    or device != info.device):
                if every:
                    return [None] * len(files)
                continue
            try:
                out[i] = loads(typing.cast(Any, kind), text)
            except CorruptEntry:
                corrupt.append((found_digest, variant))
                continue
            if used < hour:
                touched.append((hour, found_digest, variant))
        if corrupt:
            self._write(lambda db: db.executemany("DELETE FROM facts WHERE digest = ? AND variant = ?", corrupt))
        if every and corrupt:
            return [None] * len(files)
        hits = len(files) - out.count(None)
        if hits or touched:
            with self._lock:
                self._counts[0] += hits
                self._touched.extend(touched)
        return out

    def by_content(
        self, kinds: Sequence[type[ImageFacts] | type[MaskFacts]], contents: Sequence[tuple[bytes | bytearray, str]],
        limits: Limits,
    ) -> list[tuple[str, str, ImageFacts | MaskFacts | None]]:
        """For each file's bytes and format: the bytes' digest, the variant, and the facts stored for that content
        (None when there are none). One query a batch of files."""
        keys = [(digest(data), _variant_base(ROLES[kind], limits) + fmt)
                for kind, (data, fmt) in zip(kinds, contents, strict=True)]
        stored: dict[tuple[str, str], tuple[str, int]] = {}
        for start in range(0, len(keys), KNOWN_BATCH):
            digests = list(dict.fromkeys(found for found, _ in keys[start:start + KNOWN_BATCH]))
            sql = f"SELECT digest, variant, facts, used FROM facts WHERE digest IN ({', '.join('?' * len(digests))})"
            for found, variant, text, used in self._query_all(sql, tuple(digests)):
                stored[(found, variant)] = (text, used)
        out: list[tuple[str, str, ImageFacts | MaskFacts | None]] = []
        hour, touched = _hour(), []
        for kind, key in zip(kinds, keys, strict=True):
            row = stored.get(key)
            facts = self._decode(kind, row[0], *key) if row is not None else None
            if row is not None and facts is not None and row[1] < hour:
                touched.append((hour, *key))
            out.append((*key, facts))
        hits = sum(facts is not None for *_, facts in out)
        if hits or touched:
            with self._lock:
                self._counts[1] += hits
                self._touched.extend(touched)
        return out

    def store(
        self, full: str, info: Status, found_digest: str, variant: str, fmt: str,
        facts: ImageFacts | MaskFacts | None, read_started_ns: int,
    ) -> None:
        """Index the file (unless it changed too recently to trust its status) and store new facts."""
        if self._disabled:
            return
        hour = _hour()
        with self._lock:
            if facts is not None:
                text = dumps(facts)
                self._facts.append((found_digest, variant, text, hour, len(text) + ROW_OVERHEAD))
                self._counts[2] += 1
            if trusted(info, read_started_ns):
                self._files.append((full, info.size, info.mtime_ns, info.ctime_ns, info.inode,
                                    info.device, found_digest, fmt, hour, len(full) + ROW_OVERHEAD))
            full_buffer = len(self._files) + len(self._facts) >= FLUSH_ENTRIES
        if full_buffer:
            self.flush()

    def partition_key(self, limits: Limits, *parts: object) -> str:
        """The key of a partition's entry: its parts (rows, root) and what any of its files' variants names."""
        text = repr((FACTS_FORMAT, _variant_base("image", limits), _variant_base("mask", limits), parts))
        return xxhash.xxh3_128_hexdigest(text.encode())

    def known_partition(self, key: str, statuses: Callable[[], NDArray[np.void] | None]) -> pa.RecordBatch | None:
        """The partition's facts when its entry holds exactly the file statuses (STATUS_DTYPE) ``statuses`` finds
        now, asked only when there is an entry; else None. Counts its files as unchanged."""
        row = self._query("SELECT statuses, facts, used FROM partitions WHERE key = ?", (key,))
        if row is None:
            return None
        stored, data, used = row
        now = statuses()
        if now is None or len(stored) != now.nbytes or stored != now.tobytes():
            return None
        try:
            facts = pa.ipc.open_stream(data).read_all()
            if not facts.schema.equals(facts_schema()) or not facts.num_rows:  # a partition has rows
                raise CorruptEntry("a facts batch of another schema, or of no rows")
            batch = facts.combine_chunks().to_batches()[0]
        except (pa.ArrowException, OSError, ValueError):  # CorruptEntry is a ValueError
            self._write(lambda db: db.execute("DELETE FROM partitions WHERE key = ?", (key,)))
            return None
        hour = _hour()
        with self._lock:
            self._counts[0] += int((now["size"] >= 0).sum())
            if used < hour:
                self._touched_partitions.append((hour, key))
        return batch

    def store_partition(self, key: str, statuses: NDArray[np.void], facts: pa.RecordBatch) -> None:
        """Keep the partition's facts under its key, with the statuses its files had when read."""
        if self._disabled:
            return
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, facts.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as out:
            out.write_batch(facts)
        data, status_bytes = sink.getvalue().to_pybytes(), statuses.tobytes()
        with self._lock:
            self._partitions.append((key, status_bytes, data, _hour(), len(data) + len(status_bytes) + ROW_OVERHEAD))

    def _decode(self, kind: type[ImageFacts] | type[MaskFacts], text: str, found_digest: str, variant: str
                ) -> ImageFacts | MaskFacts | None:
        try:
            facts: ImageFacts | MaskFacts = loads(typing.cast(Any, kind), text)
            return facts
        except CorruptEntry:
            self._write(lambda db: db.execute("DELETE FROM facts WHERE digest = ? AND variant = ?",
                                              (found_digest, variant)))
            return None

    # --- writing ---

    def flush(self) -> None:
        """Write the buffered entries and this process's counts in one transaction."""
        with self._lock:
            files, facts, touched, counts = self._files, self._facts, self._touched, self._counts
            partitions, touched_partitions = self._partitions, self._touched_partitions
            self._files, self._facts, self._touched, self._counts = [], [], [], [0, 0, 0]
            self._partitions, self._touched_partitions = [], []
        if not (files or facts or touched or partitions or touched_partitions or any(counts)):
            return

        def write(db: sqlite3.Connection) -> None:
            db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?, ?)", facts)
            db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", files)
            db.executemany("INSERT OR REPLACE INTO partitions VALUES (?, ?, ?, ?, ?)", partitions)
            db.executemany("UPDATE facts SET used = ? WHERE digest = ? AND variant = ?", touched)
            db.executemany("UPDATE partitions SET used = ? WHERE key = ?", touched_partitions)
            db.execute("INSERT OR IGNORE INTO runs (run, started) VALUES (?, ?)", (self.run, int(time.time())))
            db.execute("UPDATE runs SET unchanged = unchanged + ?, same_content = same_content + ?, "
                       "measured = measured + ? WHERE run = ?", (*counts, self.run))

        self._write(write)

    def stats(self) -> RunStats:
        """This run's counts, over every process that flushed into the cache (flush first)."""
        row = self._query("SELECT unchanged, same_content, measured FROM runs WHERE run = ?", (self.run,))
        return RunStats(*row) if row is not None else RunStats()

    def close(self) -> RunStats:
        """Flush, prune to the size bound, and return this run's counts."""
        self.flush()
        self._write(lambda db: prune(db, self.max_bytes))
        self._write(lambda db: db.execute(
            "DELETE FROM runs WHERE run NOT IN (SELECT run FROM runs ORDER BY started DESC LIMIT ?)", (RUNS_KEPT,)))
        stats = self.stats()
        connection = getattr(self._local, "db", None)
        if connection is not None:
            connection.close()
            self._local.db = None
        return stats

    # --- the connection, and what happens when the database fails ---

    def _query(self, sql: str, args: tuple[Any, ...]) -> Any:
        db = self._connection()
        if db is None:
            return None
        try:
            return db.execute(sql, args).fetchone()
        except sqlite3.Error as exc:
            self._failed(exc)  # locked past the timeout: the file is read as if never seen
            return None

    def _query_all(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        db = self._connection()
        if db is None:
            return []
        try:
            return db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            self._failed(exc)
            return []

    def _write(self, action: Callable[[sqlite3.Connection], Any]) -> None:
        db = self._connection()
        if db is None:
            return
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                action(db)
        except sqlite3.Error as exc:
            self._failed(exc)  # locked past the timeout, or a full disk: these entries are simply not kept

    def _failed(self, exc: sqlite3.Error) -> None:
        if damaged(exc):
            self._off(f"the cache database {self.path} is damaged ({exc}); scanning on without it (it is "
                      f"started anew next time)")

    def _off(self, message: str) -> None:
        with self._lock:
            if self._disabled:
                return
            self._disabled = True
        warn(message)

    def _connection(self) -> sqlite3.Connection | None:
        if self._disabled:
            return None
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            return db
        with self._lock:
            if not self._ready:
                self._ready = self._prepare()
                if not self._ready:
                    self._disabled = True
                    return None
        try:
            db = _connect(self.path)
        except sqlite3.Error as exc:
            self._off(f"cannot open the cache {self.path} ({exc}); scanning on without it")
            return None
        self._local.db = db
        return db

    def _prepare(self) -> bool:
        """Create the folder and the tables; move a damaged database aside and start again. False: no cache."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            warn(f"cannot create the cache folder {self.folder} ({exc.strerror or exc}); scanning without a "
                 f"cache (choose one with --cache-dir, or --no-cache)")
            return False
        for attempt in range(2):
            try:
                db = _connect(self.path)
                try:
                    db.executescript(_TABLES)
                    db.execute("SELECT count(*) FROM files").fetchone()
                finally:
                    db.close()
                return True
            except sqlite3.Error as exc:
                if damaged(exc) and not attempt:
                    self._move_aside(exc)
                    continue
                if not quiet(exc):
                    warn(f"cannot use the cache {self.path} ({exc}); scanning without it (choose another "
                         f"folder with --cache-dir, or --no-cache)")
                return False
        return False

    def _move_aside(self, exc: Exception) -> None:
        aside = self.path.with_name(DATABASE_NAME + ".damaged")
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(OSError):
                self.path.with_name(DATABASE_NAME + suffix).unlink()
        try:
            os.replace(self.path, aside)
        except OSError:
            with contextlib.suppress(OSError):
                self.path.unlink()
        warn(f"the cache database {self.path} was damaged ({exc}); moved it to {aside} and started a new one")


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def damaged(exc: sqlite3.Error) -> bool:
    """The database file is not a database, or a damaged one (not merely locked, read-only or full)."""
    name = getattr(exc, "sqlite_errorname", "")
    if name:
        return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
    return "not a database" in str(exc) or "malformed" in str(exc)


def quiet(exc: sqlite3.Error) -> bool:
    """A full disk or an I/O error: the outputs meet it too and report it; the cache says nothing more."""
    return getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_FULL", "SQLITE_IOERR"))


def warn(message: str) -> None:
    sys.stderr.write(f"maskaudit: warning: {message}\n")


def content_bytes(db: sqlite3.Connection) -> int:
    tables = [table for table in ("facts", "files", "partitions") if _has_table(db, table)]
    return sum(int(db.execute(f"SELECT coalesce(sum(bytes), 0) FROM {table}").fetchone()[0]) for table in tables)


def prune(db: sqlite3.Connection, max_bytes: int) -> int:
    """Delete the least recently used entries until the content fits PRUNE_TO of max_bytes; the count deleted."""
    total = content_bytes(db)
    if total <= max_bytes:
        return 0
    excess = total - int(max_bytes * PRUNE_TO)
    doomed: dict[str, list[tuple[int]]] = {"facts": [], "files": [], "partitions": []}
    rows = db.execute("SELECT 'facts', rowid, bytes, used FROM facts UNION ALL "
                      "SELECT 'files', rowid, bytes, used FROM files UNION ALL "
                      "SELECT 'partitions', rowid, bytes, used FROM partitions ORDER BY used, 1, 2")
    for table, rowid, size, _ in rows:
        if excess <= 0:
            break
        doomed[table].append((rowid,))
        excess -= size
    for table, rowids in doomed.items():
        db.executemany(f"DELETE FROM {table} WHERE rowid = ?", rowids)
    return sum(len(r) for r in doomed.values())


@dataclass(frozen=True, slots=True)
class CacheInfo:
    path: Path
    exists: bool
    facts: int = 0
    files: int = 0
    partitions: int = 0
    content_bytes: int = 0
    file_bytes: int = 0
    last_run: RunStats | None = None


def info(folder: Path) -> CacheInfo:
    """What the cache at a folder holds, read without creating anything."""
    path = folder / DATABASE_NAME
    if not path.is_file():
        return CacheInfo(path, exists=False)
    on_disk = sum(p.stat().st_size for p in folder.glob(DATABASE_NAME + "*") if p.is_file()
                  and not p.name.endswith(".damaged"))
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        facts = db.execute("SELECT count(*) FROM facts").fetchone()[0]
        files = db.execute("SELECT count(*) FROM files").fetchone()[0]
        partitions = db.execute("SELECT count(*) FROM partitions").fetchone()[0] if _has_table(db, "partitions") else 0
        last = db.execute("SELECT unchanged, same_content, measured FROM runs ORDER BY started DESC, rowid DESC "
                          "LIMIT 1").fetchone()
        return CacheInfo(path, True, facts, files, partitions, content_bytes(db), on_disk,
                         RunStats(*last) if last is not None else None)
    finally:
        db.close()


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def clear(folder: Path) -> int:
    """Delete the cache database (and its journal files); the bytes freed."""
    freed = 0
    for suffix in ("", "-wal", "-shm", ".damaged"):
        path = folder / (DATABASE_NAME + suffix)
        with contextlib.suppress(FileNotFoundError):
            freed += path.stat().st_size
            path.unlink()
    return freed
