"""AppTest of Train & watch's Cost per sample panel (snn_app.cost_panel): per-layer operations and energy of the run's
latest evaluation, re-priced by the page's two inputs without touching the run, the twin's values and twin − main,
and the network view coloured by each layer's share of the energy.

Play trains in the session's background thread; a test waits for it (``wait_for_training``)."""
import json

import pytest

from app_runner import open_script as first_run
from app_runner import wait_for_training
from snn_core.metrics.cost import COST_EQUATIONS, EnergyModel
from snn_viz.cost_figures import energy_text, energy_unit

PAGE = {"encoding": "poisson", "hidden": "16,12"}      # spikes into fc1 too: every layer has synaptic operations
PRICE_AC, PRICE_MAC = "cost_price:e_ac_pj", "cost_price:e_mac_pj"
LAYERS = ("fc1", "fc2", "readout")


TABLES = ("main", "twin", "twin − main")       # the tables in the order the page shows them (one without a twin)


def table(at, which: str = "main"):
    """The shown table ``which`` (a DataFrame)."""
    return at.dataframe[TABLES.index(which)].value


def energy_column(frame) -> tuple[str, float]:
    """The energy column's name and the size of its unit in pJ."""
    name = next(column for column in frame.columns if column.startswith("energy ("))
    unit = name.removeprefix("energy (").removesuffix(")")
    return name, {"pJ": 1.0, "nJ": 1e3, "µJ": 1e6, "mJ": 1e9}[unit]


def energy_pj(frame) -> list[float]:
    """The layers' energies (the total row left out), back in pJ."""
    name, size = energy_column(frame)
    return [value * size for value in frame[name][:-1]]


def chart(at, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def trained(tiny_values, **more):
    at = first_run("app_pages/train.py", tiny_values(PAGE, **more))
    at.button(key="play_pause").click().run()
    return wait_for_training(at)


def test_the_panel_shows_each_layers_operations_energy_and_firing_rate_after_a_tiny_run(tiny_values):
    at = trained(tiny_values)
    assert not at.exception
    evaluation = at.session_state.trainer.last_evaluation
    cost, rates = evaluation.cost, evaluation.activity.firing_rate
    shown = table(at)
    assert list(shown["layer"]) == ["fc1", "fc2", "readout", "total"]
    assert list(shown["driven by"][:3]) == ["input", "fc1", "fc2"]
    name, size = energy_column(shown)
    assert energy_unit(cost.energy_pj)[1] == size
    for layer, counts in cost.layers.items():
        row = shown[shown["layer"] == layer]
        assert row["SOPs"].item() == pytest.approx(counts.synaptic_ops, abs=0.05)              # to 0.1 per sample
        assert row["dense MACs"].item() == pytest.approx(counts.dense_macs, abs=0.05)
        assert row[name].item() * size == pytest.approx(cost.layer_energy_pj[layer])
        assert row["share"].item() == pytest.approx(cost.energy_share[layer])
    assert shown["firing rate"].tolist() == [f"{rates['fc1']:.3g}", f"{rates['fc2']:.3g}", "—", "—"]   # no spikes: —
    assert shown["SOPs"].iloc[-1] == pytest.approx(cost.synaptic_ops, abs=0.05) and cost.synaptic_ops > 0
    assert shown[name].iloc[-1] * size == pytest.approx(cost.energy_pj)
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["energy"] == energy_text(cost.energy_pj)
    assert metrics["SNN / ANN"] == f"{cost.energy_pj / cost.ann_energy_pj:.2f}×"
    assert any(energy_text(cost.ann_energy_pj) in caption.value for caption in at.caption)   # the ANN equivalent
    bars = chart(at, "cost_bars")
    assert [trace["x"] for trace in bars["data"]] == [["fc1", "fc2", "readout"]] * 2
    network = chart(at, "network_diagram")                          # coloured by each layer's share of the energy
    fc1 = next(trace for trace in network["data"] if trace.get("name") == "fc1")
    assert fc1["marker"]["color"][0] == pytest.approx(cost.energy_share["fc1"]) and fc1["marker"]["showscale"]


def test_re_pricing_changes_the_energy_not_the_operations_and_does_not_reset_the_run(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE, epochs=2))
    at.button(key="step").click().run()                  # one step per epoch in the tiny base: the first epoch closes
    trainer, live = at.session_state.trainer, at.session_state.live
    assert trainer.epoch == 1 and not at.exception
    before = table(at)
    assert at.number_input(key=PRICE_AC).value == pytest.approx(0.9)
    at.number_input(key=PRICE_AC).set_value(1.8).run()
    at.number_input(key=PRICE_MAC).set_value(2.3).run()
    after = table(at)
    assert at.session_state.trainer is trainer and live.main is trainer and trainer.steps == 1 and trainer.epoch == 1
    assert len(live.logs()[0]) == 1 and not at.exception
    assert after["SOPs"].tolist() == before["SOPs"].tolist()
    assert after["dense MACs"].tolist() == before["dense MACs"].tolist()
    prices = EnergyModel(e_ac_pj=1.8, e_mac_pj=2.3)
    repriced = trainer.last_evaluation.cost.priced(prices)
    assert energy_pj(after) == pytest.approx([repriced.layer_energy_pj[n] for n in LAYERS])
    assert energy_pj(after) != pytest.approx(energy_pj(before))
    network = chart(at, "network_diagram")                 # the network view follows the prices too
    fc1 = next(trace for trace in network["data"] if trace.get("name") == "fc1")
    assert fc1["marker"]["color"][0] == pytest.approx(repriced.energy_share["fc1"])
    at.button(key="step").click().run()                     # the run goes on from where it was, at the new prices
    assert trainer.steps == 2 and trainer.epoch == 2 and at.session_state.trainer is trainer
    latest = trainer.last_evaluation.cost.priced(prices)
    assert energy_pj(table(at)) == pytest.approx([latest.layer_energy_pj[n] for n in LAYERS])


