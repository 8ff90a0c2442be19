"""The one place a manifest path becomes a decoded array, or the reason it cannot.

Only regular files are opened, never blocking; the size on disk and the size the header declares are checked
against the limits before anything is read in full or decoded. Every way a file can fail is a Problem.
A path may be a URL, or relative to a root that is one: the object's status and head come from one ranged
request where the store allows (else a stat, then the head), checked like a file's, then the rest, if any; the
``*_many`` forms keep many requests in flight.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from maskaudit import storage
from maskaudit.data_root import within
from maskaudit.decode import Decoded, DecodeError, decode_bytes, sniff
from maskaudit.facts import Problem, ProblemKind
from maskaudit.header import PLAIN, Declared, HeaderError, declared, traits
from maskaudit.limits import Limits
from maskaudit.storage import Status

HEAD_BYTES = 1 << 16
# An object's first request reads this much: most images and masks whole in one round trip, never more
OBJECT_HEAD_BYTES = 1 << 18
MAX_LISTING = 10_000  # entries of a folder read to explain a missing name
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


_PLAIN_POSIX = os.sep == "/" and os.altsep is None


def plainly_relative(path: str) -> bool:
    """A POSIX path that resolve() merely joins to a root: no URL, no home folder, not absolute."""
    return _PLAIN_POSIX and "://" not in path and not path.startswith(("/", "~"))


def resolve(path: str, root: os.PathLike[str] | str) -> str:
    """The manifest's path, absolute as given or relative to the root, which may be a URL (strings: this runs
    twice a row)."""
    if "://" in path:
        return storage.normalise(path) if storage.is_remote(path) else storage.local_path(path)
    expanded = os.path.expanduser(path) if path.startswith("~") else path
    if os.path.isabs(expanded):
        return expanded
    base = os.fspath(root)
    return storage.join(base, expanded) if storage.is_remote(base) else os.path.join(base, expanded)


def outside_root(path: str | None, root: os.PathLike[str] | str) -> str | None:
    """Where the path leads, normalised without touching the disk or the store, when that lies outside the root;
    else None. URLs are compared lexically."""
    if path is None or "\x00" in path:
        return None
    if ".." not in path and plainly_relative(path):
        return None  # relative, with no step up: it stays within any root (most paths)
    return _outside(path, os.fspath(root))


def _outside(path: str, base: str) -> str | None:
    """outside_root() worked out in full."""
    target = resolve(path, base)
    if storage.is_remote(target):
        return None if storage.is_remote(base) and storage.within(target, base) else target
    if storage.is_remote(base):
        return _absolute(target)
    target = _absolute(target)
    return None if within(target, _local_folder(base)) else target


def _absolute(path: str) -> str:
    """os.path.normpath(os.path.abspath(path)), without the work for a path that is already so (most are)."""
    if _PLAIN_POSIX and path.startswith("/") and "/." not in path and "//" not in path and not path.endswith("/"):
        return path
    return os.path.normpath(os.path.abspath(path))


def _local_folder(base: str) -> str:
    """A local root, normalised; an absolute one is normalised once, not once a file."""
    local = storage.local_path(base)
    return _normalised_folder(local) if os.path.isabs(local) else os.path.normpath(os.path.abspath(local))


@functools.lru_cache(maxsize=16)
def _normalised_folder(absolute: str) -> str:
    return os.path.normpath(absolute)


def size_text(size: int) -> str:
    """1 GiB, 3.2 GiB, 512 KiB, 17 bytes."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


@dataclass(frozen=True, slots=True)
class Found:
    """A regular file or an object within the size limit: its resolved path or URL and what stat said of it;
    for an object, the head already read with its status, when the store answered both at once."""

    full: str
    info: Status
    head: bytes | None = None


@dataclass(frozen=True, slots=True)
class Read:
    """A file's whole content, with the status of the descriptor (or object) it was read from."""

    full: str
    data: bytearray
    info: Status


def load(
    path: str | None, root: os.PathLike[str] | str, role: str, limits: Limits = Limits()
) -> tuple[Decoded | None, Problem | None]:
    """Decode the file a manifest path names, within the limits; exactly one of the pair is None."""
    found, problem = find(path, root, role, limits)
    if found is None:
        return None, problem
    read_file, problem = read(found, role, limits)
    if read_file is None:
        return None, problem
    return decode(read_file, role, limits)


