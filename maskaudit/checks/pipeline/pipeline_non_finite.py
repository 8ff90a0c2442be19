from collections.abc import Iterator

from maskaudit.checks.base import Options
from maskaudit.checks.pipeline import pipeline_check
from maskaudit.findings import Hit, Severity
from maskaudit.replay.facts import ReplayFacts, rounded


@pipeline_check("P002", "pipeline-non-finite", Severity.ERROR)
def pipeline_non_finite(replay: ReplayFacts, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        A transform whose output holds NaN or Inf values its input did not have. RandomGamma raises
        every negative pixel to a fractional power: each negative value of z-scored data becomes NaN.

    Why it breaks training:
        One NaN pixel makes the loss NaN; the optimiser then writes NaN into every weight, or, with NaN
        guards, the batch is skipped and the model never sees augmented data.

    How to fix:
        Apply the transform before normalisation (on uint8 or [0,1] data), or drop it for data with
        negative values.
    """
    for facts in replay.transforms:
        if not facts.measured:
            continue
        before, after = facts.image_in, facts.image_out
        if after.non_finite_share > before.non_finite_share:
            yield Hit(
                f"{facts.label} produces non-finite values: {after.nan_share:.1%} NaN, "
                f"{after.inf_share:.1%} Inf (input had {before.nan_share:.1%} NaN, "
                f"{before.negative_share:.1%} negative)",
                transform=facts.label,
                details={"nan_share": rounded(after.nan_share), "inf_share": rounded(after.inf_share),
                         "input_negative_share": rounded(before.negative_share), "input_domain": facts.input_domain},
            )
