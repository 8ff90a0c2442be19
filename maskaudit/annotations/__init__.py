"""Annotation files (COCO instance segmentation, SA-1B per-image JSON) audited like manifests."""
