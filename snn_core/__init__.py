"""SNN Explorer's engine: config -> data -> model -> trainer -> records -> metrics, in PyTorch and NumPy.

Tensors are time-major everywhere: ``[T, B, ...]`` (time steps, batch, then neurons or
channels x height x width). This package never imports streamlit or plotly.
"""
from .config import RunConfig

__all__ = ["RunConfig"]
