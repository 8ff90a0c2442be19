"""How much one file may cost the scan: bytes read and pixels decoded.

A file over a limit becomes a finding that names its size and the option to raise, never an outage.
"""

from __future__ import annotations

from dataclasses import dataclass

from maskaudit.errors import UsageError

# 1 GiB: a 16384 x 16384 uint16 four-band TIFF is 2 GiB uncompressed, but such files are stored compressed.
DEFAULT_MAX_FILE_BYTES = 1 << 30
# 268 million pixels (16384 x 16384): a 10980 x 10980 Sentinel-2 tile and pathology tiles pass; a
# 24000 x 24000 decompression bomb does not.
DEFAULT_MAX_PIXELS = 1 << 28


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-file bounds every loader applies before it reads or decodes."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        if self.max_file_bytes < 1:
            raise UsageError(f"--max-file-bytes {self.max_file_bytes}: give a positive number of bytes")
        if self.max_pixels < 1:
            raise UsageError(f"--max-pixels {self.max_pixels}: give a positive number of pixels")
