"""NIR export -> file -> import gives the same network: identical spikes on test samples, for a digits MLP and an
events-shape conv net, and the same weights, bit for bit, once BatchNorm is folded; plus the hand-checked parameter
maps (r = 1 with the gain 1/(1 - beta) in the synapse; at the default dt = 1e-4) and the file ``nir.read`` opens."""
import math

import nir
import numpy as np
import pytest
import torch

from snn_core.checkpoint import load_weights
from snn_core.interop.nir_graph import ReaderWarning, export_nir, graph_from_bytes, graph_to_bytes
from snn_core.interop.nir_import import import_nir
from snn_core.interop.nir_neurons import from_node, input_scale, to_node
from snn_core.methods.registry import build_model
from snn_core.neurons.cuba import CUBAParams
from snn_core.neurons.lif import LIFParams
from snn_core.training.trainer import Trainer

DIGITS_MLP = {"threshold": 0.3, "batch-size": 32}
EVENTS_CONV = {"dataset": "events-shape", "arch": "conv", "channels": "4", "hidden": "16", "threshold": 0.1,
               "batch-size": 16, "T": 4}


def trained(tiny, settings: dict, steps: int = 3) -> Trainer:
    trainer = Trainer(tiny(settings))
    for _ in range(steps):
        trainer.step()
    trainer.model.eval()
    return trainer


def reimported(model: torch.nn.Module, cfg, frame_shape: tuple[int, ...], tmp_path) -> tuple[torch.nn.Module, object]:
    """``model`` exported at the default dt, written, read and imported: the new model and its config."""
    path = tmp_path / "model.nir"
    with pytest.warns(ReaderWarning):           # the default export always says Norse needs its dt
        nir.write(path, export_nir(model, cfg, frame_shape))
    saved = import_nir(nir.read(path))
    model = build_model(saved.cfg, saved.frame_shape, saved.n_classes)
    load_weights(model, saved.tensors)
    return model.eval(), saved.cfg


@pytest.mark.parametrize("settings", [DIGITS_MLP, {**DIGITS_MLP, "reset": "soft", "decay": 0.8},
                                      {**DIGITS_MLP, "neuron": "cuba", "threshold": 0.2},
                                      {**DIGITS_MLP, "readout": "count"}, EVENTS_CONV,
                                      {**EVENTS_CONV, "asa": "constant", "asa-constant-gate": 0.6, "threshold": 0.06},
                                      {**EVENTS_CONV, "asa": "scalar", "asa-constant-gate": 0.6, "threshold": 0.06},
                                      {**DIGITS_MLP, "hidden": "16,12", "plif": "on", "lr": 0.05},
                                      {**EVENTS_CONV, "plif": "on", "readout": "count", "lr": 0.05}],
                         ids=["digits-mlp", "soft-reset", "cuba", "count-readout", "events-conv", "constant-gate",
                              "learned-gate", "plif-mlp", "plif-conv-count"])
def test_export_then_import_gives_identical_spikes_and_logits(tiny, tmp_path, settings):
    trainer = trained(tiny, settings)
    frame_shape = tuple(trainer.dataset.frame_shape)
    model, cfg = reimported(trainer.model, trainer.cfg, frame_shape, tmp_path)
    x = trainer.inputs(trainer.dataset.test_x[:16], None)                       # (T, 16, ...)
    with torch.no_grad():
        ours, theirs = trainer.model(x), model(x)
    assert [s.shape for s in ours.spikes] == [s.shape for s in theirs.spikes]
    for layer, (a, b) in enumerate(zip(ours.spikes, theirs.spikes)):
        assert a.sum() > 0, f"layer {layer} is silent: the test would prove nothing"
        assert torch.equal(a, b), f"layer {layer}: {(a != b).sum().item()} spikes differ"
    torch.testing.assert_close(ours.logits, theirs.logits, rtol=1e-5, atol=1e-5)
    assert torch.equal(ours.predictions, theirs.predictions)
    assert all(isinstance(layer.gate, torch.nn.Identity) for layer in model.layers)   # a control's gate is folded
    if trainer.cfg.methods.plif == "on":                       # each layer's learned decay came back as its own
        decays = [layer.fixed_neuron().decay for layer in trainer.model.layers]
        assert len(set(decays)) == len(decays)                 # the layers learned apart: PLIF had to come back
        assert [layer.fixed_neuron().decay for layer in model.layers] == pytest.approx(decays, rel=1e-6)
    again, _ = reimported(model, cfg, frame_shape, tmp_path)           # BatchNorm is folded now: nothing to round
    for name, tensor in model.state_dict().items():     # the synapses' scale s and the import's gain 1/s cancel
        assert torch.equal(again.state_dict()[name], tensor), f"{name} changed in a second round trip"


