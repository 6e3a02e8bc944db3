"""Fast & Deep's weight bumping: the foremost layer with too many neurons silent on the batch, hand-built."""
from __future__ import annotations

import pytest
import torch

from snn_core.config.run_config import RunConfig
from snn_core.methods.ttfs.exact_network import ExactNetwork, build_exact_model
from snn_core.methods.ttfs.weight_bump import WeightBump, layer_to_bump, silent_limits, silent_neurons

EXACT = {"engine": "exact", "encoding": "latency", "neuron": "cuba", "readout": "first-spike", "max-spikes": 1}


def hand_network(readout: str) -> ExactNetwork:
    """3 inputs -> fc1 (4) -> out (2). fc1: neurons 0, 1 fire on any input, neuron 2 only on input 2,
    neuron 3 never (negative weights). out: output 0 fires, output 1 never."""
    cfg = RunConfig().with_values({**EXACT, "readout": readout, "hidden": (4,), "T": 6, "weight-bump": 0.01})
    net = build_exact_model(cfg, (3,), 2)
    with torch.no_grad():
        net.layers[0].synapse.weight.copy_(torch.tensor([[9.0] * 3, [9.0] * 3, [0.0, 0.0, 9.0], [-1.0] * 3]))
        net.layers[1].synapse.weight.copy_(torch.tensor([[9.0] * 4, [-1.0] * 4]))
    return net


def frames() -> torch.Tensor:
    """Sample 0: all three inputs spike at t = 0; sample 1: input 0 only."""
    x = torch.zeros(6, 2, 3)
    x[0, 0] = 1
    x[0, 1, 0] = 1
    return x


def test_silent_limits_follow_the_readout():
    assert silent_limits(3, "first-spike", 10) == [0.3, 0.3, 0.0]
    assert silent_limits(2, "count", 4) == [0.3, 0.75]
    # the foremost layer over its limit wins, even when a later one is quieter
    silent = [torch.tensor([True, False, False, False]), torch.tensor([True, True])]
    assert layer_to_bump(silent, [0.3, 0.0]) == 1 and layer_to_bump(silent, [0.25, 0.0]) == 1
    assert layer_to_bump(silent, [0.2, 0.0]) == 0 and layer_to_bump(silent, [0.3, 1.0]) is None


def test_a_neuron_that_fires_for_any_sample_of_the_batch_is_not_silent():
    inf = float("inf")
    times = torch.tensor([[[1.0], [inf], [inf]], [[inf], [2.0], [inf]]])              # (B=2, N=3, K=1)
    assert silent_neurons((times,))[0].tolist() == [False, False, True]


def test_foremost_failing_layer_is_bumped_on_its_silent_neurons_and_doubles():
    net, x, bump = hand_network("first-spike"), frames(), WeightBump(0.01, 2)
    with torch.no_grad():
        net.layers[0].synapse.weight[2] = -1.0                       # fc1: neurons 2 and 3 never fire
    before = [layer.synapse.weight.detach().clone() for layer in net.layers]
    # fc1: 2 of 4 silent = 0.5 > 0.3; out: output 1 silent too, but only the foremost failing layer is bumped
    bump.after_step(net, net(x))
    bump.after_step(net, net(x))                                     # the same layer again: 0.01, then 0.02
    delta = net.layers[0].synapse.weight.detach() - before[0]
    assert torch.allclose(delta[2:], torch.full((2, 3), 0.03), atol=1e-5) and (delta[:2] == 0).all()
    assert torch.equal(net.layers[1].synapse.weight.detach(), before[1])
    assert (bump.last, bump.repeats) == (0, 1)
    with torch.no_grad():
        net.layers[0].synapse.weight.fill_(9.0)                      # fc1 recovers; out (limit 0) is next
    before_out = net.layers[1].synapse.weight.detach().clone()
    bump.after_step(net, net(x))
    delta = net.layers[1].synapse.weight.detach() - before_out
    assert torch.allclose(delta[1], torch.full((4,), 0.01), atol=1e-5) and (delta[0] == 0).all()   # no doubling
    assert (bump.last, bump.repeats) == (1, 0)


def test_a_neuron_silent_on_some_samples_only_is_left_alone():
    """fc1's neuron 2 fires for sample 0 only: it has a gradient through that sample, so fc1 (1 of 4 silent,
    under 0.3) is not bumped; the output layer, whose output 1 never fires, is."""
    net, x, bump = hand_network("first-spike"), frames(), WeightBump(0.01, 2)
    before = [layer.synapse.weight.detach().clone() for layer in net.layers]
    bump.after_step(net, net(x))
    assert torch.equal(net.layers[0].synapse.weight.detach(), before[0]) and bump.last == 1


def test_a_count_readout_tolerates_silent_wrong_class_outputs():
    net, x, bump = hand_network("count"), frames(), WeightBump(0.01, 2)
    with torch.no_grad():
        net.layers[0].synapse.weight.fill_(9.0)
    before = net.layers[1].synapse.weight.detach().clone()
    bump.after_step(net, net(x))                                     # out: 1 of 2 silent = 0.5, limit (2-1)/2
    assert torch.equal(net.layers[1].synapse.weight.detach(), before) and bump.last is None
    with pytest.raises(ValueError, match="weight bumping reads ModelOutput.spike_times"):
        bump.after_step(net, net(x)._replace(spike_times=None))
