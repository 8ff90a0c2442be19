"""Write a finished audit to disk as one set: staged beside --out, swapped in whole, never over the input."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pyarrow.parquet as pq

from maskaudit import storage
from maskaudit.api import AuditRun
from maskaudit.errors import UsageError
from maskaudit.facts import RowFacts
from maskaudit.facts_columns import FactsStore, facts_schema
from maskaudit.findings_file import FINDINGS_FILE, write_findings
from maskaudit.manifest import OUTPUT_MARKER, ManifestChanged, Relocation, open_manifest, write_filtered
from maskaudit.report import Report
from maskaudit.reporters.html import render_html
from maskaudit.reporters.json_report import render_json
from maskaudit.reporters.junit import render_junit
from maskaudit.reporters.markdown import render_markdown, render_summary
from maskaudit.shards import SHARD_SUFFIXES, output_names, write_filtered_keys, write_kept
from maskaudit.thumbnails import make_thumbnails

SCAN_FILES = {
    "report_json": "report.json", "report_md": "report.md", "report_html": "report.html",
    "report_junit": "report.junit.xml", "facts": "facts.parquet", "findings": FINDINGS_FILE,
}
REPLAY_FILES = {"replay_json": "replay.json", "replay_md": "replay.md"}


def default_out_dir(manifest_path: str | Path) -> Path:
    """<stem>.maskaudit beside a local manifest; for a manifest in a store, in the working directory (nothing is
    written into a bucket unless --out names it)."""
    location = os.fspath(manifest_path)
    if storage.is_remote(location):
        return Path(f"{storage.name(location).split('.')[0]}.maskaudit")
    local = Path(storage.local_path(location))
    stem = local.name.split(".")[0] if local.is_file() else local.name
    return local.parent / f"{stem}.maskaudit"


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Write through a temporary file in the same folder, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda stream: stream.write(text.encode("utf-8")))


class OutputSet:
    """The files of one run, staged in a hidden folder beside --out and swapped in whole by ``commit``.

    From creation to ``close`` it holds an exclusive lock on ``.<name>.lock`` beside --out, so a second run
    writing there stops at once; the kernel drops the lock with the process, so a killed run leaves no stale lock.
    ``close`` without ``commit`` (a failure, an interrupt) removes the staging folder: the previous set stays.
    """

    def __init__(self, out: Path, shown: Path | str, lock: int, lock_path: Path, manifest_hash: str,
                 remote: str | None = None) -> None:
        self.out = out
        self.shown = shown
        self.remote = remote
        """The --out URL when the set goes to a store: staged locally, committed by upload_set()."""
        self.manifest_hash = manifest_hash
        self._lock: int | None = lock
        self._lock_path = lock_path
        self.staging: Path | None = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        os.chmod(self.staging, 0o777 & ~_umask())  # mkdtemp's 0700 would become the final folder's mode

    def staged(self, name: str) -> Path:
        """Where to write the file ``name`` now."""
        assert self.staging is not None, "the set was already committed or closed"
        return self.staging / name

    def final(self, name: str) -> Path | str:
        """Where the file ``name`` is once the set is committed, as the user named --out."""
        return f"{self.remote.rstrip('/')}/{name}" if self.remote is not None else Path(self.shown) / name

    def commit(self, carry: Iterable[str] = ()) -> None:
        """Swap the staged set in for the previous one; the previous set's files named in ``carry`` (another
        command's outputs) are kept in the new set."""
        staging = self.staging
        assert staging is not None, "the set was already committed or closed"
        if self.remote is not None:
            upload_set(staging, self.remote)
            return
        for name in carry:
            previous = self.out / name
            if previous.is_file() and not (staging / name).exists():
                shutil.copy2(previous, staging / name)
        (staging / OUTPUT_MARKER).write_text("maskaudit writes this folder; each run replaces it whole.\n")
        _fsync(staging)
        retired = self.out.parent / f".{self.out.name}.old-{secrets.token_hex(4)}"
        moved = False
        nested = self._nested_outputs(staging)
        try:
            for name in nested:  # a scan of the filtered manifest wrote its own set inside this one: keep it
                os.rename(self.out / name, staging / name)
            if self.out.exists():
                os.rename(self.out, retired)
                moved = True
            os.rename(staging, self.out)
            self.staging = None
        except BaseException:
            if moved and not self.out.exists():
                os.rename(retired, self.out)
            for name in nested:
                if (staging / name).exists() and not (self.out / name).exists():
                    os.rename(staging / name, self.out / name)
            raise
        _fsync(self.out.parent)
        if moved:
            shutil.rmtree(retired, ignore_errors=True)

    def _nested_outputs(self, staging: Path) -> list[str]:
        """Output folders of other scans inside the previous set (``filtered.maskaudit/``)."""
        if not self.out.is_dir():
            return []
        return [entry.name for entry in self.out.iterdir()
                if entry.name.endswith(".maskaudit") and entry.is_dir() and not entry.is_symlink()
                and (entry / OUTPUT_MARKER).is_file() and not (staging / entry.name).exists()]

    def close(self) -> None:
        """Remove what was not committed and release the lock; safe to call twice."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        if self._lock is not None:
            self._lock_path.unlink(missing_ok=True)
            os.close(self._lock)
            self._lock = None

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def _fsync(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def upload_set(staging: Path, url: str) -> None:
    """Upload the staged files to a temporary prefix, then copy each into place under --out; the marker object
    is removed first and written last, and the temporary prefix is removed whatever happens. Each object
    appears whole or not at all (a store's writes are atomic per object); a set is complete when its marker is
    there."""
    base = url.rstrip("/")
    temporary = f"{base}/.maskaudit-tmp-{secrets.token_hex(4)}"
    names = sorted(p.name for p in staging.iterdir() if p.is_file() and p.name != OUTPUT_MARKER)
    try:
        for name in names:
            storage.put_file(str(staging / name), f"{temporary}/{name}")
        if storage.exists(f"{base}/{OUTPUT_MARKER}"):
            storage.remove([f"{base}/{OUTPUT_MARKER}"])
        for name in names:
            storage.copy(f"{temporary}/{name}", f"{base}/{name}")
        marker = staging / OUTPUT_MARKER
        marker.write_text("maskaudit writes this prefix; each run replaces its objects, this one last.\n")
        storage.put_file(str(marker), f"{base}/{OUTPUT_MARKER}")
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot write to {url} ({_first_line(exc)}); check the credentials or choose another "
                         "--out") from None
    finally:
        with contextlib.suppress(OSError, ValueError):
            storage.remove([f"{temporary}/{name}" for name in names if storage.exists(f"{temporary}/{name}")])


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def prepare_output(out: Path | str, manifest_path: Path | str, content_hash: str | None = None) -> OutputSet:
    """Check --out before the scan, lock it and stage a folder beside it; every refusal is a usage error now,
    not after an hour of scanning. A --out URL is staged in a local temporary folder; its lock guards only
    against runs on this machine. ``content_hash`` is the input's when it is not a manifest (an annotation
    file)."""
    if storage.is_remote(os.fspath(out)) or storage.is_remote(os.fspath(manifest_path)):
        return _prepare_remote(os.fspath(out), os.fspath(manifest_path), content_hash)
    out, manifest_path = Path(out), Path(manifest_path)
    target = Path(os.path.abspath(out))
    if target.exists() and not target.is_dir():
        raise UsageError(f"--out {out} is a file; name a folder (maskaudit writes several files into it)")
    manifest = manifest_path.resolve()
    resolved = target.resolve()
    if manifest.is_dir() and (resolved == manifest or manifest in resolved.parents):
        raise UsageError(f"--out {out} is inside the manifest folder {manifest_path}; its outputs would be read "
                         "as parts of the manifest: choose a folder outside it")
    if resolved == manifest.parent or resolved in manifest.parents:
        raise UsageError(f"--out {out} holds the manifest {manifest_path}; choose another --out")
    if target.is_dir() and not (target / OUTPUT_MARKER).exists() and any(target.iterdir()):
        raise UsageError(f"--out {out} holds files maskaudit did not write; choose an empty or new folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        lock_path, lock = _lock(target)
    except OSError as exc:
        raise UsageError(f"cannot write to {target.parent} ({exc.strerror or exc}); choose another --out") from None
    try:
        manifest_hash = content_hash if content_hash is not None else open_manifest(manifest_path).content_hash()
        return OutputSet(target, out, lock, lock_path, manifest_hash)
    except OSError as exc:
        _unlock(lock_path, lock)
        raise UsageError(f"cannot write to {target.parent} ({exc.strerror or exc}); choose another --out") from None
    except BaseException:
        _unlock(lock_path, lock)
        raise


def _prepare_remote(out: str, manifest_path: str, content_hash: str | None = None) -> OutputSet:
    remote = out if storage.is_remote(out) else None
    if remote is None:
        return prepare_output_local(Path(out), manifest_path, content_hash)
    storage.require(remote)
    base = remote.rstrip("/")
    manifest = storage.normalise(manifest_path) if storage.is_remote(manifest_path) else None
    if manifest is not None and storage.within(manifest, base):
        raise UsageError(f"--out {out} holds the manifest {manifest_path}; choose another --out")
    try:
        if storage.listing(base) and not storage.exists(f"{base}/{OUTPUT_MARKER}"):
            raise UsageError(f"--out {out} holds objects maskaudit did not write; choose an empty or new prefix")
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot reach --out {out} ({_first_line(exc)}); check the credentials") from None
    folder = Path(tempfile.gettempdir()) / f"maskaudit-{secrets.token_hex(8)}"
    folder.mkdir()
    target = folder / "out"
    lock_path, lock = _lock(target)
    try:
        from maskaudit.manifest import open_manifest as opened

        manifest_hash = content_hash if content_hash is not None else opened(manifest_path).content_hash()
        return OutputSet(target, remote, lock, lock_path, manifest_hash, remote=remote)
    except BaseException:
        _unlock(lock_path, lock)
        raise


def prepare_output_local(out: Path, manifest_location: str, content_hash: str | None = None) -> OutputSet:
    """A local --out for a manifest in a store: nothing of the manifest is on this disk to protect."""
    target = Path(os.path.abspath(out))
    if target.exists() and not target.is_dir():
        raise UsageError(f"--out {out} is a file; name a folder (maskaudit writes several files into it)")
    if target.is_dir() and not (target / OUTPUT_MARKER).exists() and any(target.iterdir()):
        raise UsageError(f"--out {out} holds files maskaudit did not write; choose an empty or new folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path, lock = _lock(target)
    try:
        manifest_hash = content_hash if content_hash is not None else open_manifest(manifest_location).content_hash()
        return OutputSet(target, out, lock, lock_path, manifest_hash)
    except BaseException:
        _unlock(lock_path, lock)
        raise


def _lock(target: Path) -> tuple[Path, int]:
    path = target.parent / f".{target.name}.lock"
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise UsageError(
                f"another maskaudit run is writing to {target}; wait for it or choose another --out"
            ) from None
        except BaseException:
            os.close(descriptor)
            raise
        # The previous holder removes the lock file as it lets go: a lock on that removed file guards nothing.
        try:
            current = os.stat(path)
        except FileNotFoundError:
            os.close(descriptor)
            continue
        held = os.fstat(descriptor)
        if (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
            return path, descriptor
        os.close(descriptor)


def _unlock(path: Path, descriptor: int) -> None:
    path.unlink(missing_ok=True)
    os.close(descriptor)


def _write_file(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    with path.open("wb") as stream:
        write(stream)
        stream.flush()
        os.fsync(stream.fileno())


def _write_text(path: Path, text: str) -> None:
    _write_file(path, lambda stream: stream.write(text.encode("utf-8")))


def write_text_set(output: OutputSet, files: dict[str, tuple[str, str]]) -> dict[str, Path | str]:
    """Write rendered texts (key -> (file name, text)) and commit them with the previous set's other files (a
    replay adds replay.json and replay.md beside a scan's outputs); the final paths by key."""
    for name, text in files.values():
        _write_text(output.staged(name), text)
    previous = [p.name for p in output.out.iterdir()] if output.out.is_dir() else []
    output.commit(carry=[name for name in previous if name != OUTPUT_MARKER])
    return {key: output.final(name) for key, (name, _) in files.items()}


