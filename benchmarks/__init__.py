"""Benchmarks: each prints a figure next to a baseline measured in the same run."""
