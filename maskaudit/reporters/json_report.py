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


def render_json(report: Report) -> str:
    """The full report as stable, strict JSON (NaN and Inf become null)."""
    return json.dumps(_clean(report.to_dict()), indent=2, sort_keys=False, allow_nan=False) + "\n"
