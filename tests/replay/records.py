"""Replay facts built by hand, for checks that judge them without running a pipeline."""

from __future__ import annotations

from typing import Any

from maskaudit.replay.leaf import Leaf
from maskaudit.replay.record import ReplayFacts, TransformFacts

ZSCORED = {"dtype": "float32", "mean": 0.0, "std": 1.0, "min": -3.0, "max": 3.0, "negative_share": 0.5,
           "above_one_share": 0.16, "zero_share": 0.0, "one_share": 0.0, "nan_share": 0.0, "inf_share": 0.0,
           "grid_share": 0.01}


def measures(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "runs": 10, "errors": 0, "error": None, "input": dict(ZSCORED), "output": dict(ZSCORED),
        "mean_shift_std": 0.0, "std_ratio": 1.0, "nonempty_masks": 10, "emptied_masks": 0,
        "new_mask_values": [], "probe_new_values": [], "misaligned": 0, "alignment_checked": 10,
    }
    base.update(changes)
    return base


def facts(name: str, p: float, target: str = "image", interpolation: str | None = None,
          **changes: Any) -> ReplayFacts:
    leaf = Leaf(index=0, step=0, name=name, path="[0]", p=p, effective_p=p, target=target,
                mask_interpolation=interpolation)
    return ReplayFacts(spec="x", kind="import", preprocess="none", samples=1, repeats=1, seed=0,
                       transforms=(TransformFacts(leaf, measures(**changes)),), steps=(),
                       source={"image": ZSCORED}, final={"image": ZSCORED})
