"""SNN Explorer's engine: config -> data -> model -> trainer -> records -> metrics, in PyTorch and NumPy.

Tensors are time-major everywhere: ``[T, B, ...]`` (time steps, batch, then neurons or
channels x height x width). This package never imports streamlit or plotly.

The names below are the stable public API: import them from here (``from snn_core import Trainer``),
not from the module that defines them today, so benchmarks and notebooks survive a move.
They load on first use (PEP 562), so ``import snn_core`` alone stays free of torch until a name
that needs it is touched (the CLI and the config do import torch: the config's choice lists are the
registries of torch modules).
"""
from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING

# public name -> module that defines it: a move is one line here (tests/core/test_public_api.py checks each name)
_EXPORTS = {
    "RunConfig": "snn_core.config",
    "Trainer": "snn_core.training.trainer",
    "LIFParams": "snn_core.neurons.lif",
    "lif_sequence": "snn_core.neurons.lif",
    "CUBAParams": "snn_core.neurons.cuba",
    "cuba_sequence": "snn_core.neurons.cuba",
    "build_model": "snn_core.methods.registry",
    "load_dataset": "snn_core.data",
    "read_events": "snn_core.data.readers",
    "frame_events": "snn_core.data.framing",
    "RunResult": "snn_core.results",
    "results_table": "snn_core.results",
}

__all__ = ["CUBAParams", "LIFParams", "RunConfig", "RunResult", "Trainer", "build_model", "cuba_sequence",
           "frame_events", "lif_sequence", "load_dataset", "read_events", "results_table"]
# (the keys of _EXPORTS, written out for static tools; a test keeps them equal)

if _TYPE_CHECKING:    # for type checkers and IDEs; at run time the names come from __getattr__
    from .config import RunConfig
    from .data import load_dataset
    from .data.framing import frame_events
    from .data.readers import read_events
    from .methods.registry import build_model
    from .neurons.cuba import CUBAParams, cuba_sequence
    from .neurons.lif import LIFParams, lif_sequence
    from .results import RunResult, results_table
    from .training.trainer import Trainer


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'snn_core' has no attribute {name!r}; public names: {', '.join(__all__)}")
    try:
        module = _importlib.import_module(_EXPORTS[name])
    except AttributeError as error:    # else `from snn_core import X` would hide it as "cannot import name X"
        raise ImportError(f"snn_core.{name}: importing {_EXPORTS[name]} failed: {error}") from error
    value = getattr(module, name)
    globals()[name] = value    # later look-ups find it directly and skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *(key for key in globals() if not key.startswith("_"))})
