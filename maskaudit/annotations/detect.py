"""Recognise annotation files by their content: a COCO file, or SA-1B per-image JSON files."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from maskaudit import storage
from maskaudit.annotations.facts import InputKind
from maskaudit.errors import UsageError
from maskaudit.shards import is_shard_pattern

HEAD_BYTES = 1 << 20  # COCO's images come after info and licenses: a megabyte reaches them


@dataclass(frozen=True)
class Input:
    """What to read: the files, each with the split its name gives; ``origins`` are the URLs local copies were
    made from (none when the files are read where they lie)."""

    kind: InputKind
    files: tuple[tuple[str, str], ...]
    origins: tuple[str, ...] = ()

    @property
    def locations(self) -> tuple[str, ...]:
        """Where each file lies as the user named it."""
        return self.origins or tuple(path for path, _ in self.files)


def split_name(path: str) -> str:
    """``instances_train2017.json`` -> ``train2017``; ``val.json`` -> ``val``."""
    stem = os.path.basename(path)
    stem = stem[:-5] if stem.lower().endswith(".json") else stem
    return re.sub(r"^(instances|annotations|coco)[_-]", "", stem) or stem


def json_kind(path: str) -> InputKind | None:
    """COCO when the top-level object shows images, annotations or categories; SA-1B when it shows image."""
    require_extra()
    import ijson

    try:
        with storage.open_binary(path) if storage.is_remote(path) else open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    keys: set[str] = set()
    try:
        for prefix, event, value in ijson.parse(head):
            if prefix == "" and event == "map_key":
                keys.add(str(value))
            elif prefix == "" and event in ("start_array", "string", "number"):
                return None
    except ijson.JSONError:
        pass  # the head ends inside the document
    if keys & {"images", "categories"} or ("annotations" in keys and "image" not in keys):
        return InputKind.COCO
    if "image" in keys:
        return InputKind.SA1B
    return None


def require_extra() -> None:
    """Annotation files are read with pycocotools and ijson, the ``coco`` extra: without them, say so."""
    missing = [name for name in ("pycocotools", "ijson") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"reading annotation files needs {' and '.join(missing)}: pip install 'maskaudit[coco]'")


def detect(locations: Sequence[str]) -> Input | None:
    """The annotation input the locations name, or None when they are a manifest. Several COCO files make one
    run (one split each); a folder or glob of SA-1B files is one split per folder."""
    files: list[tuple[str, str]] = []
    kinds: set[InputKind] = set()
    for location in locations:
        if storage.is_remote(location) and location.lower().endswith(".json"):
            if json_kind(location) is not InputKind.COCO:
                raise UsageError(f"{location} is not a COCO file (images, annotations, categories); SA-1B files are "
                                 "read from a local folder")
            kinds.add(InputKind.COCO)
            files.append((location, split_name(storage.name(location))))
            continue
        if "://" in location or is_shard_pattern(location):
            return None
        if any(c in location for c in "*?["):
            matched = sorted(p for p in glob.glob(location, recursive=True) if p.lower().endswith(".json"))
            if not matched:
                raise UsageError(f"{location} matches no .json file; check the pattern")
            for path in matched:
                kinds.add(_sa1b(path))
                files.append((path, os.path.basename(os.path.dirname(os.path.abspath(path)))))
        elif os.path.isdir(location):
            found = sorted(p for p in glob.glob(os.path.join(location, "*.json")))
            if not found or json_kind(found[0]) is not InputKind.SA1B:
                return None
            for path in found:
                kinds.add(_sa1b(path))
                files.append((path, os.path.basename(os.path.abspath(location))))
        elif location.lower().endswith(".json") and os.path.isfile(location):
            kind = json_kind(location)
            if kind is None:
                raise UsageError(f"{location} is JSON but neither a COCO file (images, annotations, categories) nor "
                                 "an SA-1B file (image, annotations); manifests are .parquet, .csv or .jsonl")
            kinds.add(kind)
            files.append((location, split_name(location) if kind is InputKind.COCO
                          else os.path.basename(os.path.dirname(os.path.abspath(location)))))
        else:
            return None
    if len(kinds) > 1:
        raise UsageError("the inputs mix COCO and SA-1B files; scan each format in its own run")
    return Input(kinds.pop(), tuple(files)) if kinds else None


def _sa1b(path: str) -> InputKind:
    kind = json_kind(path)
    if kind is not InputKind.SA1B:
        raise UsageError(f"{path} is not an SA-1B file (one image object and its annotations); scan COCO files "
                         "by name, not within a folder")
    return kind
