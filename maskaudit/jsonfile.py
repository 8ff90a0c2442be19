"""Read a JSON file the user named; every way it can fail is a one-line usage error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from maskaudit.errors import UsageError


def read_json(path: Path, what: str, remedy: str) -> Any:
    """The parsed file; ``what`` names it ("baseline", "report") and ``remedy`` says how to get a good one."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{what} {path} does not exist; {remedy}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{what} {path} is not readable JSON ({exc}); {remedy}") from None
