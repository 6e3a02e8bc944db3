"""Cost per sample on Train & watch: per layer, the synaptic operations (SOPs), dense multiply-accumulates and
energy of the run's latest evaluation (``Evaluation.cost``, ``snn_core.metrics.cost``) beside the layer's firing
rate, with totals and the same network as an ANN (one dense pass); with a Compare live twin, the twin's values and
twin − main. The energy per operation is set on the page and only re-prices the counts (``CostMetrics.priced``):
the run is neither restarted nor reset. The prices are kept in the session, so they survive visiting other pages.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import pandas as pd
import streamlit as st

from snn_core.config.run_config import RunConfig
from snn_core.methods.catalogue import METHODS
from snn_core.metrics.cost import COST_EQUATIONS, DEFAULT_ENERGY, CostMetrics, EnergyModel
from snn_core.training.evaluate import Evaluation
from snn_core.training.trainer import Trainer
from snn_viz.cost_figures import energy_text, energy_unit, layer_energy_bars, layer_names
from snn_viz.network_figures import network_columns
from snn_viz.style import PLOTLY_CONFIG

from . import state, twin
from .live import LiveRun

PRICES = {"e_ac_pj": ("pJ per accumulate", "energy of one accumulate: a spike arriving at one synapse"),
          "e_mac_pj": ("pJ per multiply-accumulate", "energy of one dense multiply-accumulate (MAC)")}
MAX_PRICE_PJ = 1e5
KEPT = "cost_prices"                  # the prices typed (EnergyModel field -> pJ), kept across pages
NETWORK_SHOWN = "cost_network_shown"      # what the network view was coloured by (``network_key``)
TOTAL = "total"
ENERGY = "energy"                     # the energy column, in pJ until ``_in_unit`` names its unit
OPERATIONS = ("SOPs", "dense MACs")
COLUMNS = ("firing rate", *OPERATIONS, ENERGY, "share")
NOT_SPIKING = "—"                # the firing-rate cell of a row that does not spike (the rate readout, the total)


class Shown(NamedTuple):
    """One run as the panel shows it: its name, trainer, latest evaluation and costs at the page's prices."""
    name: str
    trainer: Trainer
    evaluation: Evaluation
    cost: CostMetrics


def _widget_key(field: str) -> str:
    return f"cost_price:{field}"


def energy_model() -> EnergyModel:
    """The energy per operation set on the page (``EnergyModel``'s defaults until changed): the inputs' values, or
    the kept ones while the inputs are not drawn yet."""
    ss, kept = st.session_state, st.session_state.get(KEPT, {})
    return EnergyModel(**{field: float(ss.get(_widget_key(field), kept.get(field, getattr(DEFAULT_ENERGY, field))))
                          for field in PRICES})


def price_controls() -> EnergyModel:
    """The two number inputs (pJ per accumulate, pJ per MAC); their values are kept in ``KEPT`` (Streamlit forgets
    a widget's value once a page without it has run)."""
    ss = st.session_state
    kept = ss.setdefault(KEPT, {})
    for column, (field, (label, help_text)) in zip(st.columns(2), PRICES.items()):
        key = _widget_key(field)
        if key not in ss:
            ss[key] = float(kept.get(field, getattr(DEFAULT_ENERGY, field)))
        column.number_input(label, min_value=0.0, max_value=MAX_PRICE_PJ, step=0.1, format="%.2f", key=key,
                            help=f"{help_text}; default {getattr(DEFAULT_ENERGY, field)} pJ (45 nm, 32-bit float, "
                                 "Horowitz 2014). Changing it re-prices the counts; the run goes on.")
        kept[field] = ss[key]
    return energy_model()


