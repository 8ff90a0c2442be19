from collections.abc import Iterator

from maskaudit.checks.base import Options
from maskaudit.checks.pipeline import pipeline_check
from maskaudit.findings import Hit, Severity
from maskaudit.replay.facts import ReplayFacts, shown


@pipeline_check("P007", "pipeline-mask-interpolation", Severity.ERROR)
def pipeline_mask_interpolation(replay: ReplayFacts, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        A transform that puts values into the mask that were not in its label set, or that is configured
        with a mask interpolation other than nearest. The replay probes with a {0,255} mask, because a
        {0,1} mask rounds back to binary under linear interpolation and hides the problem.

    Why it breaks training:
        Interpolated masks hold labels that do not exist (or a neighbouring class) along every boundary;
        the loss learns noise at exactly the pixels that decide segmentation quality.

    How to fix:
        Use mask_interpolation=cv2.INTER_NEAREST (the default) for every spatial transform, and never pass
        masks under an image key.
    """
    for facts in replay.transforms:
        if facts.leaf.target == "image":
            continue
        configured = not facts.nearest_mask
        new_values = shown(facts.new_mask_values)
        probe_values = shown(facts.probe_new_values)
        if not (configured or new_values or probe_values):
            continue
        parts = []
        if configured:
            parts.append(f"mask_interpolation is {facts.leaf.mask_interpolation}, not nearest")
        if new_values:
            parts.append(f"masks gained values outside their label set: {new_values}")
        if probe_values:
            parts.append(f"a {{0,255}} probe mask gained {len(probe_values)} intermediate values")
        yield Hit(
            f"{facts.label}: " + "; ".join(parts),
            transform=facts.label,
            details={"mask_interpolation": facts.leaf.mask_interpolation, "new_mask_values": new_values,
                     "probe_new_values": probe_values},
        )
