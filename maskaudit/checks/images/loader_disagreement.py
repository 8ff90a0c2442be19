from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, dataset_check
from maskaudit.checks.context import Context
from maskaudit.facts import ImageFacts, MaskFacts
from maskaudit.findings import Hit, Severity

EXAMPLES = 5  # paths named per kind of file
# (role, trait) -> what cv2 and PIL each make of such a file; every claim is checked on real files by the tests
_SAYS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("mask", "palette"): (
        "palette PNG", "palette PNGs",
        "cv2.imread reads a palette PNG as 3-channel BGR colours (with IMREAD_GRAYSCALE, their grey levels), PIL "
        "Image.open as palette indices: a loader using cv2 gets colours, not labels"),
    ("image", "palette"): (
        "palette PNG", "palette PNGs",
        "PIL Image.open reads a palette PNG as one channel of palette indices, cv2.imread as 3-channel BGR "
        "colours: a PIL loader gets indices unless it calls .convert('RGB')"),
    ("mask", "transparency"): (
        "PNG with a tRNS chunk", "PNGs with a tRNS chunk",
        "cv2.imread with IMREAD_UNCHANGED adds a fourth, alpha channel, PIL Image.open gives three channels (or "
        "palette indices) and keeps the transparency aside: a loader using cv2 gets 4-channel masks"),
    ("image", "transparency"): (
        "PNG with a tRNS chunk", "PNGs with a tRNS chunk",
        "cv2.imread with IMREAD_UNCHANGED adds a fourth, alpha channel, PIL Image.open and cv2.imread with "
        "default flags give three channels"),
    ("mask", "cmyk"): (
        "CMYK JPEG", "CMYK JPEGs", "PIL Image.open gives 4-channel CMYK arrays, cv2.imread 3-channel BGR colours"),
    ("image", "cmyk"): (
        "CMYK JPEG", "CMYK JPEGs",
        "PIL Image.open gives 4-channel CMYK arrays unless the loader calls .convert('RGB'), cv2.imread converts "
        "it to 3-channel BGR colours"),
    ("mask", "orientation"): (
        "file with an EXIF orientation", "files with an EXIF orientation",
        "cv2.imread with default flags or IMREAD_GRAYSCALE turns such a file as its tag says, cv2.imread with "
        "IMREAD_UNCHANGED and PIL Image.open do not: the mask's geometry depends on the loader"),
}


def trait_keys(role: str, facts: ImageFacts | MaskFacts | None) -> Iterator[tuple[str, str]]:
    """The (role, trait) pairs of a file that cv2 and PIL read differently."""
    if facts is None:
        return
    for trait in _traits_of(facts):
        if (role, trait) in _SAYS:
            yield role, trait


def _traits_of(facts: ImageFacts | MaskFacts) -> Iterator[str]:
    traits = facts.traits
    if traits.palette:
        yield "palette"
    if traits.transparency:
        yield "transparency"
    if traits.cmyk:
        yield "cmyk"
    if traits.orientation != 1:
        yield "orientation"


@dataset_check("I005", "loader-disagreement", Severity.WARNING, Family.IMAGES)
def loader_disagreement(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Files that cv2 and PIL, the two libraries training loaders read with, decode differently: palette
        PNGs (indices or colours), RGB and palette PNGs with a tRNS chunk (an alpha channel or not), CMYK
        JPEGs (four channels or three) and masks with an EXIF orientation (turned or not). Said once per
        kind of file and role, with the count and a few paths; an image's EXIF orientation is
        exif-orientation's. A gamma chunk (gAMA) is applied by neither and is not reported.

    Why it breaks training:
        Whichever of the two a pipeline is built on, the other one's users train on something else: colours
        instead of class indices, an extra alpha channel, CMYK as if it were RGBA, or a turned mask.

    How to fix:
        Read the files with the library the message names as giving what you expect, or re-save them so
        both agree: palette masks as single-channel PNGs of class indices, images as plain RGB without
        tRNS, CMYK or orientation tags.
    """
    counts = ctx.totals.trait_files
    found = ctx.totals.trait_examples
    for key in sorted(counts):
        role, trait = key
        one, many, says = _SAYS[key]
        count = counts[key]
        what = f"{role} is a {one}" if count == 1 else f"{role}s are {many}"
        yield Hit(f"{count:,} {what}: {says} (e.g. {', '.join(found[key])})",
                  details={"role": role, "trait": trait, "files": count, "examples": list(found[key])})
