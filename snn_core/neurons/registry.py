"""Registry of neuron models: ``neuron.model`` name -> (params from the config, sequence function).

Every sequence function has the signature of ``lif_sequence``:
``(currents[T, B, ...], params, keep_potentials) -> LIFSequence``. Adding a neuron is one
module with a step and a sequence function plus one line here.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .cuba import CUBAParams, cuba_sequence
from .lif import LIFParams, lif_sequence


class NeuronModel(NamedTuple):
    params_from_config: Callable[[Any], Any]
    sequence: Callable


NEURON_MODELS: dict[str, NeuronModel] = {
    "lif": NeuronModel(LIFParams.from_config, lif_sequence),
    "cuba": NeuronModel(CUBAParams.from_config, cuba_sequence),
}


def neuron_model(name: str) -> NeuronModel:
    if name not in NEURON_MODELS:
        raise ValueError(f"neuron.model={name!r} is not known; allowed: {', '.join(NEURON_MODELS)}")
    return NEURON_MODELS[name]
