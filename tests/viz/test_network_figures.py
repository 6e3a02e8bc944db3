"""The network diagram (snn_viz.network_figures): the layers a config builds, their counts, and where ASA gates."""
from snn_core.config.run_config import RunConfig
from snn_viz.network_figures import MAX_NODES, SHARE_SCALE, network_columns, network_diagram
from snn_viz.style import INK


def trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def texts(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def test_the_default_mlp_is_input_one_hidden_layer_and_a_rate_readout():
    cfg = RunConfig()
    columns = network_columns(cfg)
    assert [(c.name, c.kind, c.count) for c in columns] == [("input", "input", 64), ("fc1", "fc", 128),
                                                            ("readout", "readout", 10)]
    assert columns[0].detail == "1×8×8, direct coded, T = 8" and "rate (not spiking)" in columns[2].detail
    fig = network_diagram(cfg)
    assert len(trace(fig, "fc1").y) == MAX_NODES and len(trace(fig, "readout").y) == MAX_NODES
    assert "128 (drawn: 8)" in texts(fig) and "64 (drawn: 8)" in texts(fig)
    assert fig.layout.title.text == "The network: 64 → 128 → 10"
    assert not [t for t in fig.data if t.name == "methods"] and not fig.layout.shapes


def test_conv_layers_show_channels_pooled_sizes_and_the_asa_gates_on_the_layers_it_names():
    cfg = RunConfig().with_values({"dataset": "events-shape", "arch": "conv", "channels": "16,32", "hidden": "128,4",
                                   "asa": "clean", "asa-layers": "2", "readout": "count"})
    columns = network_columns(cfg)
    assert [c.name for c in columns] == ["input", "conv1", "conv2", "fc1", "fc2", "out"]
    assert [c.count for c in columns] == [2 * 32 * 32, 16, 32, 128, 4, 5]
    assert columns[1].detail == "16 ch × 16×16" and columns[2].detail == "32 ch × 8×8"   # pooled while wider than 8
    assert [c.marks for c in columns] == [(), (), ("ASA clean",), (), (), ()]
    fig = network_diagram(cfg)
    gates = trace(fig, "methods")
    assert list(gates.x) == [2] and list(gates.text) == ["ASA clean"] and len(fig.layout.shapes) == 1
    assert "⬢ ASA clean" in texts(fig)
    assert len(trace(fig, "fc2").y) == 4 and "4" in texts(fig)                  # narrow layers: every node drawn
    assert "5 classes, spiking, count" in columns[-1].detail


def test_asa_on_every_conv_layer_when_it_names_none_and_a_folder_of_unknown_size():
    cfg = RunConfig().with_values({"dataset": "event-folder", "arch": "conv", "channels": "8,8,8", "asa": "faithful"})
    columns = network_columns(cfg)
    assert [c.marks for c in columns if c.kind == "conv"] == [("ASA faithful",)] * 3
    assert columns[0].count == 0 and "size read from the files" in columns[0].detail
    assert columns[-1].count == 0 and "classes of the folder" in columns[-1].detail
    assert list(trace(network_diagram(cfg), "methods").x) == [1, 2, 3]


def test_a_runs_energy_shares_colour_its_layers_on_one_scale_with_a_colour_bar():
    cfg = RunConfig().with_values({"hidden": "32,16"})
    shares = {"fc1": 0.75, "fc2": 0.2, "readout": 0.05, "conv9": 1.0}             # conv9: not in this network
    fig = network_diagram(cfg, shares)
    coloured = {name: trace(fig, name).marker for name in ("fc1", "fc2", "readout")}
    for name, marker in coloured.items():
        assert list(marker.color) == [shares[name]] * len(trace(fig, name).y)
        assert (marker.cmin, marker.cmax) == (0, 1) and marker.colorscale[0][1] == SHARE_SCALE[0][1]
    assert [marker.showscale for marker in coloured.values()] == [True, False, False]   # one colour bar
    assert "share of" in coloured["fc1"].colorbar.title.text
    assert trace(fig, "input").marker.color == INK                                  # the input costs nothing here
    assert {"75%", "20%", "5%"} <= set(texts(fig)) and "100%" not in texts(fig)
    assert "share of the run's energy" in fig.layout.title.subtitle.text
    plain = network_diagram(cfg)
    assert not any(t.marker.showscale for t in plain.data if t.mode == "markers")
    assert "75%" not in texts(plain) and "energy" not in plain.layout.title.subtitle.text
