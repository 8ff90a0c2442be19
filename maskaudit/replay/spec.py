"""Load the training pipeline named by --pipeline: an albumentations file, or an import path to user code."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import albumentations as A
import yaml

from maskaudit.errors import UsageError

FILE_FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


@dataclass(frozen=True)
class LoadedPipeline:
    spec: str
    kind: str
    compose: A.Compose
    lost_lambdas: tuple[str, ...] = ()

    @property
    def notes(self) -> list[str]:
        return [
            f"Lambda {name!r}: the file keeps only its name (serialization drops its function and its p); "
            f"it is replayed as a no-op. Pass the import path (module:factory) to replay it faithfully."
            for name in self.lost_lambdas
        ]


def load_pipeline(spec: str) -> LoadedPipeline:
    """A Compose from a saved file or an import path; a spec that cannot be loaded is a UsageError."""
    suffix = Path(spec).suffix.lower()
    if suffix in FILE_FORMATS and Path(spec).is_file():
        return _load_file(spec, FILE_FORMATS[suffix])
    if ":" in spec:
        return _load_import(spec)
    if suffix in FILE_FORMATS:
        raise UsageError(f"--pipeline {spec}: file does not exist")
    raise UsageError(f"--pipeline {spec}: give a .json/.yaml file saved with A.save, or module:name / file.py:name")


def _load_file(spec: str, data_format: str) -> LoadedPipeline:
    try:
        text = Path(spec).read_text(encoding="utf-8")
        raw = json.loads(text) if data_format == "json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise UsageError(f"--pipeline {spec}: cannot read {data_format} ({_one_line(exc)})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("transform"), dict):
        raise UsageError(f"--pipeline {spec}: not an albumentations file (no 'transform' entry)")
    names = tuple(dict.fromkeys(_lambda_names(raw["transform"])))
    stand_ins = {name: A.Lambda(name=name) for name in names}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = A.load(spec, data_format=data_format, nonserializable=stand_ins)  # type: ignore[arg-type]
    except Exception as exc:  # albumentations raises many kinds on a bad file
        raise UsageError(f"--pipeline {spec}: albumentations cannot load it ({_one_line(exc)})") from None
    return LoadedPipeline(spec, "file", _as_compose(spec, loaded), names)


def _lambda_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if str(node.get("__class_fullname__", "")).split(".")[-1] == "Lambda":
            yield str(node.get("__name__") or node.get("name") or "")
        for value in node.values():
            yield from _lambda_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _lambda_names(item)


def _load_import(spec: str) -> LoadedPipeline:
    location, _, name = spec.rpartition(":")
    if not location or not name:
        raise UsageError(f"--pipeline {spec}: an import path needs module:name or file.py:name")
    module = import_location(f"--pipeline {spec}", location)
    if not hasattr(module, name):
        raise UsageError(f"--pipeline {spec}: {location} has no attribute {name!r}")
    target = getattr(module, name)
    if not isinstance(target, A.BaseCompose | A.BasicTransform):
        if not callable(target):
            raise UsageError(f"--pipeline {spec}: {name} is neither a Compose nor a callable returning one")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                target = target()
        except Exception as exc:  # user code may raise anything
            raise UsageError(f"--pipeline {spec}: calling {name}() raised {_one_line(exc)}") from None
    return LoadedPipeline(spec, "import", _as_compose(spec, target))


def import_location(option: str, location: str) -> Any:
    """Import a dotted module or a .py file; user code runs only when an option names it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if location.endswith(".py"):
                return _import_file(option, location)
            return importlib.import_module(location)
    except UsageError:
        raise
    except Exception as exc:  # user code may raise anything on import
        raise UsageError(f"{option}: cannot import {location} ({_one_line(exc)})") from None


# A file named by --pipeline and --preprocess alike, or by two runs in one process, is imported once,
# as `import` does for a dotted module; a file changed on disk since is imported again.
_FILE_MODULES: dict[Path, tuple[tuple[int, int], ModuleType]] = {}


def _import_file(option: str, location: str) -> ModuleType:
    path = Path(location)
    if not path.is_file():
        raise UsageError(f"{option}: file {location} does not exist")
    key = path.resolve()
    status = key.stat()
    stamp = (status.st_mtime_ns, status.st_size)
    known = _FILE_MODULES.get(key)
    if known is not None and known[0] == stamp:
        return known[1]
    module_name = f"maskaudit_user_{path.stem}"
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise UsageError(f"{option}: cannot import {location}")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    loader_spec.loader.exec_module(module)
    _FILE_MODULES[key] = (stamp, module)
    return module


def _as_compose(spec: str, target: Any) -> A.Compose:
    if isinstance(target, A.Compose):
        return target
    if isinstance(target, A.BaseCompose | A.BasicTransform):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return A.Compose([target])
    raise UsageError(f"--pipeline {spec}: got {type(target).__name__}, not an albumentations Compose")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
