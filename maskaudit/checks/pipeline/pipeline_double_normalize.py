from collections.abc import Iterator

from maskaudit.checks.base import Options
from maskaudit.checks.pipeline import pipeline_check
from maskaudit.findings import Hit, Severity
from maskaudit.replay.facts import ReplayFacts, rounded

NORMALIZED = "z-scored"
UNIT = "float 0-1"


@pipeline_check("P006", "pipeline-double-normalize", Severity.ERROR)
def pipeline_double_normalize(replay: ReplayFacts, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Normalize receiving input that is already normalized (z-scored, for example by an earlier
        Normalize or by the dataset), or Normalize with max_pixel_value=255 on float input in [0,1].

    Why it breaks training:
        Normalize computes (x - mean*max_pixel_value) / (std*max_pixel_value) and never checks its input:
        normalising twice, or dividing [0,1] data by 255 again, collapses the standard deviation to about
        0.002-0.02 or blows it up, so the network sees nearly constant images.

    How to fix:
        Normalise exactly once: drop the second Normalize (or the dataset's own normalisation), and use
        max_pixel_value=1.0 for float data in [0,1].
    """
    for facts in replay.transforms:
        if facts.leaf.name != "Normalize" or not facts.measured:
            continue
        mode = str(facts.leaf.args.get("normalization", "standard"))
        max_value = facts.leaf.args.get("max_pixel_value")
        domain = facts.input_domain
        reason = None
        if mode == "standard" and domain == NORMALIZED:
            reason = "receives input that is already normalized (z-scored)"
        elif isinstance(max_value, int | float) and max_value >= 255 and domain == UNIT:
            reason = f"divides float input in [0,1] by max_pixel_value={max_value:g} again"
        if reason is None:
            continue
        before, after = facts.image_in, facts.image_out
        yield Hit(
            f"{facts.label} {reason}: std {before.std:.3g} -> {after.std:.3g}, "
            f"mean {before.mean:.3g} -> {after.mean:.3g}",
            transform=facts.label,
            details={"input_domain": domain, "normalization": mode, "max_pixel_value": max_value,
                     "std_before": rounded(before.std), "std_after": rounded(after.std)},
        )
