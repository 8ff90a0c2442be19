"""Replay facts built by hand, for checks that judge them without running a pipeline."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from maskaudit.replay.facts import ReplayFacts, TransformFacts, ValueSummary
from maskaudit.replay.leaf import Leaf

ZSCORED = ValueSummary(dtypes=("float32",), values=1000, finite=1000, mean=0.0, std=1.0, minimum=-3.0, maximum=3.0,
                       negative_share=0.5, above_one_share=0.16, grid_share=0.01)


def shifted(mean_shift_std: float, std_ratio: float = 1.0) -> ValueSummary:
    """z-scored values whose mean moved by ``mean_shift_std`` and whose std was scaled by ``std_ratio``."""
    return replace(ZSCORED, mean=ZSCORED.mean + mean_shift_std * ZSCORED.std, std=ZSCORED.std * std_ratio)


def facts(name: str, p: float, target: str = "image", interpolation: str | None = None, *,
          image_in: ValueSummary = ZSCORED, image_out: ValueSummary = ZSCORED, **changes: Any) -> ReplayFacts:
    """One transform measured on 10 runs of z-scored data, no mask changed unless ``changes`` say so."""
    leaf = Leaf(index=0, step=0, name=name, path="[0]", p=p, effective_p=p, target=target,
                mask_interpolation=interpolation)
    transform = TransformFacts(leaf, runs=10, errors=0, error=None, image_in=image_in, image_out=image_out,
                               nonempty_masks=10, alignment_checked=10)
    return ReplayFacts(spec="x", kind="import", preprocess="none", samples=1, repeats=1, seed=0,
                       transforms=(replace(transform, **changes),), source_image=ZSCORED, final_image=ZSCORED)