def test_the_prices_survive_leaving_the_page(tiny_values):
    """Streamlit forgets a widget's value once a page without it has run; the prices are kept in the session."""
    at = first_run("app.py", tiny_values(PAGE, epochs=2))
    at.switch_page("app_pages/train.py").run()
    at.button(key="step").click().run()
    at.number_input(key=PRICE_MAC).set_value(9.2).run()
    at.switch_page("app_pages/playground.py").run()
    assert PRICE_MAC not in at.session_state                                 # the input's own value is gone
    at.switch_page("app_pages/train.py").run()
    assert at.number_input(key=PRICE_MAC).value == pytest.approx(9.2) and not at.exception
    cost = at.session_state.trainer.last_evaluation.cost.priced(EnergyModel(e_mac_pj=9.2))
    assert energy_pj(table(at)) == pytest.approx([cost.layer_energy_pj[n] for n in LAYERS])


def test_a_twin_shows_its_own_costs_and_twin_minus_main_per_layer(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    at.toggle(key="twin_on").set_value(True).run()
    at.selectbox(key="twin_setting").set_value("spike cap K").run()
    at.button(key="play_pause").click().run()
    wait_for_training(at)
    assert not at.exception
    main, twin = at.session_state.trainer.last_evaluation, at.session_state.live.twin.last_evaluation
    assert [tab.label for tab in at.tabs] == ["main", "twin (max-spikes=1)", "twin − main"]
    difference = table(at, "twin − main")
    name, size = energy_column(difference)
    assert list(difference["layer"]) == ["fc1", "fc2", "readout", "total"]
    for layer in ("fc1", "fc2", "readout"):
        row = difference[difference["layer"] == layer]
        assert row["SOPs"].item() == pytest.approx(
            twin.cost.layers[layer].synaptic_ops - main.cost.layers[layer].synaptic_ops, abs=0.1)
        assert row[name].item() == pytest.approx(
            (twin.cost.layer_energy_pj[layer] - main.cost.layer_energy_pj[layer]) / size)
        assert row["share"].item() == pytest.approx(twin.cost.energy_share[layer] - main.cost.energy_share[layer])
    assert difference["firing rate"][0] == f"{twin.activity.firing_rate['fc1'] - main.activity.firing_rate['fc1']:.3g}"
    twin_table = table(at, "twin")
    assert twin_table["SOPs"].iloc[-1] == pytest.approx(twin.cost.synaptic_ops, abs=0.05)
    deltas = {metric.label: metric.proto.delta for metric in at.metric if metric.proto.delta}
    assert deltas["energy"].lstrip("+-") == energy_text(abs(twin.cost.energy_pj - main.cost.energy_pj))
    assert deltas["SOPs"][0] in "+-" and "dense MACs" in deltas
    bars = chart(at, "cost_bars")
    assert len({trace["offsetgroup"] for trace in bars["data"]}) == 2               # main and twin side by side


def test_before_the_first_evaluation_there_is_no_panel_and_the_explanation_is_always_there(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE, epochs=2, train_samples=200))
    at.button(key="step").click().run()
    assert at.session_state.trainer.last_evaluation is None
    assert "cost_bars" not in [c.key for c in at.get("plotly_chart")] and not at.dataframe
    assert any("cost per sample appear after the first epoch" in caption.value for caption in at.caption)
    explained = next(e for e in at.expander if e.label == "How operations and energy are counted")
    assert COST_EQUATIONS in [latex.value.removeprefix("$$\n").removesuffix("\n$$") for latex in explained.latex]
    text = " ".join(caption.value for caption in explained.caption)
    assert "A spike costs its fan-out" in text and "memory access" in text and "ASA" in text


def test_the_network_view_is_not_coloured_when_the_sidebar_describes_another_network(tiny_values):
    at = trained(tiny_values)
    at.session_state.config = at.session_state.trainer.cfg.with_values({"hidden": "16"})   # what the sidebar does
    at.run()
    network = chart(at, "network_diagram")
    assert not any(trace.get("marker", {}).get("showscale") for trace in network["data"])
    assert table(at) is not None                      # the panel still shows the run's costs
