"""The network interface: both engines satisfy it, fixed-shape outputs, resuming after k layers, one-way imports."""
from __future__ import annotations

import ast
import pathlib

import pytest
import torch

from snn_core.config.run_config import RunConfig
from snn_core.methods.registry import build_model
from snn_core.network.protocol import Network

EXACT = {"engine": "exact", "encoding": "latency", "neuron": "cuba", "readout": "first-spike", "max-spikes": 1,
         "hidden": "8", "T": 6}
CORE = pathlib.Path(__file__).resolve().parent.parent / "snn_core"


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
    spikes = rate(torch.rand(4, 5, 64)).spikes
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


def _runtime_imports(path: pathlib.Path) -> set[str]:
    """Absolute ``snn_core`` modules that ``path`` imports when run (not under ``if TYPE_CHECKING``)."""
    package = ["snn_core", *path.relative_to(CORE).parent.parts]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            found.add(".".join([*base, *(node.module or "").split(".")]).strip("."))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("snn_core")}


@pytest.mark.parametrize("room, above", [
    ("network", ("config", "methods", "metrics", "training", "experiments", "report")),
    ("methods", ("training", "experiments", "report")),     # config only where it builds configs (presets)
])
def test_imports_point_down_only(room, above):
    for path in (CORE / room).rglob("*.py"):
        bad = {name for name in _runtime_imports(path) for part in above if name.startswith(f"snn_core.{part}")}
        assert not bad, f"{path.relative_to(CORE)} imports {sorted(bad)} at run time"
