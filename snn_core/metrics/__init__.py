"""Metrics of a network's spikes: activity, redundancy, robustness."""
