"""maskaudit: audit segmentation training data before a training run."""

from maskaudit.api import audit
from maskaudit.version import __version__

__all__ = ["__version__", "audit"]
