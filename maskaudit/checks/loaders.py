"""What common training loaders make of a file's header traits, as findings say it.

Every claim here was checked against files written by PIL and read back with cv2 and PIL
(tests/e2e/test_loaders.py); torchvision's follows its documentation (decode_image applies EXIF only with
apply_exif_orientation=True, and only to JPEG and PNG).
"""

from __future__ import annotations

from maskaudit.facts import ImageFacts

ORIENTATIONS = {
    2: "mirrored left to right",
    3: "turned 180 degrees",
    4: "mirrored top to bottom",
    5: "mirrored along its main diagonal",
    6: "turned 90 degrees clockwise",
    7: "mirrored along its anti-diagonal",
    8: "turned 90 degrees counter-clockwise",
}


def orientation_text(orientation: int) -> str:
    """"EXIF Orientation=6 (shown turned 90 degrees clockwise)"."""
    return f"EXIF Orientation={orientation} (shown {ORIENTATIONS.get(orientation, 'as stored')})"


def exif_loaders(fmt: str) -> tuple[str, str]:
    """Which loaders apply a file's EXIF orientation and which ignore it, by the format the scan sniffed."""
    if fmt == "tiff":
        return "cv2 and PIL Image.open", "tifffile and other readers of the raw strips"
    torchvision = ("torchvision decode_image (unless apply_exif_orientation=True)" if fmt in ("jpeg", "png")
                   else "torchvision decode_image")
    return ("cv2.imread with default flags (or IMREAD_GRAYSCALE) and PIL ImageOps.exif_transpose",
            f"cv2.imread with IMREAD_UNCHANGED, plain PIL Image.open and {torchvision}")


def size_text(spatial: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in spatial)


def geometries(image: ImageFacts) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """An image's (stored, displayed) height and width: they trade places under a 90-degree orientation."""
    spatial = image.spatial
    if len(spatial) != 2 or not image.traits.rotated:
        return spatial, spatial
    turned = (spatial[1], spatial[0])
    return (turned, spatial) if image.traits.upright else (spatial, turned)
