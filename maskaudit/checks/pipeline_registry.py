"""Checks of the augmentation replay; they judge replay measurements, not row facts."""

from __future__ import annotations

from maskaudit.checks.base import Check

PIPELINE_CHECKS: tuple[Check, ...] = ()
