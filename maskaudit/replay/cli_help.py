"""Replay defaults and help texts, shared by `maskaudit scan`, `maskaudit replay` and the replay options."""

DEFAULT_PREPROCESS = "none"
DEFAULT_SAMPLES = 64
DEFAULT_REPEATS = 8
DEFAULT_SEED = 0

PIPELINE_HELP = (
    "augmentation pipeline to replay: a .json/.yaml file saved with A.save, or module:name / file.py:name "
    "naming a Compose or a zero-argument function returning one (only an import path keeps Lambda functions)"
)
PREPROCESS_HELP = (
    "how the dataset feeds images: none (as loaded), zscore, zscore-channel, minmax, unit or module:fn "
    f"(default: {DEFAULT_PREPROCESS})"
)
SAMPLES_HELP = f"rows to replay, stratified by split (default: {DEFAULT_SAMPLES})"
REPEATS_HELP = f"augmented draws per replayed row (default: {DEFAULT_REPEATS})"
SEED_HELP = f"replay seed: same seed, same report (default: {DEFAULT_SEED})"
