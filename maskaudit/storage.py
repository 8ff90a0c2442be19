"""Where data lives when it is not a local path: URLs (s3://, gs://, az://, https://) read through fsspec.

The one module that knows about fsspec. A local path or a file:// URL stays a local path; every other URL names
an object in a filesystem made once per process for its protocol and the storage options. Credentials and
endpoints come from where each backend looks (the environment, profiles), or from the storage options.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib.util
import os
import posixpath
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from maskaudit.errors import UsageError

DEFAULT_IO_CONCURRENCY = 32
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# protocol -> (the module its backend needs, the extra that installs it)
BACKENDS: dict[str, tuple[str, str]] = {
    "s3": ("s3fs", "s3"), "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"), "gcs": ("gcsfs", "gcs"),
    "az": ("adlfs", "azure"), "abfs": ("adlfs", "azure"), "abfss": ("adlfs", "azure"),
    "http": ("aiohttp", "http"), "https": ("aiohttp", "http"),
}
T = TypeVar("T")

_options: tuple[tuple[str, Any], ...] = ()
_io_concurrency = DEFAULT_IO_CONCURRENCY


def scheme(text: str) -> str | None:
    """The URL's protocol in lower case ("s3"), or None for a local path."""
    found = _SCHEME.match(text)
    return found.group(1).lower() if found else None


def is_remote(text: str | os.PathLike[str]) -> bool:
    """Whether the location is a URL other than file://."""
    text = os.fspath(text)
    if "://" not in text:  # every local path: this runs several times a file
        return False
    protocol = scheme(text)
    return protocol is not None and protocol != "file"


def local_path(text: str) -> str:
    """A file:// URL as the local path it names; anything else as it is."""
    return text[len("file://"):] if scheme(text) == "file" else text


def normalise(url: str) -> str:
    """The URL with its key normalised lexically (a/./b/../c is a/c): never asks the store."""
    protocol = scheme(url)
    assert protocol is not None, url
    rest = url[len(protocol) + 3:]
    bucket, slash, key = rest.partition("/")
    if not slash:
        return f"{protocol}://{bucket}"
    cleaned = posixpath.normpath("/" + key).lstrip("/")
    return f"{protocol}://{bucket}/{cleaned}" if cleaned else f"{protocol}://{bucket}"


def join(root: str, path: str) -> str:
    """A relative path resolved against a URL root: s3://b/data/ + img/1.png is s3://b/data/img/1.png."""
    return normalise(root.rstrip("/") + "/" + path)


def within(url: str, root: str) -> bool:
    """Whether the (normalised) URL is the root or lies below it, compared lexically."""
    base = normalise(root)
    return url == base or url.startswith(base + "/")


def parent(url: str) -> str:
    """The folder (prefix) an object lies in."""
    return url.rstrip("/").rsplit("/", 1)[0] + "/"


def name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


# --- configuration: set once per process; a worker process is configured with the same values ---

def parse_options(items: Sequence[str], source: str = "--storage-option") -> dict[str, Any]:
    """KEY=VALUE texts as filesystem arguments: true/false become booleans, whole numbers integers, and a dotted
    key (client_kwargs.region_name=x) a nested mapping."""
    parsed: dict[str, Any] = {}
    for item in items:
        key, equals, value = (part.strip() for part in item.partition("="))
        if not equals or not key:
            raise UsageError(f"{source} {item!r}: give KEY=VALUE, for example endpoint_url=http://127.0.0.1:9000")
        target = parsed
        *outer, last = key.split(".")
        for part in outer:
            target = target.setdefault(part, {})
        target[last] = typed(value)
    return parsed


