"""PLIF (snn_core.methods.plif): a learnable decay per layer that starts at the config's decay, learns, is checked,
and reaches the CLI, the sidebar, Compare live, the network view and NIR export through its record alone."""
from __future__ import annotations

import json
import math

import pytest
import torch

from snn_core.cli import main
from snn_core.config.check import check
from snn_core.interop.nir_graph import export_nir
from snn_core.methods.catalogue import BY_NAME
from snn_core.methods.plif import learned_tau
from snn_core.methods.plif.decay import LearnableDecay
from snn_core.methods.registry import build_model
from snn_core.training.trainer import Trainer

TWO_LAYERS = {"hidden": "16,12", "readout": "count"}


def test_the_learnable_decay_starts_at_the_configs_decay_and_is_a_sigmoid():
    gate = LearnableDecay(0.6)
    assert float(gate.decay().detach()) == pytest.approx(0.6, abs=1e-7)
    assert gate.tau() == pytest.approx(-1 / math.log(0.6), rel=1e-6)
    with torch.no_grad():
        gate.logit.fill_(40.0)
    assert float(gate.decay().detach()) <= 1.0 and gate.tau() > 1e6                       # never past no leak
    with pytest.raises(ValueError, match="allowed: 0 < decay < 1"):
        LearnableDecay(1.0)


def test_plif_changes_nothing_at_initialisation(tiny):
    """Same seed, same initial weights, same output: the arms differ only in that the decay learns."""
    plain, plif = tiny(TWO_LAYERS), tiny(TWO_LAYERS, plif="on")
    torch.manual_seed(0)
    net_plain = build_model(plain, (1, 8, 8), 10)
    torch.manual_seed(0)
    net_plif = build_model(plif, (1, 8, 8), 10)
    x = (torch.rand(3, 5, 1, 8, 8) < 0.4).float()
    assert torch.equal(net_plain(x).logits, net_plif(x).logits)
    assert set(learned_tau(net_plif)) == {"fc1", "fc2", "out"} and learned_tau(net_plain) == {}
    assert set(net_plif.state_dict()) - set(net_plain.state_dict()) == {f"layers.{i}.dynamics.logit" for i in range(3)}


def test_each_layers_decay_learns_from_the_loss(tiny):
    trainer = Trainer(tiny(TWO_LAYERS, plif="on", lr=0.05), device="cpu")
    before = learned_tau(trainer.model)
    trainer.step()
    after = learned_tau(trainer.model)
    assert all(after[name] != before[name] for name in before)                  # every layer's tau moved
    assert all(layer.dynamics.logit.grad is not None for layer in trainer.model.layers)


@pytest.mark.parametrize("changes, message", [
    ({"neuron": "cuba"}, r"methods.plif \(--plif\)='on' learns the LIF's decay, but neuron.model"),
    ({"decay": 1.0}, r"neuron.decay \(--decay\)=1, where its logit is infinite"),
])
def test_what_plif_cannot_learn_is_refused_with_the_way_out(tiny, changes, message):
    problems = check(tiny(plif="on", **changes))
    assert len(problems) == 1 and __import__("re").search(message, problems[0]) and "--plif off" in problems[0]


def test_the_cli_trains_with_plif_and_its_json_carries_the_setting(tmp_path, tiny_values, capsys):
    out = tmp_path / "run.json"
    flags = [f"--{key}={value}" for key, value in tiny_values(plif="on").items()]
    assert main(["train", *flags, "--quiet", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["config"]["methods"]["plif"] == "on" and 0 <= result["metrics"]["test_accuracy"] <= 1


def test_nir_export_writes_each_layers_learned_decay_as_its_lif(tiny):
    trainer = Trainer(tiny(TWO_LAYERS, plif="on", lr=0.05), device="cpu")
    trainer.step()
    graph = export_nir(trainer.model, trainer.cfg, trainer.dataset.frame_shape, dt=1.0)
    for layer in trainer.model.layers:
        beta = float(layer.dynamics.decay().detach())
        assert graph.nodes[f"{layer.name}.neuron"].tau == pytest.approx(1 / (1 - beta), rel=1e-5)   # dt / (1 - beta)


def test_the_record_alone_puts_plif_in_the_sidebar_the_twin_menu_and_the_network_view(tiny):
    from snn_app.sidebar import BASIC, GROUPS
    from snn_app.twin import TWINS, options
    from snn_viz.network_figures import network_columns
    assert "plif" in GROUPS["Methods"] and "plif" in BASIC
    assert TWINS["PLIF"].cli == "plif" and options("plif") == ("off", "on")
    assert [column.marks for column in network_columns(tiny(TWO_LAYERS, plif="on"))][1:] == \
        [("PLIF learned τ",)] * 3
    assert BY_NAME["plif"].reading.values is learned_tau