def find(
    path: str | None, root: os.PathLike[str] | str, role: str, limits: Limits = Limits()
) -> tuple[Found | None, Problem | None]:
    """The regular file a manifest path names, by stat alone (nothing is opened); exactly one is None."""
    if path is None:
        return None, Problem(ProblemKind.MISSING_PATH, f"{role} path is empty")
    if "\x00" in path:
        return None, Problem(ProblemKind.NOT_FOUND, f"{role} path {path!r} holds a NUL byte: no file has that name")
    full = resolve(path, root)
    if storage.is_remote(full):
        return find_many([path], root, role, limits)[0]
    return _find_local(full, role, limits)


def _find_local(full: str, role: str, limits: Limits) -> tuple[Found | None, Problem | None]:
    """find() for a resolved local path."""
    try:
        info = os.stat(full)
    except ValueError:  # a name the file system cannot encode
        return None, Problem(ProblemKind.NOT_FOUND, f"{role} file {full!r} cannot exist: its name cannot be encoded")
    except OSError as exc:
        return None, _stat_problem(full, role, exc)
    problem = _kind_problem(full, role, info.st_mode) or _size_problem(role, info.st_size, limits)
    return (None, problem) if problem is not None else (Found(full, Status.of_file(info)), None)


def read(found: Found, role: str, limits: Limits = Limits()) -> tuple[Read | None, Problem | None]:
    """The found file's bytes, once its kind, size and declared pixels are known to be within bounds."""
    if storage.is_remote(found.full):
        return read_many([found], role, limits)[0]
    try:
        data, info = _read(found.full, role, limits)
    except _Refused as refused:
        return None, refused.problem
    except OSError as exc:
        return None, _unreadable(role, f"cannot be read ({exc.strerror or exc})")
    except Exception as exc:  # a header parser's surprise on hostile bytes is a finding, never a crash
        return None, _unreadable(role, f"cannot be read ({type(exc).__name__}: {exc})")
    return Read(found.full, data, Status.of_file(info)), None


def read_bytes(data: bytes, name: str, role: str, limits: Limits = Limits()) -> tuple[Read | None, Problem | None]:
    """A file the manifest holds (a parquet cell of bytes), checked as read() checks a file on disk: size,
    content sniffed, declared pixels. ``name`` says where it is: ``train.parquet[row 12].image``."""
    problem = _size_problem(role, len(data), limits)
    if problem is not None:
        return None, problem
    content = bytearray(data)
    try:
        _check_head(content, len(content), name, role, limits, complete=True)
    except _Refused as refused:
        return None, refused.problem
    except Exception as exc:  # a header parser's surprise on hostile bytes is a finding, never a crash
        return None, _unreadable(role, f"cannot be read ({type(exc).__name__}: {exc})")
    return Read(name, content, Status(len(content), 0, 0, 0, 0, versioned=False)), None


def load_bytes(data: bytes, name: str, role: str, limits: Limits = Limits()
               ) -> tuple[Decoded | None, Problem | None]:
    """load() for a file the manifest holds."""
    content, problem = read_bytes(data, name, role, limits)
    return decode(content, role, limits) if content is not None else (None, problem)


Roles = Sequence[str] | str


def _role(roles: Roles, index: int) -> str:
    return roles if isinstance(roles, str) else roles[index]


def find_many(
    paths: Sequence[str | None], root: os.PathLike[str] | str, roles: Roles, limits: Limits = Limits()
) -> list[tuple[Found | None, Problem | None]]:
    """find() for each path, in order; objects are stat'ed concurrently (at most --io-concurrency requests in
    flight). ``roles`` is one role for every path or one per path."""
    return find_many_begun(paths, root, roles, limits)()


