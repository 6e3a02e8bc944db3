"""The network view: the diagram of the layers the settings describe, with TensorFlow-Playground-like +/− buttons.

The buttons edit the sidebar's ``hidden`` and ``channels`` widgets (in callbacks, which run before the sidebar is
drawn, the one moment a widget's value may be set), so the sidebar stays the one place the settings live: a change
shows there, goes into the URL, and a combination ``check`` refuses is listed with the sidebar's other problems.
Bounds (how many layers, how wide) come from the config fields' specs. Given the run's costs (when the run builds
the network drawn and has been evaluated), each layer is coloured by its share of the energy per sample.
"""
from __future__ import annotations

import streamlit as st

from snn_core.config.run_config import RunConfig, cli_index, parse_value
from snn_core.metrics.cost import CostMetrics
from snn_viz.network_figures import network_columns, network_diagram
from snn_viz.style import PLOTLY_CONFIG

from . import state
from .sidebar import widget_key

FIELDS = {"conv": "channels", "fc": "hidden"}       # a column's kind -> the setting listing its layers' sizes
NEW_LAYER = {"conv": 16, "fc": 64}                  # the size of an added layer when there is none to copy


def _spec(kind: str) -> dict:
    return cli_index()[FIELDS[kind]][1].metadata


def sizes(kind: str, cfg: RunConfig) -> tuple[int, ...]:
    """The layer sizes the sidebar holds now; ``cfg``'s while the sidebar's text cannot be read."""
    cli = FIELDS[kind]
    fallback = cfg.model.channels if kind == "conv" else cfg.model.hidden
    raw = st.session_state.get(widget_key(cli))
    if raw is None:
        return fallback
    try:
        return parse_value(cli_index()[cli][1], raw)
    except ValueError:
        return fallback


def _write(kind: str, values: tuple[int, ...]) -> None:
    st.session_state[widget_key(FIELDS[kind])] = ",".join(str(v) for v in values)


def resized(kind: str, values: tuple[int, ...], index: int, factor: float) -> tuple[int, ...]:
    """``values`` with layer ``index`` doubled (factor 2) or halved (0.5), kept within the field's bounds."""
    spec = _spec(kind)
    size = min(spec["hi"], max(spec["lo"], round(values[index] * factor)))
    return values[:index] + (size,) + values[index + 1:]


def with_layers(kind: str, values: tuple[int, ...], change: int) -> tuple[int, ...]:
    """``values`` with one layer added at the end (a copy of the last) or the last one removed, within bounds."""
    low, high = _spec(kind)["length"]
    if change > 0 and len(values) < high:
        return values + (values[-1] if values else NEW_LAYER[kind],)
    if change < 0 and len(values) > low:
        return values[:-1]
    return values


def _resize(kind: str, index: int, factor: float, cfg: RunConfig) -> None:
    values = sizes(kind, cfg)
    if index < len(values):
        _write(kind, resized(kind, values, index, factor))


def _add_or_remove(kind: str, change: int, cfg: RunConfig) -> None:
    _write(kind, with_layers(kind, sizes(kind, cfg), change))


def _layer_buttons(where, kind: str, cfg: RunConfig) -> None:
    values = sizes(kind, cfg)
    low, high = _spec(kind)["length"]
    word = "conv" if kind == "conv" else "fully connected"
    where.caption(f"{len(values)} {word} layer{'s' * (len(values) != 1)}")
    minus, plus = where.columns(2)
    minus.button("−", key=f"net:remove-{kind}", help=f"remove the last {word} layer", width="stretch",
                 disabled=len(values) <= low, on_click=_add_or_remove, args=(kind, -1, cfg))
    plus.button("+", key=f"net:add-{kind}", help=f"add a {word} layer (a copy of the last)", width="stretch",
                disabled=len(values) >= high, on_click=_add_or_remove, args=(kind, 1, cfg))


def _size_buttons(where, kind: str, index: int, cfg: RunConfig) -> None:
    values = sizes(kind, cfg)
    if index >= len(values):
        return
    spec, unit = _spec(kind), "channels" if kind == "conv" else "neurons"
    minus, plus = where.columns(2)
    minus.button("−", key=f"net:shrink-{kind}{index + 1}", help=f"halve the {unit}", width="stretch",
                 disabled=values[index] <= spec["lo"], on_click=_resize, args=(kind, index, 0.5, cfg))
    plus.button("+", key=f"net:grow-{kind}{index + 1}", help=f"double the {unit}", width="stretch",
                disabled=values[index] >= spec["hi"], on_click=_resize, args=(kind, index, 2, cfg))


def show(cfg: RunConfig, cost: CostMetrics | None = None) -> None:
    """The diagram of ``cfg`` (the session's valid config) with +/− for layers (above) and their widths (below);
    with ``cost`` (the run of this network, evaluated), its layers coloured by their share of the energy."""
    st.subheader("The network")
    kinds = ("conv", "fc") if cfg.model.arch == "conv" else ("fc",)
    top = st.columns([1] * len(kinds) + [4 - len(kinds)])
    for where, kind in zip(top, kinds):
        _layer_buttons(where, kind, cfg)
    if cfg.model.arch != "conv":
        top[-1].caption("arch = mlp: no conv layers (Network ▸ arch = conv adds them).")
    shares = None if cost is None else cost.energy_share
    key = ("network", cfg, None if shares is None else tuple(shares.items()))
    st.plotly_chart(state.memo_figure(key, lambda: network_diagram(cfg, shares)), config=PLOTLY_CONFIG,
                    key="network_diagram")
    columns = network_columns(cfg)
    below = st.columns(len(columns))
    counters = {"conv": 0, "fc": 0}
    for where, column in zip(below, columns):
        if column.kind in counters:
            _size_buttons(where, column.kind, counters[column.kind], cfg)
            counters[column.kind] += 1
    st.caption("− halves, + doubles a layer's width; the settings change in the sidebar (Network ▸ hidden, "
               "channels), and a new run (Reset) trains them." + ("" if cost is None else
               " Colours: each layer's share of the run's energy per sample at its latest evaluation (see **Cost "
               "per sample**)."))
