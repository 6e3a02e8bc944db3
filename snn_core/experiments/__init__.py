"""Experiments: one headless run, many runs on a cached process pool, paired comparisons and statistics."""
