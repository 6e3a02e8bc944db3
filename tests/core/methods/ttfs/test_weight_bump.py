"""Weight bumping, hand-built: hidden layers by missing (sample, neuron) spikes, the output by silent true classes."""
from __future__ import annotations

import pytest
import torch

from snn_core.config.run_config import RunConfig
from snn_core.methods.ttfs.exact_network import ExactNetwork, build_exact_model
from snn_core.methods.ttfs.weight_bump import MAX_DOUBLINGS, WeightBump, missing_spikes, neurons_to_bump

EXACT = {"engine": "exact", "encoding": "latency", "neuron": "cuba", "readout": "first-spike", "max-spikes": 1}
INF = float("inf")


def hand_network() -> ExactNetwork:
    """3 inputs -> fc1 (4) -> out (2). fc1: neurons 0, 1 fire on any input, neuron 2 only on input 2,
    neuron 3 never (negative weights). out: output 0 fires, output 1 never."""
    cfg = RunConfig().with_values({**EXACT, "hidden": (4,), "T": 6, "weight-bump": 0.01})
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


def test_missing_spikes_are_read_per_sample_and_neuron():
    times = torch.tensor([[[1.0], [INF], [INF]], [[INF], [2.0], [INF]]])               # (B=2, N=3, K=1)
    assert missing_spikes(times).tolist() == [[False, True, True], [True, False, True]]


def test_a_hidden_layer_is_bumped_past_30_percent_missing_on_the_neurons_that_missed():
    hidden = torch.tensor([[[1.0], [INF], [1.0], [1.0]], [[1.0], [1.0], [1.0], [1.0]]])   # 1 of 8 missing
    out = torch.tensor([[[1.0], [INF]], [[INF], [1.0]]])                                  # labels' outputs fire
    labels = torch.tensor([0, 1])
    assert neurons_to_bump((hidden, out), labels) == [None, None]
    hidden[1, 2, 0] = hidden[1, 3, 0] = INF                                               # 3 of 8 = 0.375 > 0.3
    masks = neurons_to_bump((hidden, out), labels)
    assert masks[0].tolist() == [False, True, True, True] and masks[1] is None


def test_the_output_is_bumped_only_for_classes_silent_on_their_own_samples():
    out = torch.tensor([[[INF], [1.0], [INF]], [[1.0], [INF], [INF]], [[INF], [INF], [2.0]]])   # (B=3, C=3)
    # wrong-class outputs silent everywhere: no bump; the loss wants them silent
    assert neurons_to_bump((out,), torch.tensor([1, 0, 2])) == [None]
    # sample 2 is class 1, whose output is silent on it: only output 1 is bumped
    assert neurons_to_bump((out,), torch.tensor([1, 0, 1]))[0].tolist() == [False, True, False]


def test_every_layer_over_its_limit_is_bumped_and_the_doubling_stops_at_its_cap():
    net, x, bump = hand_network(), frames(), WeightBump(0.01, 2)
    with torch.no_grad():
        net.layers[0].synapse.weight[2] = -1.0                       # fc1: neurons 2 and 3 never fire: 4 of 8
    labels = torch.tensor([1, 1])                                    # output 1 never fires
    before = [layer.synapse.weight.detach().clone() for layer in net.layers]
    steps = MAX_DOUBLINGS + 3
    for _ in range(steps):
        bump.after_step(net, net(x), labels)
    total = sum(0.01 * 2.0 ** min(r, MAX_DOUBLINGS) for r in range(steps))
    fc1, out = (layer.synapse.weight.detach() - old for layer, old in zip(net.layers, before))
    assert torch.allclose(fc1[2:], torch.full((2, 3), total), atol=1e-5) and (fc1[:2] == 0).all()
    assert torch.allclose(out[1], torch.full((4,), total), atol=1e-5) and (out[0] == 0).all()
    assert bump.repeats == [steps - 1, steps - 1]


def test_a_layer_within_its_limit_restarts_its_doubling():
    net, x, bump = hand_network(), frames(), WeightBump(0.01, 2)
    labels = torch.tensor([1, 1])
    bump.after_step(net, net(x), labels)                             # fc1: 3 of 8 missing (neuron 2 on sample 1, 3)
    bump.after_step(net, net(x), labels)
    assert bump.repeats == [1, 1]
    bump.after_step(net, net(x), torch.tensor([0, 0]))               # output 0 fires on both: the output rests
    assert bump.repeats[1] == -1
    with pytest.raises(ValueError, match="weight bumping reads ModelOutput.spike_times"):
        bump.after_step(net, net(x)._replace(spike_times=None), labels)
