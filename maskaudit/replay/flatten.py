"""Static analysis: nested Compose/OneOf/SomeOf/Sequential flattened into leaves with effective probabilities."""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from typing import Any

import albumentations as A
import cv2

from maskaudit.replay.leaf import Leaf

INTERPOLATIONS = {
    cv2.INTER_NEAREST: "nearest", cv2.INTER_LINEAR: "linear", cv2.INTER_CUBIC: "cubic",
    cv2.INTER_AREA: "area", cv2.INTER_LANCZOS4: "lanczos4", cv2.INTER_NEAREST_EXACT: "nearest-exact",
    cv2.INTER_LINEAR_EXACT: "linear-exact",
}
def flatten(compose: A.Compose, lost_lambdas: tuple[str, ...] = ()) -> list[tuple[Leaf, A.BasicTransform]]:
    """Every leaf transform in call order, each with its effective probability and top-level step."""
    leaves: list[tuple[Leaf, A.BasicTransform]] = []
    root_p = float(compose.p)
    for step, child in enumerate(compose.transforms):
        for path, probability, transform in _walk(child, root_p, f"[{step}]"):
            leaves.append((_describe(len(leaves), step, path, probability, transform, lost_lambdas), transform))
    return leaves


def inclusion(container: A.BaseCompose, position: int) -> float:
    """The chance that a reached container hands control to its child at `position`."""
    children = container.transforms
    if isinstance(container, A.OneOf):
        weights = [float(t.p) for t in children]
        total = sum(weights)
        return weights[position] / total if total > 0 else 0.0
    if isinstance(container, A.OneOrOther):
        if len(children) == 1:
            return 1.0
        first = float(container.p)
        return first if position == 0 else (1.0 - first if position == len(children) - 1 else 0.0)
    if isinstance(container, A.SomeOf):
        count, picks = len(children), int(container.n)
        if getattr(container, "replace", False):
            return 1.0 - (1.0 - 1.0 / count) ** picks
        return min(1.0, picks / count)
    return 1.0


def _walk(
    node: A.BasicTransform | A.BaseCompose, parent: float, path: str, forced: bool = False
) -> Iterator[tuple[str, float, A.BasicTransform]]:
    """OneOf and OneOrOther apply their chosen child forced: its own p is skipped, except by SomeOf,
    which draws against its p even when forced, and OneOrOther, whose p only picks a side."""
    honours_force = not isinstance(node, A.SomeOf)
    own = 1.0 if (forced and honours_force) or isinstance(node, A.OneOrOther) else float(node.p)
    if not isinstance(node, A.BaseCompose):
        yield path, parent * own, node
        return
    reached = parent * own
    label = f"{path}{type(node).__name__}"
    chooses = isinstance(node, A.OneOf | A.OneOrOther)
    for position, child in enumerate(node.transforms):
        yield from _walk(child, reached * inclusion(node, position), f"{label}[{position}]", forced=chooses)


def _describe(
    index: int, step: int, path: str, probability: float, transform: A.BasicTransform, lost: tuple[str, ...]
) -> Leaf:
    name = type(transform).__name__
    try:
        raw = transform.get_transform_init_args()
    except Exception:  # a transform without serialisable arguments still gets replayed
        raw = {}
    args = {key: _plain(value) for key, value in sorted(raw.items())}
    interpolation = raw.get("mask_interpolation") if isinstance(transform, A.DualTransform) else None
    source, lambda_lost = None, False
    if isinstance(transform, A.Lambda):
        lambda_lost = transform.name is not None and transform.name in lost
        source = None if lambda_lost else _lambda_source(transform)
    return Leaf(
        index=index, step=step, name=name, path=path, p=float(transform.p),
        effective_p=max(0.0, min(1.0, probability)),
        target="image" if isinstance(transform, A.ImageOnlyTransform) else
        ("dual" if isinstance(transform, A.DualTransform) else "other"),
        args=args, lambda_source=source, lambda_lost=lambda_lost,
        ignored_args=tuple(sorted(getattr(transform, "invalid_args", None) or ())),
        mask_interpolation=INTERPOLATIONS.get(int(interpolation), str(interpolation))
        if isinstance(interpolation, int) else None,
    )


def _lambda_source(transform: A.Lambda) -> str:
    parts = []
    for key, fn in sorted(transform.custom_apply_fns.items()):
        if getattr(fn, "__name__", "") == "noop":
            continue
        try:
            text = inspect.getsource(fn).strip()
        except (OSError, TypeError):
            text = repr(fn)
        parts.append(f"{key}: {text}")
    return "\n".join(parts) or "(no functions)"


def _plain(value: Any) -> Any:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if hasattr(value, "item"):
        return _plain(value.item()) if getattr(value, "size", 1) == 1 else _plain(value.tolist())
    return repr(value)
