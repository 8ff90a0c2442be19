"""Write a finished audit to disk as one set: staged beside --out, swapped in whole, never over the input."""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pyarrow.parquet as pq

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
from maskaudit.thumbnails import make_thumbnails

SCAN_FILES = {
    "report_json": "report.json", "report_md": "report.md", "report_html": "report.html",
    "report_junit": "report.junit.xml", "facts": "facts.parquet", "findings": FINDINGS_FILE,
}
REPLAY_FILES = {"replay_json": "replay.json", "replay_md": "replay.md"}


def default_out_dir(manifest_path: Path) -> Path:
    stem = manifest_path.name.split(".")[0] if manifest_path.is_file() else manifest_path.name
    return manifest_path.parent / f"{stem}.maskaudit"


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

    def __init__(self, out: Path, shown: Path, lock: int, lock_path: Path, manifest_hash: str) -> None:
        self.out = out
        self.shown = shown
        self.manifest_hash = manifest_hash
        self._lock: int | None = lock
        self._lock_path = lock_path
        self.staging: Path | None = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        os.chmod(self.staging, 0o777 & ~_umask())  # mkdtemp's 0700 would become the final folder's mode

    def staged(self, name: str) -> Path:
        """Where to write the file ``name`` now."""
        assert self.staging is not None, "the set was already committed or closed"
        return self.staging / name

    def final(self, name: str) -> Path:
        """Where the file ``name`` is once the set is committed, as the user named --out."""
        return self.shown / name

    def commit(self, carry: Iterable[str] = ()) -> None:
        """Swap the staged set in for the previous one; the previous set's files named in ``carry`` (another
        command's outputs) are kept in the new set."""
        staging = self.staging
        assert staging is not None, "the set was already committed or closed"
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


def prepare_output(out: Path, manifest_path: Path) -> OutputSet:
    """Check --out before the scan, lock it and stage a folder beside it; every refusal is a usage error now,
    not after an hour of scanning."""
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
        manifest_hash = open_manifest(manifest_path).content_hash()
        return OutputSet(target, out, lock, lock_path, manifest_hash)
    except OSError as exc:
        _unlock(lock_path, lock)
        raise UsageError(f"cannot write to {target.parent} ({exc.strerror or exc}); choose another --out") from None
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


def write_text_set(output: OutputSet, files: dict[str, tuple[str, str]]) -> dict[str, Path]:
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


def write_outputs(run: AuditRun, output: OutputSet, keep_paths: bool = False) -> tuple[Report, dict[str, Path]]:
    """Write every output into the staged set and commit it; the report returned (and written) lists the final
    paths. A manifest that changed since the scan read it is a usage error and the previous set stays."""
    names = {**SCAN_FILES, "filtered_manifest": f"filtered.{run.manifest.extension}"}
    report = replace(run.report, outputs={key: str(output.final(name)) for key, name in names.items()},
                     thumbnails={**make_thumbnails(_example_rows(run), run.report.examples,
                                                     Path(run.report.manifest.root), limits=run.limits),
                                 **run.replay_thumbnails})
    keep = [row not in run.dropped for row in range(run.rows)]
    relocation = None if keep_paths else Relocation.between(
        (run.columns.image, run.columns.mask), Path(run.report.manifest.root), output.out)
    kept = 0

    def filtered(stream: IO[bytes]) -> None:
        nonlocal kept
        kept = write_filtered(run.manifest, keep, stream, relocation)

    _write_file(output.staged(names["filtered_manifest"]), filtered)
    if kept != report.rows_kept or output.manifest_hash != report.manifest.content_hash \
            or output.manifest_hash != run.manifest.content_hash():
        raise ManifestChanged(Path(report.manifest.path))
    if run.facts.source != output.staged(names["facts"]):  # the scan writes them there as it goes
        _write_file(output.staged(names["facts"]), lambda stream: write_facts(run.facts, stream))
    _write_file(output.staged(names["findings"]), lambda stream: write_findings(run.findings, stream))
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
