"""Configuration files: `[tool.maskaudit]` in pyproject.toml, or maskaudit.toml.

Named with --config, or found by walking up from the working directory (never from the manifest: a dataset
does not configure its own audit). Validated key by key against an explicit schema, and merged under the
command-line flags: a flag always wins over the file.

Trust boundary: a discovered file may set every key except code to import. A `pipeline` or `preprocess`
that names Python (module:fn, file.py:fn) is honoured only from a file passed with --config; saved pipeline
files (.json/.yaml, read with safe loaders) and built-in preprocess names are data and allowed anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomllib

from maskaudit.cache import DEFAULT_MAX_BYTES, FactsCache, default_dir
from maskaudit.checks.registry import all_checks, find_check
from maskaudit.errors import UsageError
from maskaudit.findings import Severity
from maskaudit.limits import Limits
from maskaudit.settings import FailOn
from maskaudit.sizes import parse_size
from maskaudit.storage import is_remote, typed

CONFIG_NAMES = ("maskaudit.toml", "pyproject.toml")
COLUMN_KEYS = ("image", "mask", "split", "flag", "group", "id")
CODE_KEYS = ("pipeline", "preprocess")
DATA_SUFFIXES = (".json", ".yaml", ".yml")
CODE_FIX = "code is imported only from --pipeline/--preprocess or a --config you pass"


def names_code(spec: str) -> bool:
    """Whether a pipeline or preprocess spec names Python to import (module:fn, file.py:fn)."""
    return ":" in spec and Path(spec).suffix.lower() not in DATA_SUFFIXES


@dataclass(frozen=True)
class ScanConfig:
    """Every scan option a file may set; None means "not set here"."""

    source: Path | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    root: Path | str | None = None
    """A local folder, or a URL prefix kept as text."""
    labels: str | None = None
    ignore_index: int | None = None
    select: str | None = None
    ignore: str | None = None
    drop: str | None = None
    fail_on: FailOn | None = None
    severities: Mapping[str, Severity] = field(default_factory=dict)
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    baseline: Path | None = None
    workers: int | None = None
    pipeline: str | None = None
    preprocess: str | None = None
    replay_samples: int | None = None
    replay_repeats: int | None = None
    seed: int | None = None
    max_file_bytes: int | None = None
    max_pixels: int | None = None
    keep_paths: bool | None = None
    write_shards: bool | None = None
    examples: int | None = None
    cache: bool | None = None
    cache_dir: Path | None = None
    cache_max_bytes: int | None = None
    storage_options: Mapping[str, Any] | None = None
    io_concurrency: int | None = None
    engine: str | None = None
    scheduler: str | None = None
    discovered: bool = False

    def merged_with(self, **flags: Any) -> ScanConfig:
        """The file's values with every flag that was given (not None) laid over them.

        A discovered file that names code to import is refused here, unless a flag replaces that value.
        """
        known = {f.name for f in fields(self)}
        unknown = set(flags) - known
        if unknown:
            raise TypeError(f"not configuration fields: {sorted(unknown)}")
        given = {k: v for k, v in flags.items() if v is not None}
        if self.discovered:
            for key in CODE_KEYS:
                value = getattr(self, key)
                if key not in given and value is not None and names_code(value):
                    raise ConfigError(f"config {self.source}: {key} = {value!r} names code to import, which a "
                                      f"discovered file may not do; {CODE_FIX}")
        if "columns" in given:
            given["columns"] = {**self.columns, **{k: v for k, v in given["columns"].items() if v is not None}}
        if "severities" in given:
            given["severities"] = {**self.severities, **given["severities"]}
        return replace(self, **given)

    def limits(self) -> Limits:
        defaults = Limits()
        return Limits(
            max_file_bytes=self.max_file_bytes if self.max_file_bytes is not None else defaults.max_file_bytes,
            max_pixels=self.max_pixels if self.max_pixels is not None else defaults.max_pixels,
        )


    def facts_cache(self) -> FactsCache | None:
        """The facts cache the scan uses (on unless `cache = false`); None when it is off."""
        if self.cache is False:
            return None
        return FactsCache(self.cache_dir if self.cache_dir is not None else default_dir(),
                          self.cache_max_bytes if self.cache_max_bytes is not None else DEFAULT_MAX_BYTES)


class ConfigError(UsageError):
    """A configuration file names an unknown key or holds a bad value."""


def find_config(start: Path) -> Path | None:
    """The nearest maskaudit.toml, or pyproject.toml with a [tool.maskaudit] table, walking up from start."""
    folder = start.resolve()
    for candidate in (folder, *folder.parents):
        own = candidate / "maskaudit.toml"
        if own.is_file():
            return own
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and "maskaudit" in _read_toml(pyproject).get("tool", {}):
            return pyproject
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"config {path} cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path} is not valid TOML ({exc}); fix the syntax") from None


def load_config(path: Path) -> ScanConfig:
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("maskaudit")
        if table is None:
            raise ConfigError(f"config {path} has no [tool.maskaudit] table; add one or pass another --config")
        where = "[tool.maskaudit]"
    else:
        table, where = data, "maskaudit.toml"
    return parse_config(table, path, where)


def resolve_config(explicit: Path | None, start: Path | None = None) -> ScanConfig:
    """--config FILE, else the nearest file above start (default: the working directory), else defaults."""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"--config {explicit} does not exist; check the path")
        return load_config(explicit)
    found = find_config(start if start is not None else Path.cwd())
    return replace(load_config(found), discovered=True) if found is not None else ScanConfig()


# --- validation -------------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, source: Path, where: str) -> None:
        self.source = source
        self.where = where
        self.base = source.parent

    def fail(self, key: str, value: Any, allowed: str) -> ConfigError:
        return ConfigError(f"config {self.source}: {key} = {value!r} is not allowed; use {allowed}")

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, value, "a non-empty string")
        return value

    def location(self, key: str, value: Any) -> Path | str:
        """A path as path() reads it, or a URL kept as it is."""
        text = self.text(key, value)
        return text if is_remote(text) else self.path(key, text)

    def options(self, key: str, value: Any) -> dict[str, Any]:
        """A table of storage options: strings, numbers, booleans, nested tables."""
        return {name: self.options(f"{key}.{name}", v) if isinstance(v, Mapping) else typed(v)
                for name, v in self.table(key, value).items()}

    def path(self, key: str, value: Any) -> Path:
        candidate = Path(self.text(key, value)).expanduser()
        return candidate if candidate.is_absolute() else self.base / candidate

    def spec(self, key: str, value: Any) -> str:
        """A pipeline or preprocess spec; a file it names (file.py:name, .json, .yaml) is relative to this file."""
        text = self.text(key, value)
        target, colon, name = text.rpartition(":")
        if colon and target.endswith(".py"):
            return f"{self._near(target)}:{name}"
        if not colon and Path(text).suffix.lower() in (".json", ".yaml", ".yml"):
            return self._near(text)
        return text

    def _near(self, text: str) -> str:
        candidate = Path(text).expanduser()
        return str(candidate if candidate.is_absolute() else self.base / candidate)

    def integer(self, key: str, value: Any, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
            raise self.fail(key, value, "an integer" + (f" >= {minimum}" if minimum is not None else ""))
        return value

    def size(self, key: str, value: Any) -> int:
        parsed = parse_size(value) if isinstance(value, str) else None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            parsed = value
        if parsed is None:
            raise self.fail(key, value, "a positive integer or a size such as \"2GiB\" or \"300M\"")
        return parsed

    def flag(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, value, "true or false")
        return value

    def number(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, value, "a number")
        return float(value)

    def choice(self, key: str, value: Any, allowed: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value.strip().lower() not in allowed:
            raise self.fail(key, value, "one of: " + ", ".join(allowed))
        return value.strip().lower()

    def checks(self, key: str, value: Any) -> str:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise self.fail(key, value, "a list of check names or codes, e.g. [\"empty-mask\", \"M003\"]")
        names = []
        for item in (i.strip() for i in items if i.strip()):
            check = find_check(item)
            if check is None:
                raise self.fail(key, item, "check names or codes listed by `maskaudit checks`")
            names.append(check.name)
        return ",".join(names)

    def labels(self, key: str, value: Any) -> str:
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, list) and value and all(
            isinstance(v, (int, str)) and not isinstance(v, bool) for v in value
        ):
            return ",".join(str(v) for v in value)
        raise self.fail(key, value, "a list such as [0, 1] or [\"background\", \"tumor\"], or \"0=bg,1=tumor\"")

    def table(self, key: str, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, value, "a table")
        return value

    def unknown(self, key: str, allowed: tuple[str, ...] | list[str]) -> ConfigError:
        return ConfigError(f"config {self.source}: unknown key {key!r}; allowed keys: {', '.join(allowed)}")


def _normal(key: str) -> str:
    return key.replace("-", "_")


TOP_LEVEL: dict[str, Callable[[_Reader, str, Any], Any]] = {
    "columns": lambda r, k, v: _columns(r, k, v),
    "root": _Reader.location,
    "labels": _Reader.labels,
    "ignore_index": _Reader.integer,
    "select": _Reader.checks,
    "ignore": _Reader.checks,
    "drop": _Reader.checks,
    "fail_on": lambda r, k, v: FailOn(r.choice(k, v, tuple(f.value for f in FailOn))),
    "checks": lambda r, k, v: _per_check(r, k, v),
    "baseline": _Reader.path,
    "workers": lambda r, k, v: r.integer(k, v, 1),
    "pipeline": _Reader.spec,
    "preprocess": _Reader.spec,
    "replay_samples": lambda r, k, v: r.integer(k, v, 1),
    "replay_repeats": lambda r, k, v: r.integer(k, v, 1),
    "seed": lambda r, k, v: r.integer(k, v, 0),
    "max_file_bytes": _Reader.size,
    "max_pixels": _Reader.size,
    "keep_paths": _Reader.flag,
    "write_shards": _Reader.flag,
    "examples": lambda r, k, v: r.integer(k, v, 0),
    "cache": _Reader.flag,
    "cache_dir": _Reader.path,
    "cache_max_bytes": _Reader.size,
    "storage_options": _Reader.options,
    "io_concurrency": lambda r, k, v: r.integer(k, v, 1),
    "engine": lambda r, k, v: r.choice(k, v, ("local", "dask")),
    "scheduler": _Reader.text,
}


def _columns(reader: _Reader, key: str, value: Any) -> dict[str, str]:
    chosen = {}
    for name, column in reader.table(key, value).items():
        if name not in COLUMN_KEYS:
            raise reader.unknown(f"{key}.{name}", COLUMN_KEYS)
        chosen[name] = reader.text(f"{key}.{name}", column)
    return chosen


def _per_check(reader: _Reader, key: str, value: Any) -> tuple[dict[str, Severity], dict[str, dict[str, float]]]:
    severities: dict[str, Severity] = {}
    thresholds: dict[str, dict[str, float]] = {}
    for name, body in reader.table(key, value).items():
        check = find_check(name)
        if check is None:
            raise reader.unknown(f"{key}.{name}", [c.name for c in all_checks()])
        allowed = ("severity", *check.options)
        for option, setting in reader.table(f"{key}.{name}", body).items():
            dotted = f"{key}.{name}.{option}"
            if _normal(option) == "severity":
                labels = tuple(s.label for s in Severity)
                severities[check.name] = Severity.parse(reader.choice(dotted, setting, labels))
            elif _normal(option) in check.options:
                thresholds.setdefault(check.name, {})[_normal(option)] = reader.number(dotted, setting)
            else:
                raise reader.unknown(dotted, allowed)
    return severities, thresholds


def parse_config(table: Mapping[str, Any], source: Path, where: str = "config") -> ScanConfig:
    """Validate every key of a config table; the first unknown key or bad value raises ConfigError."""
    reader = _Reader(source, where)
    values: dict[str, Any] = {"source": source}
    for raw_key, value in table.items():
        key = _normal(raw_key)
        parse = TOP_LEVEL.get(key)
        if parse is None:
            raise reader.unknown(raw_key, tuple(TOP_LEVEL))
        values[key] = parse(reader, key, value)
    if "checks" in values:
        values["severities"], values["thresholds"] = values.pop("checks")
    return ScanConfig(**values)
