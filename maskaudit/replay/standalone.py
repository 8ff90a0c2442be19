"""`maskaudit replay` without a scan: read only the manifest, decode only the sampled rows."""

from __future__ import annotations

from pathlib import Path

from maskaudit.checks.registry import PIPELINE_CHECKS
from maskaudit.manifest import detect_columns, open_manifest
from maskaudit.partitions import Shard
from maskaudit.replay.run import PreparedReplay, run_replay
from maskaudit.replay.sampling import RowRef
from maskaudit.report import ManifestInfo, Report, checks_ran
from maskaudit.scan import iter_specs
from maskaudit.settings import Settings


def replay_manifest(
    manifest_path: Path, settings: Settings, replay: PreparedReplay, *, root: Path | None = None,
    columns: dict[str, str | None] | None = None,
) -> Report:
    """A report holding only the pipeline findings and the pipeline section."""
    manifest = open_manifest(manifest_path)
    chosen = detect_columns(manifest, columns or {})
    base = root if root is not None else (manifest_path if manifest_path.is_dir() else manifest_path.parent)
    specs = iter_specs(manifest, chosen) if manifest.kind != "shards" else (
        spec for location in manifest.parts
        for spec in Shard(location, chosen.image, chosen.mask, replay.options.limits).specs())
    refs = [RowRef(row, spec.split, spec.image_path, spec.mask_path) for row, spec in enumerate(specs)]
    findings, section = run_replay(refs, base, settings, replay, manifest)
    return Report(
        manifest=ManifestInfo(
            path=str(manifest_path), format=manifest.kind, rows=len(refs), content_hash=manifest.content_hash(),
            columns=chosen.to_dict(), root=str(base),
        ),
        settings=settings.to_dict(),
        rows_kept=len(refs),
        rows_dropped=0,
        ran=checks_ran(settings, pipeline=True, checks=PIPELINE_CHECKS),
        fail_on=settings.fail_on,
        pipeline=section,
    ).with_findings(findings)
