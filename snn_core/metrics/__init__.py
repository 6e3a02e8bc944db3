"""Metrics of a network's spikes: activity, redundancy, first-spike decisions, robustness perturbations."""
