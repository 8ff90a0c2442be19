"""The check registry and its evaluation."""

from maskaudit.checks.base import Check, Family, Stage
from maskaudit.checks.registry import all_checks, find_check

__all__ = ["Check", "Family", "Stage", "all_checks", "find_check"]
