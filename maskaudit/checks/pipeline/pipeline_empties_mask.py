from collections.abc import Iterator

from maskaudit.checks.base import Options
from maskaudit.checks.pipeline import pipeline_check
from maskaudit.findings import Hit, Severity
from maskaudit.replay.facts import ReplayFacts


@pipeline_check(
    "P009", "pipeline-empties-mask", Severity.WARNING,
    options={
        "min_share": (0.01, "share of non-empty masks emptied from which to warn"),
        "error_share": (0.2, "share of non-empty masks emptied above which it is an error"),
    },
)
def pipeline_empties_mask(replay: ReplayFacts, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        A transform that turns non-empty masks into empty ones, typically a small random crop on masks
        with small or sparse foreground. A warning, an error when more than 20% of the augmented
        non-empty masks come out empty.

    Why it breaks training:
        The positive samples you have become negative ones: the model sees the object far less often than
        the dataset promises, and learns to predict background.

    How to fix:
        Use a foreground-aware crop (CropNonEmptyMaskIfExists, or RandomSizedCrop with a larger minimum
        size), or crop around the foreground for a share of the samples.
    """
    for facts in replay.transforms:
        nonempty, emptied = facts.nonempty_masks, facts.emptied_masks
        if not nonempty:
            continue
        share = emptied / nonempty
        if share < options["min_share"] or not emptied:
            continue
        yield Hit(
            f"{facts.label} empties {emptied} of {nonempty} non-empty masks ({share:.0%}); "
            f"use a foreground-aware crop such as CropNonEmptyMaskIfExists",
            transform=facts.label,
            severity=Severity.ERROR if share > options["error_share"] else Severity.WARNING,
            details={"emptied": emptied, "nonempty": nonempty, "share": round(share, 6),
                     "effective_p": facts.leaf.effective_p},
        )
