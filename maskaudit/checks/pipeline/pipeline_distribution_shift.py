from collections.abc import Iterator

from maskaudit.checks.base import Options
from maskaudit.checks.pipeline import pipeline_check
from maskaudit.findings import Hit, Severity
from maskaudit.replay.facts import ReplayFacts, rounded


@pipeline_check(
    "P004", "pipeline-distribution-shift", Severity.WARNING,
    options={
        "max_mean_shift": (0.25, "largest mean shift, in input standard deviations, that passes"),
        "min_std_ratio": (0.5, "smallest output/input standard deviation ratio that passes"),
        "max_std_ratio": (2.0, "largest output/input standard deviation ratio that passes"),
    },
)
def pipeline_distribution_shift(replay: ReplayFacts, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        A transform that, on this data, moves the mean intensity by more than 0.25 input standard
        deviations or scales the standard deviation outside [0.5, 2]. An error when the transform always
        applies, a warning otherwise. Normalize, ToFloat and FromFloat, whose purpose is to rescale, are
        judged by pipeline-double-normalize instead; spatial transforms, which move pixels rather than
        change their values, by the mask checks.

    Why it breaks training:
        Training images no longer look like validation and test images, which are not augmented: a
        clip that moved every z-scored training image's mean from 0 to 0.4 took validation Dice from 70%
        to 33% without a single warning.

    How to fix:
        Fix or remove the named transform; keep intensity augmentations mild and centred on the data's
        real distribution, and apply the same preprocessing to training and validation data.
    """
    for facts in replay.transforms:
        if not facts.measured or facts.leaf.rescales or facts.leaf.spatial:
            continue
        shift, ratio = facts.mean_shift_std, facts.std_ratio
        if shift is None or ratio is None:
            continue
        moved = abs(shift) > options["max_mean_shift"]
        scaled = not options["min_std_ratio"] <= ratio <= options["max_std_ratio"]
        if not (moved or scaled):
            continue
        before, after = facts.image_in, facts.image_out
        always = facts.leaf.always
        yield Hit(
            f"{facts.label} moves the mean by {shift:+.2f} input std and scales the std by {ratio:.2f}x "
            f"(mean {before.mean:.3g} -> {after.mean:.3g}, std {before.std:.3g} -> {after.std:.3g}); "
            + ("it always applies" if always else f"it applies with p={facts.leaf.effective_p:.3g}"),
            transform=facts.label,
            severity=Severity.ERROR if always else Severity.WARNING,
            details={"mean_shift_std": rounded(shift), "std_ratio": rounded(ratio),
                     "effective_p": facts.leaf.effective_p,
                     "before": {"mean": rounded(before.mean), "std": rounded(before.std)},
                     "after": {"mean": rounded(after.mean), "std": rounded(after.std)}},
        )
