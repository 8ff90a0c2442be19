"""Tiny facts that show each check's defect, and a clean counterpart for each.

Checks are pure functions over facts, so their fixtures are facts: no files needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from maskaudit.facts import ImageFacts, MaskFacts, Problem, ProblemKind, RowFacts
from maskaudit.header import PLAIN, Traits
from maskaudit.settings import Settings


def mask(values: dict[float, int], *, fmt: str = "png", spatial: tuple[int, int] = (8, 8),
         colors: tuple[tuple[int, ...], ...] = (), color_counts: tuple[int, ...] = (), dtype: str = "uint8",
         distinct: int | None = None) -> MaskFacts:
    """Facts of a mask with these pixel counts. When they do not add up to its shape, background takes the
    difference: the foreground is always the listed non-zero counts."""
    ordered = sorted(values.items())
    found = dict(ordered)
    listed = sum(color_counts) if colors else sum(values.values())
    background = spatial[0] * spatial[1] - listed
    return MaskFacts(
        format=fmt, shape=spatial + ((3,) if colors else ()), spatial=spatial, dtype=dtype,
        channels=3 if colors else 1, values=tuple(v for v, _ in ordered), counts=tuple(c for _, c in ordered),
        distinct=distinct if distinct is not None else len(colors) if colors else len(ordered),
        content_hash=f"m{hash(tuple(ordered)) & 0xFFFF:x}", colors=colors, color_counts=color_counts,
        zero_pixels=background + (sum(c for color, c in zip(colors, color_counts, strict=True) if not any(color[:3]))
                                  if colors else found.get(0.0, 0)),
        nan_pixels=sum(c for v, c in ordered if v != v),
        fractional_pixels=sum(c for v, c in ordered if v == v and not float(v).is_integer()),
        void_pixels=found.get(255.0, 0), dtype_max_pixels=found.get(255.0 if dtype == "uint8" else 65535.0, 0),
    )


def zscored_slice(side: int = 20) -> MaskFacts:
    """A float image passed as a mask: every pixel its own non-integer value."""
    return mask({-1.5 + 0.0101 * i: 1 for i in range(side * side)}, dtype="float32", spatial=(side, side))


def grey_photo() -> MaskFacts:
    """An 8-bit photo passed as a mask: 200 grey levels, none dominant."""
    return mask({float(v): 2 for v in range(200)}, spatial=(20, 20))


def rgb_photo() -> MaskFacts:
    """An RGB photo passed as a mask: thousands of colours (the 16 most frequent are kept)."""
    colors = tuple((i, 255 - i, (7 * i) % 256) for i in range(16))
    return mask({}, colors=colors, color_counts=(10,) * 16, spatial=(100, 100), distinct=5000)


def instance_map(ids: int = 300) -> MaskFacts:
    """A 16-bit instance map: hundreds of small objects on a dominant background."""
    return mask({0.0: 40_000, **{float(i): 30 for i in range(1, ids + 1)}}, dtype="uint16", spatial=(224, 224))


def binary(foreground: int, total: int = 100, value: float = 1.0, **kwargs: object) -> MaskFacts:
    side = int(total ** 0.5)
    return mask({0.0: total - foreground, value: foreground} if foreground < total else {value: total},
                spatial=(side, side), **kwargs)  # type: ignore[arg-type]


def image(*, dtype: str = "uint8", lo: float = 0.0, hi: float = 255.0, mean: float = 100.0, std: float = 30.0,
          nan: int = 0, inf: int = 0, spatial: tuple[int, int] = (8, 8), channels: int = 3,
          content: str = "i0", fmt: str = "png", traits: Traits = PLAIN, phash: int | None = None,
          file_hash: str | None = None) -> ImageFacts:
    """Facts of an image; its perceptual hash is unique to its content unless given, as distinct scenes' are."""
    return ImageFacts(format=fmt, shape=(*spatial, channels), spatial=spatial, dtype=dtype, channels=channels,
                      minimum=lo, maximum=hi, mean=mean, std=std, nan=nan, inf=inf, content_hash=content,
                      traits=traits, phash=phash if phash is not None else _scene_hash(content),
                      file_hash=file_hash if file_hash is not None else f"f-{content}")


