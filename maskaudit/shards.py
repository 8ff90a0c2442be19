"""WebDataset tar shards as a manifest: which shards, which extension is the image and which the mask, and the
rows of one shard streamed from the tar (never extracted to disk, read once).

Members sharing a key form a row; the key is the member name up to the first dot of its file name and the
extension everything after it (``sample001.seg.png``: key ``sample001``, extension ``seg.png``). Rows are
numbered in shard order.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import io
import os
import re
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import NDArray

from maskaudit import storage
from maskaudit.errors import UsageError

SHARD_SUFFIXES = (".tar", ".tar.gz", ".tgz")
LIST_SUFFIXES = (".txt", ".shards")
IMAGE_EXTS = ("jpg", "jpeg", "png", "webp", "tif", "tiff", "bmp")
MASK_EXTS = ("seg.png", "mask.png", "label.png", "seg.tif", "mask.tif", "png", "tif")
DETECT_MEMBERS = 64
"""Members of the first shard read to detect the image and mask extensions."""
MAX_LIST_BYTES = 16 << 20
"""The largest list file of shards read."""
SPOOL_BYTES = 16 << 20
"""A member copied into a new shard is held in memory up to this size, beyond it in a file beside the shard."""
TRUNCATED = "(truncated)"
_BRACE = re.compile(r"\{(\d+)\.\.(\d+)\}")


def is_shard_pattern(location: str) -> bool:
    """A manifest argument that names tar shards: one shard, a glob or brace pattern of them, or a list file."""
    lowered = location.lower()
    if lowered.endswith(SHARD_SUFFIXES):
        return True
    return lowered.endswith(LIST_SUFFIXES) and (storage.is_remote(location) or os.path.isfile(location))


def expand(location: str) -> tuple[str, ...]:
    """The shards a manifest argument names, in order; a usage error when it names none or a missing one."""
    if location.lower().endswith(LIST_SUFFIXES):
        shards = _listed(location)
    elif _BRACE.search(location):
        shards = _braces(location)
    elif any(c in location for c in "*?["):
        if storage.is_remote(location):
            storage.require(location)
            shards = tuple(storage.glob(location))
        else:
            shards = tuple(sorted(glob.glob(location)))
        if not shards:
            raise UsageError(f"manifest {location} matches no shards; check the pattern")
    else:
        shards = (location,)
    for shard in shards:
        if storage.is_remote(shard):
            storage.require(shard)
            if not storage.exists(shard):
                raise UsageError(f"shard {shard} does not exist; check the URL")
        elif not os.path.isfile(shard):
            raise UsageError(f"shard {shard} does not exist; check the path")
    return shards


def _braces(location: str) -> tuple[str, ...]:
    match = _BRACE.search(location)
    if match is None:
        return (location,)
    first, last = match.group(1), match.group(2)
    if int(last) < int(first):
        raise UsageError(f"manifest {location}: the range {{{first}..{last}}} is empty; write {{low..high}}")
    width = len(first) if first.startswith("0") else 0
    head, tail = location[: match.start()], location[match.end():]
    return tuple(shard for n in range(int(first), int(last) + 1)
                 for shard in _braces(f"{head}{n:0{width}d}{tail}"))


def _listed(location: str) -> tuple[str, ...]:
    """The shards a list file names, one a line; a relative one lies beside the list (in its prefix)."""
    remote = storage.is_remote(location)
    if remote:
        storage.require(location)
    try:
        with storage.open_binary(location) if remote else open(location, "rb") as handle:
            content = handle.read(MAX_LIST_BYTES + 1)
        if len(content) > MAX_LIST_BYTES:
            raise UsageError(f"shard list {location} is over {MAX_LIST_BYTES >> 20} MiB; name the shards with a "
                             "glob or a brace pattern")
        text = content.decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"shard list {location} does not exist; check the {'URL' if remote else 'path'}") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"shard list {location} cannot be read ({exc}); check the file") from None
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise UsageError(f"shard list {location} names no shards; write one shard path or URL a line")
    if remote:
        return tuple(line if storage.is_remote(line) else storage.join(storage.parent(location), line)
                     for line in lines)
    base = os.path.dirname(os.path.abspath(location))
    return tuple(line if storage.is_remote(line) or os.path.isabs(line) else os.path.join(base, line)
                 for line in lines)


def shard_name(shard: str) -> str:
    return storage.name(shard) if storage.is_remote(shard) else os.path.basename(shard)


def split_name(member: str) -> tuple[str, str]:
    """A member's key and extension: ``a/sample001.seg.png`` is (``a/sample001``, ``seg.png``)."""
    folder, _, file = member.rpartition("/")
    stem, _, extension = file.partition(".")
    return (f"{folder}/{stem}" if folder else stem), extension