def _values(cost: CostMetrics, firing_rate: dict[str, float]) -> dict[str, dict[str, float]]:
    """Per layer: its own firing rate, SOPs, dense MACs, energy (pJ) and share of the energy."""
    energy, share = cost.layer_energy_pj, cost.energy_share
    return {name: {"firing rate": firing_rate.get(name, math.nan), "SOPs": layer.synaptic_ops,
                   "dense MACs": layer.dense_macs, ENERGY: energy[name], "share": share[name]}
            for name, layer in cost.layers.items()}


def _in_unit(rows: list[dict], largest_pj: float) -> pd.DataFrame:
    """The rows as a table with the energy column in the unit ``largest_pj`` reads in (``energy_unit``), named so,
    and the operation counts (means over the test set) to 0.1 per sample."""
    unit, size = energy_unit(largest_pj)
    table = pd.DataFrame(rows)
    table[ENERGY] = table[ENERGY] / size
    table[list(OPERATIONS)] = table[list(OPERATIONS)].round(1)
    return table.rename(columns={ENERGY: f"energy ({unit})"})


def layer_table(cost: CostMetrics, firing_rate: dict[str, float]) -> pd.DataFrame:
    """One row per layer and a total: which layer's spikes drive its synapses, the layer's own firing rate
    (spikes per neuron per step), SOPs, dense MACs, energy (the unit of the total, in the column's name) and share."""
    names = list(cost.layers)
    rows = [{"layer": name, "driven by": names[index - 1] if index else "input", **values}
            for index, (name, values) in enumerate(_values(cost, firing_rate).items())]
    rows.append({"layer": TOTAL, "driven by": "", "firing rate": math.nan, "SOPs": cost.synaptic_ops,
                 "dense MACs": cost.dense_macs, ENERGY: cost.energy_pj, "share": 1.0 if cost.energy_pj > 0 else 0.0})
    return _in_unit(rows, cost.energy_pj)


def difference_table(main: tuple[CostMetrics, dict[str, float]], other: tuple[CostMetrics, dict[str, float]]
                     ) -> pd.DataFrame:
    """``other`` − ``main`` (twin − main) per layer, every layer of either run (blank where one lacks it), and in
    total; energy in the unit of the larger total."""
    (cost, _), (twin_cost, _) = main, other
    ours, theirs = _values(*main), _values(*other)
    rows = [{"layer": name, **{column: theirs[name][column] - ours[name][column] if name in ours and name in theirs
                               else math.nan for column in COLUMNS}}
            for name in layer_names([cost, twin_cost])]
    rows.append({"layer": TOTAL, "firing rate": math.nan, "SOPs": twin_cost.synaptic_ops - cost.synaptic_ops,
                 "dense MACs": twin_cost.dense_macs - cost.dense_macs, ENERGY: twin_cost.energy_pj - cost.energy_pj,
                 "share": math.nan})
    return _in_unit(rows, max(cost.energy_pj, twin_cost.energy_pj))


def _show_table(table: pd.DataFrame, key: str) -> None:
    table = table.assign(**{"firing rate": [NOT_SPIKING if math.isnan(rate) else f"{rate:.3g}"
                                            for rate in table["firing rate"]]})
    columns = {"firing rate": st.column_config.TextColumn(help="the layer's own spikes per neuron per step (they "
                                                          "drive the next layer's SOPs); — for the rate readout and "
                                                          "the total, which do not spike"),
               "SOPs": st.column_config.NumberColumn(format="localized", help="synaptic operations per sample: "
                                                     "spikes arriving at the layer × their fan-out"),
               "dense MACs": st.column_config.NumberColumn(format="localized", help="multiply-accumulates per "
                                                           "sample that no spike drives"),
               "share": st.column_config.NumberColumn(format="percent", help="the layer's part of the energy")}
    energy = next(name for name in table.columns if name.startswith("energy"))
    columns[energy] = st.column_config.NumberColumn(format="%.3f", help="per sample")
    st.dataframe(table, hide_index=True, column_config=columns, key=key)


