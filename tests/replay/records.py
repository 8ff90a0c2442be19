"""Replay facts built by hand, for checks that judge them without running a pipeline."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from maskaudit.replay.facts import ReplayFacts, TransformFacts, ValueSummary, shift_and_ratio
from maskaudit.replay.leaf import Leaf

ZSCORED = ValueSummary(dtypes=("float32",), mean=0.0, std=1.0, minimum=-3.0, maximum=3.0,
                       negative_share=0.5, above_one_share=0.16, grid_share=0.01)


def shifted(mean_shift_std: float, std_ratio: float = 1.0) -> ValueSummary:
    """z-scored values whose mean moved by ``mean_shift_std`` and whose std was scaled by ``std_ratio``."""
    return replace(ZSCORED, mean=ZSCORED.mean + mean_shift_std * ZSCORED.std, std=ZSCORED.std * std_ratio)


def transform(name: str, p: float, target: str = "image", interpolation: str | None = None, *, index: int = 0,
              image_in: ValueSummary = ZSCORED, image_out: ValueSummary = ZSCORED, **changes: Any) -> TransformFacts:
    """One transform measured on 10 runs of z-scored data, no mask changed unless ``changes`` say so."""
    leaf = Leaf(index=index, step=index, name=name, path=f"[{index}]", p=p, effective_p=p, target=target,
                mask_interpolation=interpolation)
    shift, ratio = shift_and_ratio(image_in, image_out)
    measured = TransformFacts(leaf, runs=10, errors=0, error=None, image_in=image_in, image_out=image_out,
                              mean_shift_std=shift, std_ratio=ratio, nonempty_masks=10, alignment_checked=10)
    return replace(measured, **changes)


def replayed(*transforms: TransformFacts) -> ReplayFacts:
    return ReplayFacts(spec="x", kind="import", preprocess="none", samples=1, repeats=1, seed=0,
                       transforms=transforms, source_image=ZSCORED, final_image=ZSCORED)


def facts(name: str, p: float, target: str = "image", interpolation: str | None = None, **changes: Any) -> ReplayFacts:
    """A replay of one transform (see ``transform``)."""
    return replayed(transform(name, p, target, interpolation, **changes))