def write_facts(facts: FactsStore, stream: IO[bytes]) -> None:
    """The facts of every row, batch by batch."""
    with pq.ParquetWriter(stream, facts_schema(), compression="zstd") as writer:
        for batch in facts.batches(facts_schema().names):
            writer.write_batch(batch)


def _example_rows(run: AuditRun) -> list[RowFacts]:
    """The facts of the rows the report's examples name, read back."""
    return list(run.facts.rows(f.row for f in run.report.examples if f.row is not None).values())


def _identities(facts: FactsStore) -> Iterator[tuple[int, str | None]]:
    for batch in facts.batches(["row", "row_id"]):
        yield from zip(batch.column("row").to_pylist(), batch.column("row_id").to_pylist(), strict=True)


def write_outputs(run: AuditRun, output: OutputSet, keep_paths: bool = False, write_shards: bool = False
                  ) -> tuple[Report, dict[str, Path | str]]:
    """Write every output into the staged set and commit it; the report returned (and written) lists the final
    paths. A manifest that changed since the scan read it is a usage error and the previous set stays. With
    ``write_shards``, a shard dataset's kept samples are also written as new shards of the same names."""
    names = {**SCAN_FILES, "filtered_manifest": f"filtered.{run.manifest.extension}"}
    copies = output_names(run.manifest.path) if write_shards else {}
    if copies:
        suffixes = {next(s for s in SHARD_SUFFIXES if name.lower().endswith(s)) for name in copies}
        names["filtered_shards"] = f"*{suffixes.pop()}" if len(suffixes) == 1 else "*.t*"
    report = replace(run.report, outputs={key: str(output.final(name)) for key, name in names.items()},
                     thumbnails={**make_thumbnails(_example_rows(run), run.report.examples,
                                                     run.report.manifest.root, limits=run.limits,
                                                     manifest=run.manifest),
                                 **run.replay_thumbnails})
    keep = run.kept()
    relocation = None if keep_paths else Relocation.between(
        (run.columns.image, run.columns.mask), run.report.manifest.root, output.remote or output.out)
    kept = 0

    def filtered(stream: IO[bytes]) -> None:
        nonlocal kept
        if run.manifest.kind == "shards":
            kept = write_filtered_keys(_identities(run.facts), keep, stream)
        else:
            kept = write_filtered(run.manifest, keep, stream, relocation)

    _write_file(output.staged(names["filtered_manifest"]), filtered)
    if kept != report.rows_kept or output.manifest_hash != report.manifest.content_hash \
            or output.manifest_hash != run.manifest.content_hash():
        raise ManifestChanged(report.manifest.path)
    if run.facts.source != output.staged(names["facts"]):  # the scan writes them there as it goes
        _write_file(output.staged(names["facts"]), lambda stream: write_facts(run.facts, stream))
    if run.findings_file != output.staged(names["findings"]):  # the scan writes them there as it goes
        _write_file(output.staged(names["findings"]), lambda stream: write_findings(run.iter_findings(), stream))
    if copies:
        dropped = frozenset(identity for row, identity in _identities(run.facts)
                            if not keep[row] and identity is not None)
        for name, shard in copies.items():
            staged = output.staged(name)
            _write_file(staged, functools.partial(write_kept, shard, dropped, spool_folder=staged.parent))
    _write_text(output.staged(names["report_md"]), render_markdown(report))
    _write_text(output.staged(names["report_html"]), render_html(report))
    _write_text(output.staged(names["report_junit"]), render_junit(report))
    _write_text(output.staged(names["report_json"]), render_json(report))
    output.commit(carry=REPLAY_FILES.values())
    return report, {key: output.final(name) for key, name in names.items()}


def append_step_summary(report: Report) -> None:
    """In a GitHub Actions step, add the Markdown summary to the job's summary page."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as stream:
            stream.write("\n".join(["## maskaudit", "", *render_summary(report)]) + "\n\n")
    except OSError as exc:
        raise UsageError(f"cannot append to GITHUB_STEP_SUMMARY {target} ({exc.strerror or exc})") from None
