"""Operation counts and energy (``metrics.cost``) against hand-computed networks, and on trained runs: a spike costs
its fan-out, analog input and non-scalar gates are dense, a network with no spikes costs only its dense parts."""
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from snn_core import RunConfig
from snn_core.experiments.run import run_result
from snn_core.methods.asa.gate import ASA
from snn_core.metrics.cost import CostTally, EnergyModel, fan_out, gate_macs
from snn_core.results.run_result import Metrics, RunResult
from snn_core.training.evaluate import evaluate
from snn_core.training.trainer import Trainer


def two_layer_network(readout: bool = False):
    """fc1: 3 inputs -> 4 neurons; fc2: 4 -> 2 (fan-outs 4 and 2); an optional rate readout 2 -> 5."""
    layers = [SimpleNamespace(name="fc1", synapse=nn.Linear(3, 4), gate=nn.Identity()),
              SimpleNamespace(name="fc2", synapse=nn.Linear(4, 2), gate=None)]
    return SimpleNamespace(layers=layers, readout=nn.Linear(2, 5) if readout else None)


def test_a_hand_counted_two_layer_network_gives_the_expected_sops_and_energy():
    inputs = torch.tensor([[[1.0, 0.0, 1.0]], [[0.0, 1.0, 0.0]]])           # (T=2, B=1, 3): 3 input spikes
    fc1 = torch.tensor([[[1.0, 1.0, 0.0, 0.0]], [[0.0, 1.0, 1.0, 1.0]]])   # 5 spikes
    fc2 = torch.tensor([[[1.0, 0.0]], [[1.0, 1.0]]])                       # 3 spikes
    tally = CostTally(two_layer_network(readout=True))
    tally.add(inputs, (fc1, fc2))
    cost = tally.summary()
    assert {name: layer.synaptic_ops for name, layer in cost.layers.items()} == \
        {"fc1": 3 * 4, "fc2": 5 * 2, "readout": 3 * 5}
    assert cost.dense_macs == 0
    assert cost.energy_pj == pytest.approx(0.9 * (12 + 10 + 15))           # e_AC x SOPs
    assert cost.ann_macs == 3 * 4 + 4 * 2 + 2 * 5                          # one dense pass
    assert cost.ann_energy_pj == pytest.approx(4.6 * 30)
    priced = cost.priced(EnergyModel(e_ac_pj=0.1, e_mac_pj=1.0))
    assert priced.synaptic_ops == cost.synaptic_ops and priced.energy_pj == pytest.approx(0.1 * 37)
    assert sum(cost.energy_share.values()) == pytest.approx(1.0)
    assert cost.energy_share["fc1"] == pytest.approx(12 / 37)


def test_counts_are_per_sample_over_batches_and_event_counts_are_events():
    tally = CostTally(two_layer_network())
    silent = torch.zeros(1, 1, 4), torch.zeros(1, 1, 2)
    tally.add(torch.tensor([[[2.0, 0.0, 0.0]]]), silent)                   # a count of 2: two events
    tally.add(torch.tensor([[[0.0, 0.0, 0.0]]]), silent)
    cost = tally.summary()
    assert cost.layers["fc1"].synaptic_ops == 2 * 4 / 2                    # per sample: 8 SOPs over 2 samples
    assert cost.layers["fc2"].synaptic_ops == 0


def test_a_network_with_no_spikes_costs_only_its_dense_parts():
    frame = torch.tensor([[0.2, 0.5, 0.0]])                                 # analog (direct encoding)
    repeated = frame.unsqueeze(0).expand(4, 1, 3)                           # the same frame at T=4 steps
    silent = torch.zeros(4, 1, 4), torch.zeros(4, 1, 2)
    tally = CostTally(two_layer_network())
    tally.add(repeated, silent)
    cost = tally.summary()
    assert cost.synaptic_ops == 0
    assert cost.layers["fc1"].dense_macs == 3 * 4                           # multiplied once: the frame repeats
    assert cost.energy_pj == pytest.approx(4.6 * 12)
    changing = torch.stack([frame, frame * 0.5, frame * 0.5, frame])        # three changes of frame
    tally = CostTally(two_layer_network())
    tally.add(changing, silent)
    assert tally.summary().layers["fc1"].dense_macs == 3 * 3 * 4