def _signed(pj: float) -> str:
    """A difference of energies for ``st.metric``'s delta: an ASCII sign first (its arrow and colour follow it)."""
    return ("+" if pj >= 0 else "-") + energy_text(abs(pj))


def count_text(count: float, sign: bool = False) -> str:
    """An operation count per sample: whole numbers with separators from 100 on, three digits below (4.5); with
    ``sign``, a delta's ASCII sign always."""
    text = f"{abs(count):,.0f}" if abs(count) >= 100 else f"{abs(count):.3g}"
    return ("+" if count >= 0 else "-") + text if sign else ("-" if count < 0 else "") + text


def _ratio(cost: CostMetrics) -> float:
    return cost.energy_pj / cost.ann_energy_pj if cost.ann_energy_pj > 0 else math.nan


def _totals(cost: CostMetrics, main: CostMetrics | None = None) -> None:
    """Energy, SNN/ANN, SOPs and dense MACs per sample; with ``main``, each with twin − main below it."""
    values = [("energy", energy_text(cost.energy_pj), "per sample: e_AC × SOPs + e_MAC × dense MACs"),
              ("SNN / ANN", f"{_ratio(cost):.2f}×", "the energy against the same layers run as an ANN: one dense "
               f"pass, every connection a MAC ({count_text(cost.ann_macs)} MACs, {energy_text(cost.ann_energy_pj)} "
               "per sample)"),
              ("SOPs", count_text(cost.synaptic_ops), "synaptic operations per sample: accumulates driven by spikes"),
              ("dense MACs", count_text(cost.dense_macs), "multiply-accumulates per sample that no spike drives "
               "(analog input, a current gate's own maps)")]
    deltas: list[str | None] = [None] * len(values)
    if main is not None:
        deltas = [_signed(cost.energy_pj - main.energy_pj), f"{_ratio(cost) - _ratio(main):+.2f}×",
                  count_text(cost.synaptic_ops - main.synaptic_ops, sign=True),
                  count_text(cost.dense_macs - main.dense_macs, sign=True)]
    for column, (name, value, help_text), delta in zip(st.columns(len(values)), values, deltas):
        column.metric(name, value, delta, delta_color="inverse", help=help_text)


def evaluated(trainer: Trainer | None) -> tuple[Evaluation, CostMetrics] | None:
    evaluation = None if trainer is None else trainer.last_evaluation
    if evaluation is None or evaluation.cost is None:
        return None
    return evaluation, evaluation.cost


def network_key(live: LiveRun, cfg: RunConfig) -> tuple[int, EnergyModel] | None:
    """What the network view's colours show: the run's latest evaluation and the prices, when the run builds the
    network drawn (``cfg``, the sidebar's) and has been evaluated; None otherwise (the diagram's own colours)."""
    main = evaluated(live.main)
    if main is None or live.main is None or network_columns(live.main.cfg) != network_columns(cfg):
        return None
    return id(main[0]), energy_model()


def network_cost(live: LiveRun, cfg: RunConfig) -> CostMetrics | None:
    """The run's costs for the network view of ``cfg`` at the prices set, or None (see ``network_key``); what it
    shows is remembered, so the live panel can redraw the page when a new evaluation or price changes it."""
    key = st.session_state[NETWORK_SHOWN] = network_key(live, cfg)
    main = evaluated(live.main)
    return None if key is None or main is None else main[1].priced(key[1])