def test_the_graph_has_the_nodes_of_the_network_and_batch_norm_is_folded(tiny):
    trainer = trained(tiny, EVENTS_CONV, steps=1)
    graph = graph_from_bytes(graph_to_bytes(export_nir(trainer.model, trainer.cfg, (2, 32, 32))))
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    assert kinds == {"input": "Input", "conv1.pool": "AvgPool2d", "conv1.synapse": "Conv2d", "conv1.neuron": "LIF",
                     "flatten": "Flatten", "fc1.synapse": "Affine", "fc1.neuron": "LIF", "readout": "Affine",
                     "output": "Output"}
    assert [tuple(edge) for edge in graph.edges][:2] == [("input", "conv1.pool"), ("conv1.pool", "conv1.synapse")]
    norm, conv = trainer.model.layers[0].norm, trainer.model.layers[0].synapse[1]
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)               # (4,)
    folded, s = graph.nodes["conv1.synapse"], 1 / (1 - trainer.cfg.neuron.decay)   # the LIF's input scale: 2
    assert folded.weight.dtype == np.float64 and graph.nodes["conv1.neuron"].r.tolist() == np.ones((4, 16, 16)).tolist()
    np.testing.assert_allclose(folded.weight, s * (conv.weight * scale.view(-1, 1, 1, 1)).detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(folded.bias, s * (norm.bias - norm.running_mean * scale).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert graph.nodes["conv1.neuron"].v_threshold.shape == (4, 16, 16)
    assert graph.metadata["readout"] == "rate" and float(graph.metadata["dt"]) == 1e-4


def test_lif_maps_onto_nir_so_that_forward_euler_is_our_update():
    """beta = 0.75, dt = 1: tau = 1 / (1 - 0.75) = 4, r = 1, and the synapse before it takes s = 4, so the Euler
    step v + (dt/tau)(-v + r s I) is 0.75 v + I; by hand with v = 2, I = 0.5: 2 + 0.25 * (-2 + 4 * 0.5) = 2.0 =
    0.75 * 2 + 0.5. Read back, the gain dt r / tau = 0.25 = 1/s goes into the synapse."""
    params = LIFParams(decay=0.75, threshold=1.5, v_reset=-0.25)
    node, s = to_node("lif", params, (3,), dt=1.0), input_scale("lif", params)
    assert isinstance(node, nir.LIF) and s == 4.0
    assert node.tau.tolist() == [4.0] * 3 and node.r.tolist() == [1.0] * 3 and node.v_leak.tolist() == [0.0] * 3
    assert node.v_threshold.tolist() == [1.5] * 3 and node.v_reset.tolist() == [-0.25] * 3
    v, current = 2.0, 0.5
    assert v + (1.0 / node.tau[0]) * (-v + node.r[0] * s * current) == 0.75 * v + current == 2.0
    assert from_node(node, 1.0, "n") == ({"neuron": "lif", "decay": 0.75, "threshold": 1.5, "reset": "hard",
                                          "v-reset": -0.25}, 0.25)
    scaled = to_node("lif", LIFParams(decay=0.75), (1,), dt=1e-4)              # another time unit, same update
    assert math.isclose(scaled.tau[0], 4e-4) and scaled.r[0] == 1.0
    assert math.isclose(from_node(scaled, 1e-4, "n").settings["decay"], 0.75)
    assert math.isclose(from_node(scaled, 1e-4, "n").gain, 0.25)
    soft = to_node("lif", LIFParams(reset="soft"), (1,), 1.0)
    assert soft.metadata == {"reset": "subtract"} and from_node(soft, 1.0, "n").settings["reset"] == "soft"
    no_leak = to_node("lif", LIFParams(decay=1.0), (2,), 1e-4)               # dv/dt = r I with r = 1/dt: v += I
    assert isinstance(no_leak, nir.IF) and no_leak.r.tolist() == [1e4, 1e4]
    assert input_scale("lif", LIFParams(decay=1.0)) == 1.0
    assert from_node(no_leak, 1e-4, "n") == ({"neuron": "lif", "decay": 1.0, "threshold": 1.0, "reset": "hard",
                                              "v-reset": 0.0}, 1.0)


def test_cuba_maps_onto_nir_cubalif_with_the_current_scaled_by_one_minus_beta():
    """Both stages' gains are 1 (w_in = tau_syn/dt, r = tau_mem/dt) and the synapse takes s = 1 - beta: from rest,
    one unit of our input gives NIR's current 1 - beta and membrane (1 - beta) * 1, ours (1 - beta) I with I = 1."""
    p = CUBAParams(tau_syn=2.0, threshold=0.5)
    node, s = to_node("cuba", p, (1,), dt=1.0), input_scale("cuba", p)
    beta = p.beta                                                               # e^-1/4
    assert math.isclose(s, 1 - beta)
    i_nir = (1 - 1 / node.tau_syn[0]) * 0.0 + (node.w_in[0] / node.tau_syn[0]) * s * 1.0   # one unit input, from rest
    v_nir = (1 - 1 / node.tau_mem[0]) * 0.0 + (node.r[0] / node.tau_mem[0]) * i_nir
    assert math.isclose(i_nir, (1 - beta) * 1.0) and math.isclose(v_nir, (1 - beta) * 1.0)
    assert node.metadata == {"reset": "subtract"}
    settings, gain = from_node(node, 1.0, "n")
    assert math.isclose(settings["tau-syn"], 2.0) and math.isclose(gain * s, 1.0)