def find_many_begun(
    paths: Sequence[str | None], root: os.PathLike[str] | str, roles: Roles, limits: Limits = Limits()
) -> Callable[[], list[tuple[Found | None, Problem | None]]]:
    """find_many() with the objects' requests sent now: they run on the store's event loop while the caller
    does other work (decodes the files found before), and calling the answer waits for them. Local paths are
    stat'ed by that call, as find_many() does."""
    fulls = [resolve(path, root) if path is not None and "\x00" not in path else None for path in paths]
    return _each_begun(
        fulls, roles,
        local=lambda i: (find(paths[i], root, _role(roles, i), limits) if fulls[i] is None
                         else _find_local(str(fulls[i]), _role(roles, i), limits)),
        remote=lambda i: _stat_call(str(fulls[i]), _role(roles, i), limits),
    )


def read_many(
    founds: Sequence[Found], roles: Roles, limits: Limits = Limits()
) -> list[tuple[Read | None, Problem | None]]:
    """read() for each found file, in order; objects are read concurrently (head first, then the rest)."""
    return _each(
        [found.full for found in founds], roles,
        local=lambda i: read(founds[i], _role(roles, i), limits),
        remote=lambda i: _read_call(founds[i], _role(roles, i), limits),
    )


def _each(
    locations: Sequence[str | None], roles: Roles, local: Callable[[int], tuple[Any, Problem | None]],
    remote: Callable[[int], Any],
) -> list[tuple[Any, Problem | None]]:
    """``local(i)`` for each local location, in order; ``remote(i)`` (a coroutine) for each object, run
    concurrently on its filesystem's loop, at most --io-concurrency requests in flight."""
    return _each_begun(locations, roles, local, remote)()


def _each_begun(
    locations: Sequence[str | None], roles: Roles, local: Callable[[int], tuple[Any, Problem | None]],
    remote: Callable[[int], Any],
) -> Callable[[], list[tuple[Any, Problem | None]]]:
    """_each() with the objects' requests sent now; the answer, called, does the local work and waits for them."""
    objects = {index: location for index, location in enumerate(locations)
               if location is not None and storage.is_remote(location)}
    running = [(indices, storage.start(fs, [remote(i) for i in indices]))
               for fs, indices in _by_filesystem(objects).items()]

    def results() -> list[tuple[Any, Problem | None]]:
        done = [(None, None) if index in objects else local(index) for index in range(len(locations))]
        for indices, future in running:
            for index, outcome in zip(indices, future.result(), strict=True):
                done[index] = _outcome(outcome, _role(roles, index))
        return done

    return results


def read_paths(
    paths: Sequence[str | None], root: os.PathLike[str] | str, roles: Roles, limits: Limits = Limits()
) -> list[tuple[Read | None, Problem | None]]:
    """find() then read() for each path, in order, the files found and read concurrently; exactly one of each pair
    is None."""
    found = find_many(paths, root, roles, limits)
    present = [(i, f) for i, (f, _) in enumerate(found) if f is not None]
    results: list[tuple[Read | None, Problem | None]] = [(None, problem) for _, problem in found]
    for (index, _), outcome in zip(present, read_many([f for _, f in present], [_role(roles, i) for i, _ in present],
                                                      limits), strict=True):
        results[index] = outcome
    return results


def _by_filesystem(remote: dict[int, str]) -> dict[Any, list[int]]:
    groups: dict[Any, list[int]] = {}
    for index, url in remote.items():
        groups.setdefault(storage.filesystem(url), []).append(index)
    return groups


def _outcome(outcome: Any, role: str) -> tuple[Any, Problem | None]:
    if isinstance(outcome, _Refused):
        return None, outcome.problem
    if isinstance(outcome, BaseException):
        if not isinstance(outcome, Exception):
            raise outcome
        return None, _unreadable(role, f"cannot be read ({type(outcome).__name__}: {outcome})")
    return outcome, None


def _object_problem(url: str, role: str, exc: BaseException) -> Problem:
    if isinstance(exc, FileNotFoundError):
        return Problem(ProblemKind.NOT_FOUND, f"{role} file {url} does not exist")
    if isinstance(exc, PermissionError):
        return Problem(ProblemKind.UNREADABLE, f"{role} file {url} cannot be read: access denied (check credentials)")
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return Problem(ProblemKind.UNREADABLE, f"{role} file {url} cannot be read ({reason})")


