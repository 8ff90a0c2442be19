"""Replay the training augmentation pipeline on sampled rows and measure what it does to images and masks."""