def open_stream(shard: str) -> tarfile.TarFile:
    """The shard as a tar stream; a store's own errors (no credentials, a refused request) are OSErrors, as a
    file's are: a shard that cannot be read is a finding, never a crash."""
    try:
        handle = storage.open_binary(shard) if storage.is_remote(shard) else open(shard, "rb")  # noqa: SIM115
    except OSError:
        raise
    except Exception as exc:
        raise OSError(f"{type(exc).__name__}: {exc}") from exc
    return tarfile.open(fileobj=handle, mode="r|*")


def cut_at_header(tar: tarfile.TarFile) -> bool:
    """Whether a stream that tarfile ended quietly stopped short of the end-of-archive block: tarfile treats a
    header cut short, or no header at all, as the end."""
    consumed: int = tar.fileobj.pos  # type: ignore[attr-defined,union-attr]  # a stream's count of bytes read
    return consumed < tar.offset + tarfile.BLOCKSIZE


def read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, max_bytes: int) -> bytes:
    """A member's bytes, at most one byte past ``max_bytes`` (which the loader then reports as over the limit);
    a member cut short is a ReadError."""
    handle = tar.extractfile(member)
    wanted = min(member.size, max_bytes + 1)
    data = handle.read(wanted) if handle is not None else b""
    if len(data) != wanted:
        raise tarfile.ReadError("unexpected end of data")
    return data


def detect_extensions(shards: tuple[str, ...], image: str | None, mask: str | None) -> tuple[str, str]:
    """The image and mask extensions: as given, else found among the first members of the first shard."""
    if image is not None and mask is not None:
        return image.lower().lstrip("."), mask.lower().lstrip(".")
    found: set[str] = set()
    try:
        with open_stream(shards[0]) as tar:
            for count, member in enumerate(tar):
                if member.isfile():
                    found.add(split_name(member.name)[1].lower())
                if count >= DETECT_MEMBERS:
                    break
    except (tarfile.TarError, OSError, EOFError):
        pass  # a shard cut short: what was read decides, and the scan reports the shard
    chosen_mask = mask.lower().lstrip(".") if mask is not None else next((e for e in MASK_EXTS if e in found), None)
    chosen_image = image.lower().lstrip(".") if image is not None else next(
        (e for e in IMAGE_EXTS if e in found and e != chosen_mask), None)
    if chosen_image is None or chosen_mask is None:
        role, flag = ("image", "--image-ext") if chosen_image is None else ("mask", "--mask-ext")
        raise UsageError(f"cannot tell which extension of {shard_name(shards[0])} is the {role}; extensions found: "
                         f"{', '.join(sorted(found)) or '(none)'}; name it with {flag}")
    return chosen_image, chosen_mask


def content_hash(shards: tuple[str, ...]) -> str:
    """The shards' names and sizes: a shard dataset is not read again to be identified."""
    digest = hashlib.blake2b(digest_size=16)
    for shard in shards:
        size = storage.info(shard).get("size") if storage.is_remote(shard) else os.stat(shard).st_size
        digest.update(f"{shard}\0{size}\n".encode())
    return digest.hexdigest()


