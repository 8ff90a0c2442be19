"""One flattened transform, as the replay facts record it: plain data, no albumentations import."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NEAREST = {"nearest", "nearest-exact"}
RESCALING = {"Normalize", "ToFloat", "FromFloat", "ToTensorV2"}


@dataclass(frozen=True)
class Leaf:
    """One transform as the pipeline runs it: where it sits and how often it fires."""

    index: int
    step: int
    name: str
    path: str
    p: float
    effective_p: float
    target: str
    args: dict[str, Any] = field(default_factory=dict)
    lambda_source: str | None = None
    lambda_lost: bool = False
    ignored_args: tuple[str, ...] = ()
    mask_interpolation: str | None = None

    @property
    def always(self) -> bool:
        return self.effective_p >= 1.0 - 1e-9

    @property
    def label(self) -> str:
        return f"{self.index}:{self.name}"

    @property
    def rescales(self) -> bool:
        """Transforms whose purpose is to change the value range; a shift there is intended."""
        return self.name in RESCALING

    @property
    def spatial(self) -> bool:
        """Transforms that move pixels (DualTransforms); a Lambda can do anything, so it is not one of them."""
        return self.target == "dual" and self.name != "Lambda"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "name": self.name, "step": self.step, "path": self.path, "p": self.p,
            "effective_p": round(self.effective_p, 6), "always": self.always, "target": self.target,
            "args": self.args, "lambda_source": self.lambda_source, "lambda_lost": self.lambda_lost,
            "ignored_args": list(self.ignored_args), "mask_interpolation": self.mask_interpolation,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Leaf:
        interpolation = data["mask_interpolation"]
        return cls(
            index=int(data["index"]), step=int(data["step"]), name=str(data["name"]), path=str(data["path"]),
            p=float(data["p"]), effective_p=float(data["effective_p"]), target=str(data["target"]),
            args=dict(data["args"]), lambda_source=data["lambda_source"], lambda_lost=bool(data["lambda_lost"]),
            ignored_args=tuple(str(a) for a in data["ignored_args"]),
            mask_interpolation=None if interpolation is None else str(interpolation),
        )
