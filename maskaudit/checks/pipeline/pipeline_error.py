from collections.abc import Iterator

from maskaudit.checks.base import Options
from maskaudit.checks.pipeline import pipeline_check
from maskaudit.findings import Hit, Severity
from maskaudit.replay.facts import ReplayFacts


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
        if facts.errors:
            yield Hit(
                f"{facts.label} raised on {facts.errors} of {facts.runs} forced runs: {facts.error}",
                transform=facts.label,
                details={"errors": facts.errors, "runs": facts.runs, "error": facts.error,
                         "effective_p": facts.leaf.effective_p},
            )
