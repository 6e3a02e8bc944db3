"""Registry of neuron models: ``neuron.model`` name -> (params from the config, recording and spikes-only runs).

Every ``sequence`` function has the signature of ``lif_sequence``:
``(currents[T, B, ...], params) -> NeuronSequence`` (spikes, v_pre, v_post, each ``[T, B, ...]``);
every ``spikes`` function that of ``lif_spikes``: ``(currents, params) -> spikes[T, B, ...]``.
Both run ``params.kernel`` (fused op or reference loop; same values, same gradients).
Adding a neuron is one module with a step and these two functions plus one line here.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch

from .cuba import CUBAParams, cuba_sequence, cuba_spikes
from .lif import LIFParams, lif_sequence, lif_spikes
from .loop import NeuronSequence


class NeuronModel(NamedTuple):
    params_from_config: Callable[[Any], Any]
    sequence: Callable[[torch.Tensor, Any], NeuronSequence]     # recording path
    spikes: Callable[[torch.Tensor, Any], torch.Tensor]         # training path, no potentials kept


NEURON_MODELS: dict[str, NeuronModel] = {
    "lif": NeuronModel(LIFParams.from_config, lif_sequence, lif_spikes),
    "cuba": NeuronModel(CUBAParams.from_config, cuba_sequence, cuba_spikes),
}


def neuron_model(name: str) -> NeuronModel:
    if name not in NEURON_MODELS:
        raise ValueError(f"neuron.model={name!r} is not known; allowed: {', '.join(NEURON_MODELS)}")
    return NEURON_MODELS[name]
