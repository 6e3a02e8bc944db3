"""What a forward pass costs, per layer (``snn_core.metrics.cost``): energy bars split into the spike-driven part
(accumulates, e_AC per synaptic operation) and the dense part (multiply-accumulates no spike drives, e_MAC each),
a run beside its twin. Energies are in one unit per figure (pJ, nJ, µJ or mJ, the largest that keeps the biggest
bar at 1 or more), so bars compare at a glance."""
from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from snn_core.metrics.cost import CostMetrics

from .style import styled

SPIKE_COLOUR = "#2F7FBF"        # accumulates driven by spikes
DENSE_COLOUR = "#C8553D"        # dense multiply-accumulates (analog input, a current gate's own maps)
TWIN_PATTERN = "/"              # the twin's bars: the same colours, hatched
# (unit, picojoules in one unit), largest first
ENERGY_UNITS = (("mJ", 1e9), ("µJ", 1e6), ("nJ", 1e3), ("pJ", 1.0))
HEIGHT = 380


def energy_unit(largest_pj: float) -> tuple[str, float]:
    """The unit in which ``largest_pj`` reads as 1 or more (pJ for anything smaller, zero included), and its size
    in pJ."""
    return next(((name, size) for name, size in ENERGY_UNITS if abs(largest_pj) >= size), ENERGY_UNITS[-1])


def energy_text(pj: float) -> str:
    """``pj`` in its own unit, three significant digits: 4714.45 -> "4.71 nJ"."""
    name, size = energy_unit(pj)
    return f"{pj / size:.3g} {name}"


def layer_names(costs: Sequence[CostMetrics]) -> list[str]:
    """Every layer of the runs, in order of first appearance (a twin may have layers the run has not)."""
    names: list[str] = []
    for cost in costs:
        names += [name for name in cost.layers if name not in names]
    return names


def energy_parts(cost: CostMetrics, names: Sequence[str]) -> tuple[list[float], list[float]]:
    """Per layer of ``names``, the energy in pJ of its synaptic operations (e_AC SOP_l) and of its dense MACs
    (e_MAC MAC_l); 0 for a layer the run does not have."""
    spikes, dense = [], []
    for name in names:
        layer = cost.layers.get(name)
        spikes.append(0.0 if layer is None else cost.energy.e_ac_pj * layer.synaptic_ops)
        dense.append(0.0 if layer is None else cost.energy.e_mac_pj * layer.dense_macs)
    return spikes, dense


def layer_energy_bars(runs: Sequence[tuple[str, CostMetrics]]) -> go.Figure:
    """One group of bars per layer, one stacked bar per run (``(name, cost)``, the main run first): the spike-driven
    part below, the dense part on top, so a bar's height is the layer's energy per sample. The twin's bars are
    hatched."""
    if not runs:
        raise ValueError("no runs to draw: the cost bars need at least one (name, CostMetrics)")
    names = layer_names([cost for _, cost in runs])
    parts = [energy_parts(cost, names) for _, cost in runs]
    unit, size = energy_unit(max((s + d for spikes, dense in parts for s, d in zip(spikes, dense)), default=0.0))
    fig = go.Figure()
    for index, ((run, _), (spikes, dense)) in enumerate(zip(runs, parts)):
        pattern = dict(shape=TWIN_PATTERN if index else "", fillmode="overlay", solidity=0.35)
        for part, values, colour, base in (("spikes (accumulates)", spikes, SPIKE_COLOUR, None),
                                           ("dense (multiply-accumulates)", dense, DENSE_COLOUR, spikes)):
            fig.add_bar(x=names, y=[v / size for v in values], name=f"{run}: {part}", offsetgroup=run,
                        base=None if base is None else [b / size for b in base], legendgroup=run,
                        marker=dict(color=colour, pattern=pattern, line=dict(color=colour, width=1)),
                        hovertemplate=f"{run} · %{{x}} · {part}: %{{y:.3g}} {unit}<extra></extra>")
    subtitle = "spike-driven accumulates below, dense multiply-accumulates on top"
    styled(fig, "Energy per sample, per layer", HEIGHT, subtitle=subtitle + (" · twin hatched" if len(runs) > 1
                                                                             else ""))
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(title_text="layer (the synapses into it)")
    fig.update_yaxes(title_text=f"energy ({unit})", rangemode="tozero")
    return fig
