"""Experiments: one run, many runs on a cached process pool, paired comparisons, statistics, the neuron playground."""
