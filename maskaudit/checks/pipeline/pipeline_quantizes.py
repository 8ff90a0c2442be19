from collections.abc import Iterator

from maskaudit.checks.base import Options
from maskaudit.checks.pipeline import pipeline_check
from maskaudit.findings import Hit, Severity
from maskaudit.replay.facts import ReplayFacts, rounded


@pipeline_check(
    "P005", "pipeline-quantizes", Severity.WARNING,
    options={"min_grid_share": (0.99, "share of output values on the 1/255 grid that marks a uint8 round trip")},
)
def pipeline_quantizes(replay: ReplayFacts, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        A transform that takes float input and returns it on the 1/255 grid: it converted the image to
        uint8 and back (CLAHE, Equalize, Posterize, ImageCompression, MedianBlur and others do).

    Why it breaks training:
        Float data carries more than 256 levels; the round trip throws away the fine intensity steps
        and, for data outside [0,1], every value out of range, on the training images only.

    How to fix:
        Apply the transform to uint8 data before converting to float, or choose a float-native
        alternative.
    """
    for facts in replay.transforms:
        if not facts.measured or not facts.float_input:
            continue
        before, after = facts.image_in, facts.image_out
        as_bytes = "uint8" in after.dtypes
        if before.grid_share >= 0.5 or not (as_bytes or after.grid_share >= options["min_grid_share"]):
            continue
        yield Hit(
            f"{facts.label} returns float input on the 1/255 grid ({after.grid_share:.1%} of values, "
            f"input {before.grid_share:.1%}; output dtype {after.dtype})",
            transform=facts.label,
            details={"grid_share_before": rounded(before.grid_share), "grid_share_after": rounded(after.grid_share),
                     "dtype_after": after.dtype},
        )
