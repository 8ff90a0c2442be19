"""Every check maskaudit runs, in one explicit list. Codes and names are public: never reuse or rename."""

from __future__ import annotations

from maskaudit.checks.annotations.bbox_mismatch import bbox_mismatch
from maskaudit.checks.annotations.category_id_gaps import category_id_gaps
from maskaudit.checks.annotations.category_imbalance import category_imbalance
from maskaudit.checks.annotations.coco_duplicate_id import coco_duplicate_id
from maskaudit.checks.annotations.coco_image_size import coco_image_size
from maskaudit.checks.annotations.coco_unknown_category import coco_unknown_category
from maskaudit.checks.annotations.coco_unknown_image import coco_unknown_image
from maskaudit.checks.annotations.crowd_encoding import crowd_encoding
from maskaudit.checks.annotations.degenerate_instance import degenerate_instance
from maskaudit.checks.annotations.duplicate_instance import duplicate_instance
from maskaudit.checks.annotations.images_without_instances import images_without_instances
from maskaudit.checks.annotations.instance_out_of_bounds import instance_out_of_bounds
from maskaudit.checks.annotations.rle_size_mismatch import rle_size_mismatch
from maskaudit.checks.annotations.tiny_instances import tiny_instances
from maskaudit.checks.base import Check
from maskaudit.checks.images.constant_image import constant_image
from maskaudit.checks.images.exif_orientation import exif_orientation
from maskaudit.checks.images.image_unreadable import image_unreadable
from maskaudit.checks.images.loader_disagreement import loader_disagreement
from maskaudit.checks.images.non_finite_image import non_finite_image
from maskaudit.checks.masks.empty_mask import empty_mask
from maskaudit.checks.masks.full_mask import full_mask
from maskaudit.checks.masks.image_as_mask import image_as_mask
from maskaudit.checks.masks.inverted_mask import inverted_mask
from maskaudit.checks.masks.lossy_mask import lossy_mask
from maskaudit.checks.masks.mask_unreadable import mask_unreadable
from maskaudit.checks.masks.multichannel_mask import multichannel_mask
from maskaudit.checks.masks.shape_mismatch import shape_mismatch
from maskaudit.checks.masks.tiny_foreground import tiny_foreground
from maskaudit.checks.masks.unexpected_label import unexpected_label
from maskaudit.checks.pipeline.pipeline_clips_range import pipeline_clips_range
from maskaudit.checks.pipeline.pipeline_distribution_shift import pipeline_distribution_shift
from maskaudit.checks.pipeline.pipeline_double_normalize import pipeline_double_normalize
from maskaudit.checks.pipeline.pipeline_empties_mask import pipeline_empties_mask
from maskaudit.checks.pipeline.pipeline_error import pipeline_error
from maskaudit.checks.pipeline.pipeline_mask_interpolation import pipeline_mask_interpolation
from maskaudit.checks.pipeline.pipeline_mask_misaligned import pipeline_mask_misaligned
from maskaudit.checks.pipeline.pipeline_non_finite import pipeline_non_finite
from maskaudit.checks.pipeline.pipeline_quantizes import pipeline_quantizes
from maskaudit.checks.rows.duplicate_image import duplicate_image
from maskaudit.checks.rows.duplicate_row import duplicate_row
from maskaudit.checks.rows.image_not_found import image_not_found
from maskaudit.checks.rows.mask_not_found import mask_not_found
from maskaudit.checks.rows.no_annotation import no_annotation
from maskaudit.checks.rows.path_outside_root import path_outside_root
from maskaudit.checks.rows.split_leakage import split_leakage
from maskaudit.checks.splits.class_imbalance import class_imbalance
from maskaudit.checks.splits.high_empty_fraction import high_empty_fraction
from maskaudit.checks.splits.ignore_index_out_of_range import ignore_index_out_of_range
from maskaudit.checks.splits.label_missing_in_split import label_missing_in_split
from maskaudit.checks.splits.mixed_image_encoding import mixed_image_encoding
from maskaudit.checks.splits.no_positive_masks import no_positive_masks
from maskaudit.checks.splits.no_usable_rows import no_usable_rows
from maskaudit.checks.splits.undeclared_void_label import undeclared_void_label

CHECKS: tuple[Check, ...] = (
    no_annotation,
    mask_not_found,
    image_not_found,
    duplicate_row,
    split_leakage,
    path_outside_root,
    mask_unreadable,
    empty_mask,
    full_mask,
    tiny_foreground,
    shape_mismatch,
    multichannel_mask,
    unexpected_label,
    lossy_mask,
    image_unreadable,
    non_finite_image,
    constant_image,
    no_positive_masks,
    high_empty_fraction,
    class_imbalance,
    label_missing_in_split,
    mixed_image_encoding,
    no_usable_rows,
    ignore_index_out_of_range,
    image_as_mask,
    inverted_mask,
    undeclared_void_label,
    exif_orientation,
    loader_disagreement,
    duplicate_image,
)


# Annotation files (COCO, SA-1B): judged by the annotation audit, never over manifest rows.
ANNOTATION_CHECKS: tuple[Check, ...] = (
    coco_unknown_image,
    coco_unknown_category,
    coco_duplicate_id,
    coco_image_size,
    degenerate_instance,
    instance_out_of_bounds,
    rle_size_mismatch,
    bbox_mismatch,
    crowd_encoding,
    duplicate_instance,
    images_without_instances,
    category_imbalance,
    category_id_gaps,
    tiny_instances,
)


# The augmentation replay: judged over what replaying the training pipeline measured, never over rows.
PIPELINE_CHECKS: tuple[Check, ...] = (
    pipeline_error,
    pipeline_non_finite,
    pipeline_clips_range,
    pipeline_distribution_shift,
    pipeline_quantizes,
    pipeline_double_normalize,
    pipeline_mask_interpolation,
    pipeline_mask_misaligned,
    pipeline_empties_mask,
)


def all_checks() -> tuple[Check, ...]:
    return CHECKS + ANNOTATION_CHECKS + PIPELINE_CHECKS


def find_check(key: str) -> Check | None:
    """A check by name or code, case-insensitive; `empty_mask` finds `empty-mask`, as config keys do."""
    name = key.strip().lower().replace("_", "-")
    for check in all_checks():
        if name == check.name or name.upper() == check.code:
            return check
    return None
