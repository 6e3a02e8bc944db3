"""Paired arms: switching a method on or off leaves the initial weights of every shared layer unchanged.

The trainer builds the network (and the methods' hooks) from ``training.seed``; a method's own parameters
(ASA's gates and its controls, TRT's star head) come from generators of their own, so with the same seed
the conv, BatchNorm, fc and readout weights of both arms are equal, and the global generator is left as it was.
"""
import pytest
import torch

from snn_core.training.trainer import Trainer

CONV = {"arch": "conv", "channels": "4,8", "T": 4, "test-samples": 20, "seed": 3}


def initial_weights(cfg) -> dict[str, torch.Tensor]:
    return {name: value.clone() for name, value in Trainer(cfg, device="cpu").model.state_dict().items()}


def assert_shared_equal(off: dict, on: dict, renamed: dict[str, str] | None = None) -> None:
    """Every tensor of ``off`` is in ``on`` (under ``renamed`` names) with the same values; ``on`` has only
    gate tensors besides."""
    renamed = renamed or {}
    for name, value in off.items():
        assert torch.equal(value, on[renamed.get(name, name)]), name
    extra = set(on) - {renamed.get(name, name) for name in off}
    assert all(".gate." in name for name in extra), extra


@pytest.mark.parametrize("arm", [{"asa": "faithful"}, {"asa": "clean"}, {"asa": "constant"},
                                 {"asa": "scalar"}, {"asa": "clean", "asa-layers": "2"}])
def test_asa_and_its_controls_start_from_the_same_shared_weights(tiny, arm):
    off = initial_weights(tiny(CONV))
    on = initial_weights(tiny(CONV, arm))
    assert_shared_equal(off, on)
    assert len(on) > len(off) or arm["asa"] == "constant"                      # the gate's own weights are extra


def test_asa_gates_differ_between_layers_and_seeds_but_not_between_builds(tiny):
    first, again = initial_weights(tiny(CONV, asa="clean")), initial_weights(tiny(CONV, asa="clean"))
    other_seed = initial_weights(tiny(CONV, asa="clean", seed=4))
    key1, key2 = "layers.0.gate.conv_important.weight", "layers.1.gate.conv_important.weight"
    assert torch.equal(first[key1], again[key1])
    assert not torch.equal(first[key1], first[key2])
    assert not torch.equal(first[key1], other_seed[key1])


@pytest.mark.parametrize("arch", [{"hidden": "16,12"}, CONV])
def test_trt_leaves_the_network_and_the_global_generator_as_without_it(tiny, arch):
    off = initial_weights(tiny(arch))
    torch.manual_seed(123)
    before = torch.get_rng_state()
    trainer = Trainer(tiny(arch, trt="on"), device="cpu")
    assert torch.equal(torch.get_rng_state(), before)                          # batch order and encoding untouched
    assert_shared_equal(off, trainer.model.state_dict())
    assert len(list(trainer.hooks.parameters())) > 0                           # the star head is the hook's own


def test_ttfs_spike_cap_does_not_change_the_initial_weights(tiny):
    settings = {"readout": "first-spike", "neuron": "cuba", "encoding": "latency"}
    assert_shared_equal(initial_weights(tiny(settings, max_spikes=0)), initial_weights(tiny(settings, max_spikes=1)))


def test_first_spike_and_rate_readouts_start_with_the_same_layers(tiny):
    rate = initial_weights(tiny(hidden="16,12"))
    spiking = initial_weights(tiny(hidden="16,12", readout="first-spike"))
    # the rate readout's Linear is the first-spike network's output layer "out" (layer 2): same shape, same draw
    assert_shared_equal(rate, spiking, {"readout.weight": "layers.2.synapse.weight",
                                        "readout.bias": "layers.2.synapse.bias"})