def _scene_hash(content: str) -> int:
    """A pseudo-random 64-bit hash per content: distinct scenes lie about 32 bits apart."""
    return int.from_bytes(hashlib.blake2b(content.encode(), digest_size=8).digest(), "big")


def phone_photo(n: int, orientation: int, spatial: tuple[int, int] = (6, 8)) -> ImageFacts:
    """A JPEG stored landscape (height 6, width 8) whose EXIF orientation turns it as displayed."""
    return image(spatial=spatial, content=f"i{n}", fmt="jpeg", traits=Traits(orientation=orientation))


BINARY = mask({0.0: 48, 1.0: 16})


def row(n: int, *, split: str | None = "train", m: MaskFacts | None = BINARY, img: ImageFacts | None = None,
        image_path: str | None = None, mask_path: str | None = None, flag: bool | None = True,
        group: str | None = None, image_problem: Problem | None = None,
        mask_problem: Problem | None = None, outside: tuple[str | None, str | None] | None = None) -> RowFacts:
    return RowFacts(
        row=n,
        image_path=image_path if image_path is not None else f"img/{n}.png",
        mask_path=mask_path if mask_path is not None else (
            None if m is None and mask_problem is None else f"m/{n}.png"),
        split=split, flag=flag, group=group if group is not None else f"g{n}", row_id=f"id{n}",
        image=img if img is not None else (None if image_problem else image(content=f"i{n}")),
        mask=m, image_problem=image_problem, mask_problem=mask_problem,
        image_outside_root=outside[0] if outside else None, mask_outside_root=outside[1] if outside else None,
    )


def healthy(count: int = 4, split: str = "train", start: int = 0) -> list[RowFacts]:
    return [row(start + i, split=split) for i in range(count)]


@dataclass(frozen=True)
class Case:
    defect: list[RowFacts]
    clean: list[RowFacts]
    settings: Settings = field(default_factory=Settings)
    expect_rows: tuple[int, ...] | None = None
    expect_splits: tuple[str | None, ...] | None = None
    clean_settings: Settings | None = None


def _two_splits() -> list[RowFacts]:
    return healthy(3, "train") + healthy(2, "val", start=3)


