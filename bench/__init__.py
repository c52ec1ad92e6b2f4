"""Benchmarks: speed targets are measured here, not in unit tests."""