def typed(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return int(value) if re.fullmatch(r"-?\d+", value) else value


def configure(options: Mapping[str, Any] | None = None, io_concurrency: int | None = None) -> None:
    """Set the storage options every filesystem of this process is made with, and the requests in flight."""
    global _options, _io_concurrency
    _options = _frozen(options or {})
    if io_concurrency is not None:
        if io_concurrency < 1:
            raise UsageError(f"--io-concurrency {io_concurrency}: give a positive number of requests")
        _io_concurrency = io_concurrency


def configuration() -> tuple[dict[str, Any], int]:
    """What configure() was given: pass it to a worker process and call configure() there."""
    return _thawed(_options), _io_concurrency


def io_concurrency() -> int:
    return _io_concurrency


def _frozen(options: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, _frozen(v) if isinstance(v, Mapping) else v) for k, v in options.items()))


def _thawed(options: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    return {k: _thawed(v) if isinstance(v, tuple) and v and isinstance(v[0], tuple) else v for k, v in options}


def require(url: str) -> None:
    """A usage error naming the extra to install when the URL's backend is missing."""
    protocol = scheme(url)
    if protocol is None or protocol == "file":
        return
    backend = BACKENDS.get(protocol)
    if backend is None:
        supported = ", ".join(sorted({f"{p}://" for p in BACKENDS}))
        raise UsageError(f"{url}: the protocol {protocol}:// is not supported; use a local path or {supported}")
    module, extra = backend
    if importlib.util.find_spec(module) is None or importlib.util.find_spec("fsspec") is None:
        raise UsageError(f"{url} needs the {module} package: pip install 'maskaudit[{extra}]'")


def backend_modules(locations: Iterable[str]) -> tuple[str, ...]:
    """The installed backend modules the URLs among the locations read through (s3fs for s3://), each once:
    what a process that forks workers imports first, so that each worker does not. Importing one starts no
    thread; making a filesystem does (its event loop), so none is made here."""
    modules: list[str] = []
    for location in locations:
        protocol = scheme(location)
        module = BACKENDS.get(protocol or "", ("",))[0]
        if module and module not in modules and importlib.util.find_spec(module) is not None:
            modules.append(module)
    return tuple(modules)


def filesystem(url: str) -> Any:
    """The process's filesystem for the URL's protocol, made with the configured storage options."""
    require(url)
    protocol = scheme(url)
    assert protocol is not None
    return _filesystem(protocol, _options, _io_concurrency * _cores())


def _cores() -> int:
    """The worker processes a scan runs at most: each keeps io_concurrency() requests in flight."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@functools.lru_cache(maxsize=16)
def _filesystem(protocol: str, options: tuple[tuple[str, Any], ...], pool: int) -> Any:
    import fsspec

    arguments = _thawed(options)
    if BACKENDS.get(protocol, ("",))[0] == "s3fs":  # botocore keeps 10 connections unless told: too few to overlap
        config = arguments.setdefault("config_kwargs", {})
        if isinstance(config, dict):
            config.setdefault("max_pool_connections", pool)
    try:
        return fsspec.filesystem(protocol, **arguments)
    except TypeError as exc:
        raise UsageError(f"--storage-option: {protocol}:// does not take these options ({exc})") from None


# --- objects ---

@dataclass(frozen=True, slots=True)
class Status:
    """What the stat index compares: a local file's size, mtime, ctime, inode and device; an object's size and
    its version (ETag or generation, hashed to 63 bits in ``inode``; mtime and ctime 0: a new version always
    has a new tag). ``versioned`` is False for an object whose store gives no version: never indexed."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int
    versioned: bool = True

    @classmethod
    def of_file(cls, info: os.stat_result) -> Status:
        return cls(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)

    @classmethod
    def of_object(cls, info: Mapping[str, Any]) -> Status:
        version = next((str(info[k]) for k in ("ETag", "etag", "generation", "version_id", "VersionId")
                        if info.get(k)), None)
        tag = int.from_bytes(hashlib.blake2b((version or "").encode(), digest_size=8).digest(), "big") >> 1
        return cls(int(info.get("size") or 0), 0, 0, tag, 0, version is not None)


def gather(fs: Any, calls: Sequence[Callable[[Any], Awaitable[T]]]) -> list[T | BaseException]:
    """Run the coroutines on the filesystem's event loop with at most io_concurrency() in flight; results in
    order, an exception in its call's place. Every backend maskaudit names is asynchronous."""
    return start(fs, calls).result()


def start(fs: Any, calls: Sequence[Callable[[Any], Awaitable[T]]]) -> Future[list[T | BaseException]]:
    """gather() begun: the requests run on the filesystem's event loop, in its own thread, while this thread
    goes on; the future's result is what gather() returns."""
    async def run_all() -> list[T | BaseException]:
        gate = asyncio.Semaphore(_io_concurrency)

        async def one(call: Callable[[Any], Awaitable[T]]) -> T:
            async with gate:
                return await call(fs)

        return list(await asyncio.gather(*(one(c) for c in calls), return_exceptions=True))

    return asyncio.run_coroutine_threadsafe(run_all(), fs.loop)


async def head(fs: Any, url: str, length: int) -> tuple[dict[str, Any], bytes | None]:
    """What the store says of the object and, where one request tells both, its first ``length`` bytes (all of
    it when smaller): S3 answers a ranged GET with the size and the ETag. Otherwise the status alone (the
    bytes are then None and read later). FileNotFoundError, PermissionError, or another OSError."""
    if BACKENDS.get(scheme(url) or "", ("",))[0] == "s3fs":
        bucket, key, version = fs.split_path(url)
        try:
            response = await fs._call_s3("get_object", Bucket=bucket, Key=key, Range=f"bytes=0-{length - 1}",
                                         **({"VersionId": version} if version else {}))
        except OSError:  # a missing key may be a prefix, an empty object refuses any range: let the stat say
            return dict(await fs._info(url)), None
        body = response["Body"]
        try:
            total = _range_total(response.get("ContentRange")) or int(response.get("ContentLength") or 0)
            ignored = response.get("ContentRange") is None and total > length  # the range was: read nothing
            data = None if ignored else bytes(await body.read())
        finally:
            body.close()
        return {"type": "file", "size": total, "ETag": response.get("ETag"),
                "VersionId": response.get("VersionId")}, data
    return dict(await fs._info(url)), None


def _range_total(content_range: str | None) -> int | None:
    """The object's size from a Content-Range answer: "bytes 0-65535/93164" is 93164."""
    if not content_range or "/" not in content_range:
        return None
    total = content_range.rsplit("/", 1)[1].strip()
    return int(total) if total.isdigit() else None


def info(url: str) -> dict[str, Any]:
    """What the store says of the object or prefix (size, type, ETag): FileNotFoundError, PermissionError."""
    return dict(filesystem(url).info(url))


def put_file(local: str, url: str) -> None:
    filesystem(url).put_file(local, url)


def copy(source: str, target: str) -> None:
    filesystem(source).copy(source, target)


def remove(urls: Sequence[str]) -> None:
    if urls:
        filesystem(urls[0]).rm(list(urls))


def listing(url: str) -> list[str]:
    """Every object below the prefix, as URLs, sorted."""
    return _urls(url, filesystem(url).find(url))


def glob(pattern: str) -> list[str]:
    """The objects a URL with wildcards (``*``, ``?``, ``[...]``) names, as URLs, sorted."""
    return _urls(pattern, filesystem(pattern).glob(pattern))


def _urls(asked: str, found: Iterable[str]) -> list[str]:
    """The filesystem's answer to ``asked`` as sorted URLs of its protocol (backends drop the protocol)."""
    protocol = scheme(asked)
    return sorted(f"{protocol}://{path}" if scheme(path) is None else path for path in found)


def exists(url: str) -> bool:
    return bool(filesystem(url).exists(url))


def open_binary(url: str) -> Any:
    return filesystem(url).open(url, "rb")
