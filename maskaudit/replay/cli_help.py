"""Help texts shared by `maskaudit scan` and `maskaudit replay`."""

PIPELINE_HELP = (
    "augmentation pipeline to replay: a .json/.yaml file saved with A.save, or module:name / file.py:name "
    "naming a Compose or a zero-argument function returning one (only an import path keeps Lambda functions)"
)
PREPROCESS_HELP = "how the dataset feeds images: none (as loaded), zscore, zscore-channel, minmax, unit or module:fn"
