import json
import math
from typing import Any

from maskaudit.report import Report


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


OPEN_LEVELS = 2  # the report's sections and their entries each on their own lines; an entry's own parts on its line


def render_json(report: Report) -> str:
    """The full report as stable, strict JSON (NaN and Inf become null): its sections and their entries (a
    finding, a split, a setting) indented a line each, every entry written whole on its line by the C encoder."""
    return _indented(_clean(report.to_dict()), 0) + "\n"


def _indented(value: Any, level: int) -> str:
    if level < OPEN_LEVELS and isinstance(value, (dict, list)) and value:
        pad = "  " * (level + 1)
        if isinstance(value, dict):
            parts = [f"{pad}{json.dumps(key)}: {_indented(item, level + 1)}" for key, item in value.items()]
            opening, closing = "{", "}"
        else:
            parts = [f"{pad}{_indented(item, level + 1)}" for item in value]
            opening, closing = "[", "]"
        return opening + "\n" + ",\n".join(parts) + "\n" + "  " * level + closing
    return json.dumps(value, allow_nan=False, separators=(", ", ": "))
