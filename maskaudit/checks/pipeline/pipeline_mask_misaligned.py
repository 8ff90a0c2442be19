from collections.abc import Iterator

from maskaudit.checks.base import Options
from maskaudit.checks.pipeline import pipeline_check
from maskaudit.findings import Hit, Severity
from maskaudit.replay.facts import ReplayFacts


@pipeline_check(
    "P008", "pipeline-mask-misaligned", Severity.ERROR,
    options={"min_share": (0.05, "share of probe runs that must be misaligned to report")},
)
def pipeline_mask_misaligned(replay: ReplayFacts, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        A transform that changes the image's geometry while the mask does not follow: a Lambda that
        flips or warps only the image, or a custom transform that handles only the image target. The
        replay paints the same asymmetric bar into an image and its mask and checks they still overlap.

    Why it breaks training:
        The label no longer describes the pixels under it; the network is taught to segment the wrong
        place on every augmented sample.

    How to fix:
        Apply geometric changes through DualTransform subclasses (or give the Lambda a mask function
        doing the same thing), and pass the mask under the `mask` key.
    """
    for facts in replay.transforms:
        checked, misaligned = facts.alignment_checked, facts.misaligned
        if not checked or not misaligned or misaligned / checked < options["min_share"]:
            continue
        yield Hit(
            f"{facts.label} moves the image but not the mask in {misaligned} of {checked} probe runs",
            transform=facts.label,
            details={"misaligned": misaligned, "checked": checked, "target": facts.leaf.target},
        )
