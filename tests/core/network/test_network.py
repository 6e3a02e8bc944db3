"""The network interface: both engines satisfy it, fixed-shape outputs and recording, resuming after k layers."""
from __future__ import annotations

import pytest
import torch

from snn_core.config.run_config import RunConfig
from snn_core.methods.registry import build_model
from snn_core.network.protocol import Network

EXACT = {"engine": "exact", "encoding": "latency", "neuron": "cuba", "readout": "first-spike", "max-spikes": 1,
         "hidden": "8", "T": 6}

FIRST_SPIKE = {"readout": "first-spike", "encoding": "latency", "max-spikes": 1, "neuron": "cuba", "T": 6,
               "epochs": 2, "train-samples": 60, "threshold": 0.3}      # changes from the tiny base


@pytest.mark.parametrize("values", [{}, {"readout": "count"}, EXACT])
def test_both_engines_satisfy_the_interface_and_always_predict(values):
    model = build_model(RunConfig().with_values(values), (64,), 10)
    assert isinstance(model, Network)
    assert model.layer_names == [layer.name for layer in model.layers]
    out = model(torch.rand(6, 3, 64).round())                     # (T, B, features)
    assert out.predictions.shape == (3,) and out.trace is None
    assert len(out.spikes) == len(model.layers) and all(s.shape[:2] == (6, 3) for s in out.spikes)
    assert not isinstance(model.layers[0], Network)


def test_resume_with_every_layer_given_runs_only_the_readout():
    model = build_model(RunConfig().with_values({"hidden": "8,6"}), (64,), 10).eval()
    plain = model(torch.rand(4, 5, 64))
    assert model.last_hidden == 1
    assert torch.equal(model.resume(plain.spikes).logits, plain.logits)


def test_resume_refuses_what_it_cannot_continue_from():
    rate = build_model(RunConfig().with_values({"hidden": "8,6"}), (64,), 10)
    rate(torch.rand(4, 5, 64))                                      # it runs forward
    with pytest.raises(ValueError, match=r"spikes of 0 layer\(s\) given; allowed: the first 1..2 layers"):
        rate.resume(())
    counting = build_model(RunConfig().with_values({"hidden": "8", "readout": "count"}), (64,), 10)
    assert counting.last_hidden == 0                                # the layer before "out"
    with pytest.raises(ValueError, match=r"spikes of 2 layer\(s\) given; allowed: the first 1..1 layers"):
        counting.resume(counting(torch.rand(4, 5, 64)).spikes)     # "out" itself must run


def test_layer_spikes_flattens_where_the_fully_connected_part_starts():
    model = build_model(RunConfig().with_values({"arch": "conv", "channels": "4", "hidden": "6"}), (1, 8, 8), 3).eval()
    x = torch.rand(3, 2, 1, 8, 8)                                    # (T, B, C, H, W)
    out = model(x)
    conv = model.layer_spikes(0, x)
    assert conv.shape == (3, 2, 4, 8, 8) and torch.equal(conv, out.spikes[0])
    assert torch.equal(model.layer_spikes(1, conv), out.spikes[1])  # (T, B, 6) from the flattened conv spikes


@pytest.mark.parametrize("arch,names", [("mlp", ["fc1"]), ("conv", ["conv1", "conv2", "fc1"])])
def test_forward_shapes_and_recording(tiny, arch, names):
    cfg = tiny(arch=arch, channels="4,8", hidden=32)
    model = build_model(cfg, (1, 8, 8), 10)
    x = torch.rand(3, 5, 1, 8, 8)                                  # (T, B, C, H, W)
    out = model(x)
    assert out.logits.shape == (5, 10) and out.trace is None
    assert [s.shape[:2] for s in out.spikes] == [(3, 5)] * len(names)
    traced = model(x, record=torch.tensor([1, 3]))
    assert [layer.name for layer in traced.trace.layers] == names
    first = traced.trace.layers[0]
    assert first.spikes.dtype == torch.bool and first.spikes.shape[:2] == (3, 2)
    assert first.v_pre.shape == first.v_post.shape == first.current.shape == first.spikes.shape
    assert torch.equal(first.spikes, traced.spikes[0][:, [1, 3]].bool())
    assert traced.trace.logits.shape == (3, 2, 10)


def test_conv_layers_pool_wide_inputs_before_convolving(tiny):
    model = build_model(tiny(arch="conv", channels="4,8", hidden=""), (2, 32, 32), 4)
    spikes = model(torch.rand(2, 1, 2, 32, 32)).spikes
    assert [tuple(s.shape[2:]) for s in spikes] == [(4, 16, 16), (8, 8, 8)]


def test_first_spike_model_has_a_spiking_output_layer(tiny):
    cfg = tiny(FIRST_SPIKE)
    model = build_model(cfg, (1, 8, 8), 10)
    assert model.layer_names == ["fc1", "out"] and model.readout is None
    out = model(torch.rand(6, 3, 1, 8, 8), record=torch.tensor([0]))
    assert out.logits.shape == (3, 10) and out.predictions.shape == (3,)
    assert out.spikes[-1].shape == (6, 3, 10) and out.output_potential.shape == (6, 3, 10)
    assert out.trace.logits.shape == (6, 1, 10) and [t.name for t in out.trace.layers] == ["fc1", "out"]
    rate = build_model(RunConfig(), (1, 8, 8), 10)(torch.rand(6, 3, 1, 8, 8))
    assert torch.equal(rate.predictions, rate.logits.argmax(1))
