from collections.abc import Iterator

from maskaudit.checks.base import Options
from maskaudit.checks.pipeline import pipeline_check
from maskaudit.findings import Hit, Severity
from maskaudit.replay.record import ReplayFacts


@pipeline_check("P001", "pipeline-error", Severity.ERROR)
def pipeline_error(replay: ReplayFacts, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        A transform that raises on this data when it applies, for example a transform that needs three
        channels given a grayscale image, or one that rejects the image's dtype.

    Why it breaks training:
        The data loader crashes the first time the transform fires, possibly hours into a run, or a
        wrapper silently skips the sample and training sees less data than you think.

    How to fix:
        Remove the transform, convert the data to what it expects (channels, dtype) before the pipeline,
        or replace it with one that supports this data.
    """
    for facts in replay.transforms:
        errors, runs = int(facts.measures["errors"]), int(facts.measures["runs"])
        if errors:
            yield Hit(
                f"{facts.label} raised on {errors} of {runs} forced runs: {facts.measures['error']}",
                transform=facts.label,
                details={"errors": errors, "runs": runs, "error": facts.measures["error"],
                         "effective_p": facts.leaf.effective_p},
            )
