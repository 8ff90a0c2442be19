"""Annotation files in a store (s3://, gs://, ...): copied once to a local temporary file, then read like a
local one. The reader maps files and the filtered file is cut from the input's bytes: both need a file, and a
copy on disk costs no memory."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from maskaudit import storage
from maskaudit.annotations.detect import Input
from maskaudit.errors import UsageError

CHUNK = 1 << 20


@contextmanager
def local_copies(given: Input) -> Iterator[Input]:
    """The input with each remote file replaced by a local copy (removed on exit), its URL kept as its origin."""
    if not any(storage.is_remote(path) for path, _ in given.files):
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="maskaudit-annotations-") as folder:
        files = []
        for number, (path, split) in enumerate(given.files):
            if storage.is_remote(path):
                local = os.path.join(folder, str(number), storage.name(path))
                os.makedirs(os.path.dirname(local))
                _download(path, local)
                path = local
            files.append((path, split))
        yield replace(given, files=tuple(files), origins=given.locations)


def _download(url: str, local: str) -> None:
    try:
        with storage.open_binary(url) as remote, open(local, "wb") as copy:
            shutil.copyfileobj(remote, copy, CHUNK)
    except FileNotFoundError:
        raise UsageError(f"{url} does not exist; check the URL") from None
    except PermissionError:
        raise UsageError(f"{url} cannot be read with these credentials; check them or the storage options") from None
    except OSError as exc:
        raise UsageError(f"cannot read {url} ({exc.strerror or exc})") from None
