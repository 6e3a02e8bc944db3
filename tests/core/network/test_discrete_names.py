"""The layer names known from a config alone (network.discrete.spiking_layer_names) are the built network's."""
import pytest

from snn_core.methods.registry import build_model
from snn_core.network.discrete import spiking_layer_names


@pytest.mark.parametrize("changes", [{}, {"hidden": "16,12", "readout": "count"},
                                     {"dataset": "events-shape", "arch": "conv", "channels": "4,6", "hidden": ""},
                                     {"dataset": "events-shape", "arch": "conv", "channels": "4",
                                      "readout": "first-spike"}])
def test_the_names_known_from_the_config_are_the_built_networks(tiny, changes):
    cfg = tiny(changes)
    shape = (1, 8, 8) if cfg.data.dataset == "digits" else (2, 32, 32)
    assert spiking_layer_names(cfg) == build_model(cfg, shape, 10).layer_names
