"""The neuron registry: each name maps to its own step functions and parameters."""
from __future__ import annotations

from snn_core.config.run_config import RunConfig
from snn_core.neurons.cuba import CUBAParams, cuba_sequence, cuba_spikes
from snn_core.neurons.lif import LIFParams, lif_sequence, lif_spikes
from snn_core.neurons.registry import NEURON_MODELS


def test_the_registry_keeps_lif_unchanged():
    assert NEURON_MODELS["lif"].sequence is lif_sequence and NEURON_MODELS["lif"].spikes is lif_spikes
    assert NEURON_MODELS["cuba"].sequence is cuba_sequence and NEURON_MODELS["cuba"].spikes is cuba_spikes
    assert NEURON_MODELS["lif"].params_from_config(RunConfig().neuron) == LIFParams.from_config(RunConfig().neuron)
    assert isinstance(NEURON_MODELS["cuba"].params_from_config(RunConfig().neuron), CUBAParams)