def _cases() -> dict[str, Callable[[], Case]]:
    missing = Problem(ProblemKind.NOT_FOUND, "file x does not exist")
    unreadable = Problem(ProblemKind.UNREADABLE, "file cannot be decoded: file is empty (0 bytes)")
    empty = mask({0.0: 64})
    return {
        "no-annotation": lambda: Case(
            [*healthy(2), row(2, flag=False), row(3, m=None, flag=True)], healthy(4), expect_rows=(2, 3)),
        "mask-not-found": lambda: Case([*healthy(2), row(2, m=None, mask_path="m/x.png", mask_problem=missing)],
                                       healthy(3), expect_rows=(2,)),
        "image-not-found": lambda: Case([*healthy(2), row(2, image_problem=missing)], healthy(3), expect_rows=(2,)),
        "duplicate-row": lambda: Case(
            [*healthy(2), row(2, image_path="img/0.png", mask_path="m/0.png"),
             row(3, image_path="img/1.png", mask_path="m/other.png")],
            healthy(4), expect_rows=(2, 3)),
        "split-leakage": lambda: Case(
            [*healthy(3), row(3, split="val", img=image(content="i0")), row(4, split="val", group="g1"),
             row(5, split="val"), row(6, split="val", img=image(content="i6", phash=_scene_hash("i1") ^ 0b101)),
             row(7, split="val", img=image(content="i2", file_hash="re-saved"))],
            [*_two_splits(), row(5, split="val", img=image(content="i5", phash=_scene_hash("i3") ^ 0b11))],
            expect_rows=(3, 4, 6, 7)),
        "duplicate-image": lambda: Case(
            [*healthy(2), row(2, img=image(content="i0", file_hash="re-saved")), row(3, img=image(content="i1"))],
            [*healthy(3), row(3, img=image(content="i3", phash=_scene_hash("i0") ^ 0b11)),
             row(4, split="val", img=image(content="i0"))],
            expect_rows=(2, 3)),
        "path-outside-root": lambda: Case(
            [*healthy(20), row(20, image_path="../other/2.png", mask_path="/etc/m.png",
                               outside=("/data/other/2.png", "/etc/m.png"))],
            [row(i, image_path=f"../images/{i}.png", mask_path=f"../masks/{i}.png",
                 outside=(f"/data/images/{i}.png", f"/data/masks/{i}.png")) for i in range(21)],
            expect_rows=(20, 20)),
        "mask-unreadable": lambda: Case([*healthy(2), row(2, m=None, mask_path="m/2.png", mask_problem=unreadable)],
                                        healthy(3), expect_rows=(2,)),
        "empty-mask": lambda: Case(
            [*healthy(2), row(2, m=empty), row(3, m=mask({0.0: 60, 255.0: 4}))],
            [*healthy(2), row(2, m=mask({0.0: 60, 255.0: 4}))],
            settings=Settings(ignore_index=255), expect_rows=(2, 3),
            clean_settings=Settings()),
        "full-mask": lambda: Case([*healthy(2), row(2, m=mask({1.0: 64}))], healthy(3), expect_rows=(2,)),
        "tiny-foreground": lambda: Case([*healthy(2), row(2, m=mask({0.0: 60, 1.0: 4}))],
                                        [*healthy(2), row(2, m=mask({0.0: 48, 1.0: 16}))], expect_rows=(2,)),
        "shape-mismatch": lambda: Case([*healthy(2), row(2, m=mask({0.0: 8, 1.0: 8}, spatial=(4, 4)))],
                                       healthy(3), expect_rows=(2,)),
        "multichannel-mask": lambda: Case(
            [*healthy(2), row(2, m=mask({}, colors=((0, 0, 0), (255, 0, 0)), color_counts=(40, 24)))],
            healthy(3), expect_rows=(2,)),
        "unexpected-label": lambda: Case(
            [*healthy(3), row(3, m=mask({0.0: 48, 255.0: 16}))],
            [*healthy(3), row(3, m=mask({0.0: 48, 2.0: 16}))], expect_rows=(3,)),
        "lossy-mask": lambda: Case(
            [*healthy(2), row(2, m=mask({0.0: 48, 1.0: 16}, fmt="jpeg")),
             row(3, m=mask({0.0: 10_000, 255.0: 5_000, 3.0: 2, 50.0: 3, 120.0: 1, 200.0: 2})),
             row(4, m=mask({0.0: 30, 0.25: 4, 0.5: 4, 0.75: 4, 1.0: 22}, dtype="float32"))],
            [*healthy(2), row(2, m=mask({0.0: 10_000, 1.0: 3_000, 2.0: 2_000, 3.0: 1_000, 4.0: 500}))],
            expect_rows=(2, 3, 4)),
        "image-unreadable": lambda: Case([*healthy(2), row(2, image_problem=unreadable)], healthy(3),
                                         expect_rows=(2,)),
        "non-finite-image": lambda: Case(
            [*healthy(2), row(2, img=image(dtype="float32", lo=-2, hi=2, mean=0, std=1, nan=5, inf=1))],
            [*healthy(2), row(2, img=image(dtype="float32", lo=-2, hi=2, mean=0, std=1))], expect_rows=(2,)),
        "constant-image": lambda: Case(
            [*healthy(2), row(2, img=image(lo=7, hi=7, mean=7, std=0)),
             row(3, img=image(dtype="float32", lo=float("nan"), hi=float("nan"), mean=float("nan"),
                              std=float("nan"), nan=64))],
            healthy(3), expect_rows=(2, 3)),
        "no-positive-masks": lambda: Case(
            [*healthy(2), row(2, split="val", m=empty), row(3, split="val", m=empty)], _two_splits(),
            expect_splits=("val",)),
        "high-empty-fraction": lambda: Case(
            [row(0), row(1, m=empty), row(2, m=empty), *healthy(2, "val", start=3)],
            [row(0), row(1, m=empty), row(2), *healthy(2, "val", start=3)], expect_splits=("train",)),
        "class-imbalance": lambda: Case(
            [row(0, m=mask({0.0: 9_990, 1.0: 10})), row(1, m=mask({0.0: 10_000}))],
            [row(0, m=mask({0.0: 900, 1.0: 100}))], expect_splits=("train",)),
        "label-missing-in-split": lambda: Case(
            [row(0, m=mask({0.0: 40, 1.0: 12, 2.0: 12})), row(1, split="val")],
            [row(0, m=mask({0.0: 40, 1.0: 12, 2.0: 12})), row(1, split="val", m=mask({0.0: 40, 1.0: 12, 2.0: 12}))],
            expect_splits=("val",)),
        "mixed-image-encoding": lambda: Case(
            [*healthy(2), row(2, img=image(dtype="float32", lo=-3, hi=3, mean=0.0, std=1.0, channels=3))],
            healthy(3), expect_splits=("train",)),
        "no-usable-rows": lambda: Case(
            [*healthy(2), row(2, split="val", image_problem=missing)], _two_splits(), expect_splits=("val",)),
        "image-as-mask": lambda: Case(
            [*healthy(2), row(2, m=zscored_slice()), row(3, m=grey_photo()), row(4, m=rgb_photo())],
            [*healthy(2), row(2, m=instance_map()),
             row(3, m=mask({0.0: 300, 255.0: 80, **{float(v): 1 for v in range(1, 21)}}, spatial=(20, 20))),
             row(4, m=mask({0.0: 40, 1.0: 24}, dtype="float32"))],
            expect_rows=(2, 3, 4)),
        "inverted-mask": lambda: Case(
            [*(row(i, m=binary(3 + i % 3)) for i in range(6)), row(6, m=binary(96)), row(7, m=binary(99))],
            [*(row(i, m=binary(55 + i)) for i in range(6)), row(6, m=binary(96)), row(7, m=binary(99))],
            expect_rows=(6, 7)),
        "undeclared-void-label": lambda: Case(
            [row(i, m=mask({0.0: 40, float(1 + i % 3): 16, 255.0: 8})) for i in range(6)],
            [row(i, m=mask({0.0: 48, 255.0: 16})) for i in range(6)], expect_splits=(None,)),
        "exif-orientation": lambda: Case(
            [*healthy(2), row(2, img=phone_photo(2, 6), m=mask({0.0: 40, 1.0: 8}, spatial=(6, 8))),
             row(3, img=phone_photo(3, 6), m=mask({0.0: 40, 1.0: 8}, spatial=(8, 6))),
             row(4, img=phone_photo(4, 8, spatial=(8, 8))), row(5, img=phone_photo(5, 6), m=None)],
            [*healthy(2), row(2, img=phone_photo(2, 1), m=mask({0.0: 40, 1.0: 8}, spatial=(6, 8))),
             row(3, img=image(spatial=(8, 6), content="i3"), m=mask({0.0: 40, 1.0: 8}, spatial=(8, 6)))],
            expect_rows=(2, 3, 4, 5)),
        "loader-disagreement": lambda: Case(
            [*healthy(2), row(2, m=replace(BINARY, traits=Traits(palette=True))),
             row(3, m=replace(BINARY, traits=Traits(palette=True))),
             row(4, img=image(content="i4", fmt="jpeg", traits=Traits(cmyk=True)))],
            [*healthy(2), row(2, img=phone_photo(2, 1))], expect_splits=(None,)),
        "ignore-index-out-of-range": lambda: Case(
            healthy(3), [*healthy(2), row(2, m=mask({0.0: 48, 255.0: 16}))],
            settings=Settings(ignore_index=300), expect_splits=(None,), clean_settings=Settings(ignore_index=255)),
    }


CASES = _cases()


def with_split_none(rows: list[RowFacts]) -> list[RowFacts]:
    return [replace(r, split=None) for r in rows]