def show(live: LiveRun) -> None:
    """The panel inside the live view (nothing before the run's first evaluation): the prices, the totals with the
    ANN equivalent, the per-layer table (main, twin and twin − main with a twin) and the energy bars."""
    main = evaluated(live.main)
    if main is None or live.main is None:
        return
    with st.container(border=True):
        st.markdown("**Cost per sample**: the operations and energy of one test sample at the latest evaluation, "
                    "per layer (how they are counted: *How operations and energy are counted*, below)")
        energy = price_controls()
        if network_key(live, st.session_state.config) != st.session_state.get(NETWORK_SHOWN):
            st.rerun()             # a new evaluation or price: re-colour the network view (outside the fragment)
        runs = [Shown("main", live.main, main[0], main[1].priced(energy))]
        other = evaluated(live.twin)
        if other is not None and live.twin is not None:
            runs.append(Shown(twin.label(live.twin, live.main), live.twin, other[0], other[1].priced(energy)))
        st.caption(f"The same layers as an ANN (one dense pass, every connection a multiply-accumulate) cost "
                   f"{energy_text(runs[0].cost.ann_energy_pj)} per sample ({runs[0].cost.ann_macs:,.0f} MACs)"
                   + (" for the main run." if len(runs) > 1 else "."))
        if len(runs) == 1:
            _totals(runs[0].cost)
            _show_table(layer_table(runs[0].cost, runs[0].evaluation.activity.firing_rate), "cost_table")
        else:
            _pair(*runs)
        memo = ("cost_bars", energy, *((run.trainer.cfg, len(run.trainer.history), id(run.evaluation))
                                       for run in runs))
        st.plotly_chart(state.memo_figure(memo, lambda: layer_energy_bars([(run.name, run.cost) for run in runs])),
                        config=PLOTLY_CONFIG, key="cost_bars")


def _pair(main: Shown, other: Shown) -> None:
    """Main and twin: their totals (the twin's with twin − main) and three tables, one tab each."""
    st.markdown("**main**")
    _totals(main.cost)
    st.markdown(f"**{other.name}** · the small number is twin − main")
    _totals(other.cost, main.cost)
    pairs = ((main.cost, main.evaluation.activity.firing_rate), (other.cost, other.evaluation.activity.firing_rate))
    tables = (layer_table(*pairs[0]), layer_table(*pairs[1]), difference_table(*pairs))
    for tab, table, key in zip(st.tabs(["main", other.name, "twin − main"]), tables,
                               ("cost_table", "cost_twin", "cost_diff")):
        with tab:
            _show_table(table, key)


def explain() -> None:
    """What the panel counts, for a student: the equation and one paragraph (shown whether or not a run exists)."""
    gated = " and ".join(method.title.split(" (")[0] for method in METHODS if method.gates is not None)
    with st.expander("How operations and energy are counted"):
        st.latex(COST_EQUATIONS)
        st.caption(
            "**A spike costs its fan-out.** When a spike arrives at a synapse, the next layer adds that synapse's "
            "weight to a neuron's current: one accumulate (an addition, no multiplication) for every connection "
            "leaving the spiking input, f_i of them. So a layer's synaptic operations SOP_l are the spikes s_i(t) "
            "arriving at it, times their fan-out, summed over the T steps: the firing rate of the layer before and "
            "how many connections each input has decide it (a conv kernel covers many positions, so one spike "
            "there drives many accumulates). Some work is not driven by spikes and is counted as dense "
            "multiply-accumulates (MACs): an analog input (direct encoding) multiplies every value by every weight "
            "at each step whose frame changed, and a current gate computed from the currents"
            + (f" ({gated}'s)" if gated else "") + " runs its own convs and linear maps and multiplies every "
            "current element. The energy E prices each accumulate at e_AC and each MAC at e_MAC (set in the Cost "
            f"per sample panel; by default {DEFAULT_ENERGY.e_ac_pj} and {DEFAULT_ENERGY.e_mac_pj} pJ, 32-bit "
            "float at 45 nm, Horowitz 2014); E_ANN is the same network run once "
            "as an ANN, every connection one MAC. Left out: memory access and data movement (fetching weights and "
            "membrane potentials often costs more than the arithmetic on real chips), the neurons' own updates "
            "(leak, threshold, reset) and biases; BatchNorm and a gate that is one number fold into the weights "
            "and cost nothing. So read it as a count of arithmetic, not as a chip's power meter.")
