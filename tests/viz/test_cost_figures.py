"""The per-layer energy bars (snn_viz.cost_figures): one bar group per layer, each run's bar split into its
spike-driven and dense parts, with the CostMetrics' own values; energy units."""
import pytest

from snn_core.metrics.cost import CostMetrics, EnergyModel, LayerCost
from snn_core.training.trainer import Trainer
from snn_viz.cost_figures import DENSE_COLOUR, SPIKE_COLOUR, TWIN_PATTERN, energy_text, energy_unit, layer_energy_bars

MAIN = CostMetrics({"conv1": LayerCost(12_000.0, 3_000.0, 60_000.0), "fc1": LayerCost(400.0, 0.0, 8_000.0),
                    "readout": LayerCost(5.0, 0.0, 100.0)})
TWIN = CostMetrics({"conv1": LayerCost(9_000.0, 20_000.0, 60_000.0), "fc1": LayerCost(300.0, 0.0, 8_000.0),
                    "fc2": LayerCost(30.0, 0.0, 640.0), "readout": LayerCost(4.0, 0.0, 80.0)},
                   EnergyModel(e_ac_pj=1.0, e_mac_pj=3.0))


def test_energy_units_keep_the_largest_value_at_one_or_more():
    assert energy_unit(0.0) == ("pJ", 1.0) and energy_unit(999.0) == ("pJ", 1.0)
    assert energy_unit(1_000.0) == ("nJ", 1e3) and energy_unit(2.5e6) == ("µJ", 1e6)
    assert energy_unit(3e9) == ("mJ", 1e9)
    assert energy_text(4714.45) == "4.71 nJ" and energy_text(0.45) == "0.45 pJ" and energy_text(0.0) == "0 pJ"


def test_one_bar_group_per_layer_with_the_costs_values():
    fig = layer_energy_bars([("main", MAIN)])
    assert [trace.name for trace in fig.data] == ["main: spikes (accumulates)", "main: dense (multiply-accumulates)"]
    spikes, dense = fig.data
    assert list(spikes.x) == list(dense.x) == ["conv1", "fc1", "readout"]           # one group per layer
    assert spikes.offsetgroup == dense.offsetgroup == "main"                         # stacked in one bar
    assert fig.layout.yaxis.title.text == "energy (nJ)"                              # 24.6 nJ in conv1
    energy = MAIN.layer_energy_pj
    for index, (name, layer) in enumerate(MAIN.layers.items()):
        assert spikes.y[index] == pytest.approx(0.9 * layer.synaptic_ops / 1e3)
        assert dense.y[index] == pytest.approx(4.6 * layer.dense_macs / 1e3)
        assert dense.base[index] == pytest.approx(spikes.y[index])                   # dense on top of spikes
        assert spikes.y[index] + dense.y[index] == pytest.approx(energy[name] / 1e3)  # the bar is the layer
    assert spikes.marker.color == SPIKE_COLOUR and dense.marker.color == DENSE_COLOUR


def test_main_and_twin_side_by_side_each_priced_by_its_own_model_and_every_layer_of_either():
    fig = layer_energy_bars([("main", MAIN), ("twin (asa=clean)", TWIN)])
    assert len(fig.data) == 4 and fig.layout.barmode == "group"
    assert {trace.offsetgroup for trace in fig.data} == {"main", "twin (asa=clean)"}
    assert all(list(trace.x) == ["conv1", "fc1", "readout", "fc2"] for trace in fig.data)
    main_spikes, _, twin_spikes, twin_dense = fig.data
    assert main_spikes.y[3] == 0                                                     # the main run has no fc2
    assert twin_spikes.y[0] == pytest.approx(9.0) and twin_dense.y[0] == pytest.approx(60.0)   # 1 pJ, 3 pJ, in nJ
    assert twin_spikes.marker.pattern.shape == TWIN_PATTERN and not main_spikes.marker.pattern.shape


def test_a_real_evaluations_costs_are_drawn_as_they_are(tiny):
    cost = Trainer(tiny(encoding="poisson", hidden="16,12")).evaluate().cost
    fig = layer_energy_bars([("main", cost)])
    unit, size = energy_unit(max(cost.layer_energy_pj.values()))
    assert fig.layout.yaxis.title.text == f"energy ({unit})"
    assert list(fig.data[0].x) == ["fc1", "fc2", "readout"]
    totals = [s + d for s, d in zip(fig.data[0].y, fig.data[1].y)]
    assert totals == pytest.approx([value / size for value in cost.layer_energy_pj.values()])
    assert cost.synaptic_ops > 0                                                      # poisson input: spikes


def test_no_runs_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        layer_energy_bars([])