def test_fan_out_counts_each_connection_of_a_conv_with_its_borders_and_pooling():
    conv = nn.Conv2d(1, 2, 3, padding=1)
    fan = fan_out(conv, (1, 3, 3))[0]
    assert fan[0, 0] == 4 * 2 and fan[0, 1] == 6 * 2 and fan[1, 1] == 9 * 2    # corner, edge, centre x 2 channels
    pooled = fan_out(nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(1, 2, 3, padding=1)), (1, 6, 6))[0]
    assert pooled[0, 0] == pooled[1, 1] == 4 * 2        # one pooled cell (a corner of the 3x3 pooled map)
    assert pooled[2, 2] == 9 * 2                         # the pooled map's centre
    assert fan_out(nn.Linear(5, 7), (5,)).tolist() == [7.0] * 5
    with pytest.raises(ValueError, match="MaxPool2d synapse; allowed: Linear, Conv2d"):
        fan_out(nn.MaxPool2d(2), (1, 4, 4))


def test_a_gate_that_is_one_number_is_free_and_asa_costs_its_maps_and_one_multiply_per_element():
    assert gate_macs(None, (4, 2, 2, 3, 3)) == 0 and gate_macs(nn.Identity(), (4, 2, 2, 3, 3)) == 0
    gate = ASA(time_steps=4, lam=0.5, variant="clean").eval()
    # per sample, T=4, C=2, 3x3: applying it 4*2*9 = 72, FC_T 2*4*4 = 32, two 2->1 3x3 convs 2*(2*9)*9 = 324
    assert gate_macs(gate, (4, 2, 2, 3, 3)) == 72 + 32 + 324


def tiny(**values) -> Trainer:
    return Trainer(RunConfig().with_values({"epochs": 1, "train-samples": 64, "test-samples": 40, **values}))


def test_a_runs_synaptic_operations_are_its_spikes_times_their_fan_out():
    trainer = tiny(encoding="poisson", hidden="12,6")
    result = evaluate(trainer)
    activity, cost = result.activity, result.cost
    assert cost is not None and cost.dense_macs == 0                        # Poisson input: every layer is spikes
    assert cost.layers["fc2"].synaptic_ops == pytest.approx(activity.spikes_per_sample["fc1"] * 6)
    assert cost.layers["readout"].synaptic_ops == pytest.approx(activity.spikes_per_sample["fc2"] * 10)
    assert cost.layers["fc1"].ann_macs == 64 * 12                           # 8x8 digits into 12 neurons


def test_direct_encoding_makes_the_first_layer_dense_and_asa_adds_dense_gate_work():
    plain = evaluate(tiny(arch="conv", hidden="16")).cost
    gated = evaluate(tiny(arch="conv", hidden="16", asa="clean")).cost
    assert plain is not None and gated is not None
    conv1 = plain.layers["conv1"]
    assert conv1.synaptic_ops == 0 and conv1.dense_macs == conv1.ann_macs        # the frame repeats: once
    assert gated.layers["conv1"].dense_macs > plain.layers["conv1"].dense_macs
    assert gated.layers["fc1"].dense_macs == 0


def test_the_cost_survives_the_json_round_trip_and_a_re_pricing():
    trainer = tiny()
    trainer.fit()
    run = run_result(trainer)
    assert run.metrics is not None and run.metrics.cost is not None
    again = RunResult.from_json(run.to_json())
    assert again.metrics is not None and again.metrics.cost == run.metrics.cost
    cheap = run.priced(EnergyModel(0.0, 0.0))
    assert cheap.metrics is not None and cheap.metrics.cost is not None and cheap.metrics.cost.energy_pj == 0
    broken = run.to_json()["metrics"]
    broken["cost"]["e_mac_pj"] = -1
    with pytest.raises(ValueError, match="metrics.cost: e_mac_pj=-1 is not valid"):
        Metrics.from_json(broken)