def _stat_call(url: str, role: str, limits: Limits) -> Any:
    async def stat(fs: Any) -> Found:
        try:
            info, head = await storage.head(fs, url, OBJECT_HEAD_BYTES)
        except (OSError, ValueError) as exc:
            raise _Refused(_object_problem(url, role, exc)) from None
        if info.get("type") == "directory":
            raise _Refused(Problem(ProblemKind.UNREADABLE, f"{role} file {url} is a folder (a prefix), not an "
                                                           "object"))
        status = Status.of_object(info)
        problem = _size_problem(role, status.size, limits)
        if problem is not None:
            raise _Refused(problem)
        return Found(url, status, head)

    return stat


def _read_call(found: Found, role: str, limits: Limits) -> Any:
    url, size = found.full, found.info.size

    async def fetch(fs: Any) -> Read:
        try:
            if size == 0:
                raise _Refused(_unreadable(role, "file is empty (0 bytes)"))
            head = bytearray(found.head if found.head is not None
                             else await fs._cat_file(url, start=0, end=min(size, OBJECT_HEAD_BYTES)))
            complete, declared_found = _check_head(head, size, storage.name(url), role, limits, len(head) >= size)
            if complete:
                return Read(url, head, found.info)
            whole = head + await fs._cat_file(url, start=len(head), end=size)
            if declared_found is None:
                _declared(whole, sniff(bytes(whole[:16]), storage.name(url)), True, role, limits)
            return Read(url, whole, found.info)
        except (OSError, ValueError) as exc:
            raise _Refused(_object_problem(url, role, exc)) from None

    return fetch


def _check_head(head: bytearray, size: int, name: str, role: str, limits: Limits, complete: bool | None = None
                ) -> tuple[bool, Declared | None]:
    """Whether the head is the whole file, and what its header declares (refused when over the limits)."""
    if not head:
        raise _Refused(_unreadable(role, "file is empty (0 bytes)"))
    fmt = sniff(bytes(head[:16]), name)
    if fmt == "unknown":
        raise _Refused(_unreadable(role, "not a supported image or array file (unrecognised content)"))
    if complete is None:
        complete = len(head) < HEAD_BYTES or len(head) >= size
    return complete, _declared(head, fmt, complete, role, limits)


def decode(read_file: Read, role: str, limits: Limits = Limits()) -> tuple[Decoded | None, Problem | None]:
    """The array a file's bytes hold, with what its header says loaders differ on."""
    name = storage.name(read_file.full) if storage.is_remote(read_file.full) else os.path.basename(read_file.full)
    try:
        decoded = decode_bytes(read_file.data, name, max_pixels=limits.max_pixels)
    except DecodeError as exc:
        return None, _unreadable(role, str(exc))
    except Exception as exc:  # one bad file never stops a scan: a decoder's surprise becomes a finding
        return None, _unreadable(role, f"{type(exc).__name__}: {exc}")
    return _with_traits(decoded, read_file.data, name), None


def _with_traits(decoded: Decoded, data: bytearray, name: str) -> Decoded:
    """The decoded file with what its header says loaders differ on, read from the bytes already in memory."""
    fmt = sniff(bytes(data[:16]), name)
    found = traits(data, fmt)
    if found is PLAIN:
        return decoded
    if found.rotated and decoded.array.ndim >= 2:
        try:
            stored = declared(data, fmt, True)
        except HeaderError:
            stored = None
        height, width = decoded.array.shape[:2]
        if stored is not None and stored.shape[:2] == (width, height) != (height, width):
            found = replace(found, upright=True)  # the decoder applied the orientation (TIFF)
    return replace(decoded, traits=found)


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _unreadable(role: str, reason: str) -> Problem:
    return Problem(ProblemKind.UNREADABLE, f"{role} file cannot be decoded: {reason}")


def _stat_problem(full: str, role: str, exc: OSError) -> Problem:
    if exc.errno == errno.ELOOP:
        return Problem(ProblemKind.UNREADABLE, f"{role} file {full} is a symlink loop")
    if exc.errno == errno.ENOENT:
        if os.path.islink(full):
            target = os.readlink(full)
            return Problem(ProblemKind.NOT_FOUND, f"{role} file {full} is a broken symlink to {target}")
        return Problem(ProblemKind.NOT_FOUND, f"{role} file {full} does not exist" + _near_miss(full))
    if exc.errno in (errno.ENOTDIR, errno.ENAMETOOLONG):
        return Problem(ProblemKind.NOT_FOUND, f"{role} file {full} does not exist ({exc.strerror})")
    if exc.errno == errno.EACCES:
        return Problem(ProblemKind.UNREADABLE, f"{role} file {full} cannot be read: permission denied")
    return Problem(ProblemKind.UNREADABLE, f"{role} file {full} cannot be read ({exc.strerror or exc})")


