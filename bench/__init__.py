"""Benchmarks for maskaudit: a synthetic dataset generator and a one-run speed and memory report."""