def write_filtered_keys(identities: Iterable[tuple[int, str | None]], keep: Sequence[bool] | NDArray[np.bool_],
                        target: IO[bytes]) -> int:
    """The filtered manifest of a shard dataset: a CSV of the kept samples' shard and key, in scan order.
    ``identities`` are the rows' numbers and ``shard:key`` identities; ``keep`` says by row number which stay."""
    text = io.TextIOWrapper(target, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(("shard", "key"))
    kept = 0
    for row, identity in identities:
        if not keep[row] or identity is None:
            continue
        shard, _, key = identity.rpartition(":")
        writer.writerow((shard, key))
        kept += 1
    text.flush()
    text.detach()
    return kept


def output_names(location: str) -> dict[str, str]:
    """The shards a manifest argument names, by their names in an output set (their own file names, which the
    filtered manifest's ``shard`` column gives too); a usage error when it names no shards or two of one name."""
    if not is_shard_pattern(location):
        raise UsageError(f"--write-shards writes new tar shards of a shard dataset; {location} is not tar shards "
                         "(its filtered manifest is the filtered copy): scan without --write-shards")
    names: dict[str, str] = {}
    for shard in expand(location):
        name = shard_name(shard)
        if name in names:
            raise UsageError(f"shards {names[name]} and {shard} share the name {name}; --write-shards writes each "
                             "shard under its name: rename one, or scan without --write-shards")
        names[name] = shard
    return names


def write_kept(shard: str, dropped: frozenset[str], target: IO[bytes], spool_folder: Path) -> int:
    """A copy of the shard without the members of dropped keys (``shard:key`` identities): the kept members in
    their order, with their names and header fields, their bytes copied unchanged, a member at a time; gzip when
    the shard is. A member is copied only once it was read whole, so a shard cut short ends its copy at the last
    whole member (the scan reported the cut). A member too big to hold in memory waits in ``spool_folder``. The
    count of members kept; errors writing the copy are raised."""
    name = shard_name(shard)
    gzip = name.lower().endswith((".tar.gz", ".tgz"))
    kept = 0
    with (tarfile.open(fileobj=target, mode="w:gz", format=tarfile.PAX_FORMAT) if gzip
          else tarfile.open(fileobj=target, mode="w", format=tarfile.PAX_FORMAT)) as copy:
        for member, data in _whole_members(shard, name, dropped, spool_folder):
            copy.addfile(member, data)
            kept += 1
    return kept


class _Cut(Exception):
    """The shard being read ended or broke before the end of its archive."""


def _whole_members(shard: str, name: str, dropped: frozenset[str], spool_folder: Path
                   ) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    """The shard's regular members of kept keys, each with its bytes read whole into a spooled file; the stream
    ends quietly where the shard is cut short or damaged."""
    try:
        with _reading():
            tar = open_stream(shard)
        with tar:
            for member in _reading_each(tar):
                if not member.isfile() or f"{name}:{split_name(member.name)[0]}" in dropped:
                    continue
                with tempfile.SpooledTemporaryFile(SPOOL_BYTES, mode="w+b", dir=str(spool_folder)) as spool:
                    with _reading():
                        source = tar.extractfile(member)
                    while chunk := _read(source, 1 << 20):
                        spool.write(chunk)
                    if spool.tell() != member.size:
                        return
                    spool.seek(0)
                    yield member, spool
    except _Cut:
        return


@contextlib.contextmanager
def _reading() -> Iterator[None]:
    """Errors of reading a shard, as _Cut."""
    try:
        yield
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _Cut from exc


def _reading_each(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    members = iter(tar)
    while True:
        with _reading():
            member = next(members, None)
        if member is None:
            return
        yield member


def _read(source: IO[bytes] | None, size: int) -> bytes:
    if source is None:
        return b""
    with _reading():
        return source.read(size)