def file_kind(mode: int) -> str:
    """What a stat mode names, as messages say it: "a FIFO", "a character device", ..."""
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def _kind_problem(full: str, role: str, mode: int) -> Problem | None:
    if stat.S_ISREG(mode):
        return None
    return Problem(ProblemKind.UNREADABLE, f"{role} file {full} is {file_kind(mode)}, not a regular file")


def _size_problem(role: str, size: int, limits: Limits) -> Problem | None:
    if size <= limits.max_file_bytes:
        return None
    return _unreadable(role, f"is {size_text(size)}, over --max-file-bytes {size_text(limits.max_file_bytes)}; "
                             f"raise it with --max-file-bytes if the file is genuine")


def _read(full: str, role: str, limits: Limits) -> tuple[bytearray, os.stat_result]:
    """The whole file, read only once its kind, size and declared pixels are known to be within bounds."""
    fd = os.open(full, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        problem = _kind_problem(full, role, info.st_mode) or _size_problem(role, info.st_size, limits)
        if problem is not None:
            raise _Refused(problem)
        size = info.st_size
        head = bytearray(min(size, HEAD_BYTES))
        del head[_read_into(fd, head) :]
        complete, found = _check_head(head, size, os.path.basename(full), role, limits)
        if complete:
            return head, info
        whole = bytearray(size)  # zero pages cost nothing until the read fills them
        whole[: len(head)] = head
        with memoryview(whole) as view:
            got = len(head) + _read_into(fd, view[len(head) :])
        del whole[got:]
        if found is None:
            _declared(whole, sniff(bytes(whole[:16]), os.path.basename(full)), True, role, limits)
        return whole, info
    finally:
        os.close(fd)


def _read_into(fd: int, buffer: bytearray | memoryview) -> int:
    """Fill the buffer from the descriptor; the count read (short only at the end of the file)."""
    total = len(buffer)
    filled = os.readv(fd, [buffer]) if total else 0
    if filled in (0, total):  # a regular file's read is short only at its end: one call, most of the time
        return filled
    with memoryview(buffer) as view:
        while filled < total:
            count = os.readv(fd, [view[filled:]])
            if count == 0:
                break
            filled += count
    return filled


def _declared(data: bytearray, fmt: str, complete: bool, role: str, limits: Limits) -> Declared | None:
    try:
        found = declared(data, fmt, complete)
    except HeaderError as exc:
        raise _Refused(_unreadable(role, str(exc))) from None
    if found is not None and found.elements > limits.max_pixels:
        noun = "pixels" if len(found.shape) == 2 else "values"
        raise _Refused(_unreadable(
            role, f"declares {found.describe()} {noun}, over --max-pixels {limits.max_pixels:,}; "
                  f"raise it with --max-pixels if the file is genuine"))
    return found


@functools.lru_cache(maxsize=64)
def _listing(folder: str, modified: int) -> dict[str, str]:
    """Names in a folder keyed by their NFC, case-folded form; the first MAX_LISTING entries only."""
    names: dict[str, str] = {}
    try:
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_LISTING:
                    break
                names.setdefault(unicodedata.normalize("NFC", entry.name).casefold(), entry.name)
    except OSError:
        pass
    return names


def _near_miss(full: str) -> str:
    """"; a file named X exists (...)" when the folder holds the name in another normalisation or case."""
    folder, name = os.path.split(full)
    try:
        modified = os.stat(folder or ".").st_mtime_ns
    except (OSError, ValueError):
        return ""
    found = _listing(folder or ".", modified).get(unicodedata.normalize("NFC", name).casefold())
    if found is None or found == name:
        return ""
    same_form = unicodedata.normalize("NFC", found) == unicodedata.normalize("NFC", name)
    why = "differs only by Unicode normalisation (NFC/NFD)" if same_form else "differs only by letter case"
    return f"; a file named {found!r} exists there ({why})"
