"""Neuron models: pure step and sequence functions over time-major tensors, and their registry."""
