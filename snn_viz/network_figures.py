"""The network a config describes, drawn like TensorFlow Playground: one column of nodes per layer, input to readout.

Read from the config alone (no model is built): the input frame of the dataset, each conv layer with its channels,
its spatial size, each fully connected layer with its neurons, and the readout with its classes; a layer a method
acts on carries that method's mark (``Method.marks``: "ASA clean" on the conv layers it gates). A layer wider than
``MAX_NODES`` draws ``MAX_NODES`` nodes and writes its real count, so a 2,048-neuron layer stays readable and the
figure stays small. Given the run's energy shares (``CostMetrics.energy_share``), each layer's nodes are coloured
by its share of the energy per sample on one scale from grey (none) to red (all of it), with a colour bar saying so,
and the share is written under the layer's name."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from snn_core.config.run_config import RunConfig
from snn_core.data import DATASETS
from snn_core.methods.catalogue import METHODS
from snn_core.network.discrete import POOL_ABOVE_WIDTH

from .style import METHOD_COLOURS, OTHER_COLOUR, layer_colour, styled

MAX_NODES = 8                 # nodes drawn per column at most; the label gives the real count
INPUT_COLOUR = "#999999"
READOUT_COLOUR = "#222222"
EDGE_COLOUR = "rgba(120, 120, 120, 0.25)"
MARK_COLOUR = METHOD_COLOURS["with"]
HEIGHT = 420
# a layer's share of the energy, 0 -> 1: grey, amber, red; every stop within MIN_CONTRAST on both page backgrounds
SHARE_SCALE = ((0.0, "#8F8F8F"), (0.5, "#C77C0E"), (1.0, "#C0392B"))


@dataclass(frozen=True)
class Column:
    """One layer of the diagram."""

    name: str                 # input, conv1.., fc1.., readout (rate) or out (a spiking output layer)
    kind: str                 # input, conv, fc, readout
    count: int                # values, channels, neurons or classes; 0 = known once the data is loaded
    detail: str               # one line under the name, e.g. "16 ch × 16×16"
    marks: tuple[str, ...] = ()   # what the switched-on methods do to this layer (e.g. "ASA clean"), one each


def _input_column(cfg: RunConfig) -> tuple[Column, tuple[int, int, int]]:
    info = DATASETS[cfg.data.dataset]
    channels, height, width = info.frame_shape_for(cfg.data)
    what = "event frames" if info.has_time_axis else f"{cfg.data.encoding} coded"
    size = f"{channels}×{height}×{width}" if height else "size read from the files"
    return Column("input", "input", channels * height * width, f"{size}, {what}, T = {cfg.data.time_steps}"), (
        channels, height, width)


def network_columns(cfg: RunConfig) -> list[Column]:
    """The layers ``cfg`` builds, in order (``snn_core.network.discrete.build_network`` is the reference)."""
    first, (_, height, width) = _input_column(cfg)
    columns = [first]
    marks = [method.marks(cfg) for method in METHODS]

    def marked(name: str) -> tuple[str, ...]:
        return tuple(each[name] for each in marks if name in each)

    if cfg.model.arch == "conv":
        for number, channels in enumerate(cfg.model.channels, start=1):
            if width > POOL_ABOVE_WIDTH:
                height, width = height // 2, width // 2
            columns.append(Column(f"conv{number}", "conv", channels, f"{channels} ch × {height}×{width}" if height
                                  else f"{channels} ch", marked(f"conv{number}")))
    for number, size in enumerate(cfg.model.hidden, start=1):
        columns.append(Column(f"fc{number}", "fc", size, f"{size} neurons", marked(f"fc{number}")))
    classes = DATASETS[cfg.data.dataset].n_classes
    what = f"{classes} classes" if classes else "classes of the folder"
    if cfg.model.readout == "rate":
        columns.append(Column("readout", "readout", classes, f"{what}, rate (not spiking)"))
    else:
        columns.append(Column("out", "readout", classes, f"{what}, spiking, {cfg.model.readout}", marked("out")))
    return columns


def _node_ys(count: int) -> np.ndarray:
    drawn = max(1, min(count, MAX_NODES))
    return np.linspace(1, -1, drawn) if drawn > 1 else np.zeros(1)


def _colour(column: Column) -> str:
    if column.kind == "input":
        return INPUT_COLOUR
    return READOUT_COLOUR if column.kind == "readout" else layer_colour(column.name)


def _count_text(column: Column) -> str:
    if not column.count:
        return "?"
    shown = min(column.count, MAX_NODES)
    return f"{column.count:,}" if shown == column.count else f"{column.count:,} (drawn: {shown})"


def _add_edges(fig: go.Figure, columns: list[Column]) -> None:
    """Every drawn node to every drawn node of the next column, one trace (None breaks the line)."""
    xs, ys = [], []
    for index in range(len(columns) - 1):
        for y0 in _node_ys(columns[index].count):
            for y1 in _node_ys(columns[index + 1].count):
                xs += [index, index + 1, None]
                ys += [y0, y1, None]
    fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color=EDGE_COLOUR, width=1), hoverinfo="skip",
                    showlegend=False, name="connections")


def network_diagram(cfg: RunConfig, shares: Mapping[str, float] | None = None) -> go.Figure:
    """Columns of nodes from input to readout; squares are conv channels, circles neurons; a layer a method acts on is
    framed and marked below with what the method does there. With ``shares`` (layer name -> fraction of the energy
    per sample), the layers it names are coloured by it (``SHARE_SCALE``, 0 to 1) with a colour bar."""
    columns = network_columns(cfg)
    shares = {name: share for name, share in (shares or {}).items() if name in {c.name for c in columns}}
    top = 1.95 if shares else 1.65          # room for each layer's share under its name
    fig = go.Figure()
    _add_edges(fig, columns)
    scale_shown = False
    for index, column in enumerate(columns):
        ys = _node_ys(column.count)
        symbol = "square" if column.kind in ("conv", "input") else "circle"
        share = shares.get(column.name)
        marker = dict(symbol=symbol, size=20, color=_colour(column), line=dict(color="white", width=2))
        hover = f"{column.name}: {column.detail}"
        if share is not None:
            marker.update(color=[share] * len(ys), colorscale=[list(stop) for stop in SHARE_SCALE], cmin=0, cmax=1,
                          showscale=not scale_shown,
                          colorbar=dict(title=dict(text="share of<br>energy", side="top"), tickformat=".0%",
                                        len=0.8, thickness=14))
            hover += f"<br>{share:.1%} of the energy per sample"
            scale_shown = True
        fig.add_scatter(x=[index] * len(ys), y=ys, mode="markers", name=column.name, showlegend=False,
                        marker=marker, hovertemplate=hover + "<extra></extra>")
        fig.add_annotation(x=index, y=top - 0.15, text=f"<b>{column.name}</b>", showarrow=False, font_size=15)
        if share is not None:
            fig.add_annotation(x=index, y=1.47, text=f"{share:.0%}", showarrow=False,
                               font=dict(size=13, color=OTHER_COLOUR))
        fig.add_annotation(x=index, y=-1.3, text=_count_text(column), showarrow=False, font_size=14)
        fig.add_annotation(x=index, y=-1.55, text=column.detail.replace(", ", "<br>", 1), showarrow=False,
                           font=dict(size=11, color=OTHER_COLOUR))
    marked = [index for index, column in enumerate(columns) if column.marks]
    for index in marked:
        fig.add_shape(type="rect", x0=index - 0.28, x1=index + 0.28, y0=-1.15, y1=1.15,
                      line=dict(color=MARK_COLOUR, width=2, dash="dot"))
    if marked:
        fig.add_scatter(x=marked, y=[1.2] * len(marked), mode="markers", name="methods", showlegend=False,
                        text=[" · ".join(columns[i].marks) for i in marked],
                        marker=dict(symbol="hexagon", size=14, color=MARK_COLOUR),
                        hovertemplate="%{text}: a method acts on this layer<extra></extra>")
        for index in marked:
            fig.add_annotation(x=index, y=-1.85, text="<br>".join(f"⬢ {mark}" for mark in columns[index].marks),
                               showarrow=False, font=dict(size=12, color=MARK_COLOUR))
    flow = " → ".join(_count_text(c).split(" ")[0] for c in columns)
    key = "□ conv channels · ○ neurons · ⬢ a method acts on the layer" + ("<br>" if shares else " · ") + \
        "every layer runs T steps" + (" · colour, %: the layer's share of the run's energy" if shares else "")
    styled(fig, f"The network: {flow}", HEIGHT, subtitle=key)
    fig.update_layout(height=HEIGHT, margin=dict(l=20, r=20, t=110 if shares else 90, b=10), showlegend=False)
    fig.update_xaxes(visible=False, range=[-0.6, len(columns) - 0.4])
    fig.update_yaxes(visible=False, range=[-2.0, top])
    return fig
