"""A NIR graph as a network of this engine: the inverse of ``nir_graph.export_nir``, and the way in for a
feed-forward LIF/CUBA network trained in snnTorch, Norse or elsewhere.

The graph must be a chain ``Input -> [Flatten] -> (conv layer)* -> [Flatten] -> (fc layer)* -> [Affine] ->
Output``, with a conv layer ``[AvgPool2d(2)] -> Conv2d(3x3, stride 1, pad 1) -> neuron`` (pooling exactly where
this engine's builder pools: before a conv whose input is wider than 8 pixels) and an fc layer
``Affine | Linear -> neuron``. A final Affine is the rate readout (logits averaged over T); a chain that ends in
a neuron reads out spike counts (or first spikes, when the graph's metadata says so). Every neuron must share
one set of parameters (this engine's config has one neuron section; ``nir_neurons.from_node`` maps them), except
those a method learns per layer (``Method.learns``: PLIF's decay): layers that differ in them are imported with
that method on and each layer's dynamics set to its own values (``NeuronDynamics.assign``).
Anything else is refused with a ValueError naming the node. The network is built without BatchNorm or a current
gate (an exported graph has both folded into the synapses) on the config the graph's metadata holds, or on ``base``.

A neuron's input gain other than 1 (``dt r / tau`` with ``r`` other than ``tau/dt``: this engine's own export and
Norse's and SpikingJelly's ``r = 1``, snnTorch's ``Synaptic``) is folded into the weight and bias of the synapse
before it, exactly (``nir_neurons.Imported.gain``; for our export it undoes the export's ``input_scale``); as
that gain depends on dt, the graph's metadata or the caller must give dt then (``r = tau/dt`` ties r to dt, so a
wrong default was refused as a gain other than 1; a folded gain must not hide it). NIR 1.0 does not say how a
neuron resets: a node whose metadata states no reset is read as ``reset`` says ("subtract": this engine's soft
reset ``v - v_threshold``; "hard": reset to ``v_reset``); left None, it is read as NIR's reset to ``v_reset`` with
a ``ResetAssumed`` warning naming the nodes, except in this engine's own graphs (metadata ``source``), whose
soft-reset nodes all say so.
"""
from __future__ import annotations

import dataclasses
import math
import warnings

import nir
import numpy as np
import torch

from ..checkpoint import SavedModel, compare_shapes, expected_shapes
from ..config.check import runnable_config
from ..config.run_config import RunConfig, parse_config_json
from ..methods.catalogue import METHODS
from ..network.discrete import POOL_ABOVE_WIDTH, spiking_layer_names
from ..neurons.registry import neuron_model
from .nir_neurons import RESETS, from_node, stated_reset

NEURONS = (nir.LIF, nir.IF, nir.CubaLIF)
SYNAPSES = (nir.Affine, nir.Linear, nir.Conv2d)


REAL = "real numbers (bool, integers, floats), all finite"
OURS = "snn-explorer"           # the graph metadata's ``source`` that ``nir_graph.export_nir`` writes


class ResetAssumed(UserWarning):
    """A graph's neurons were imported with NIR's reset to ``v_reset``, which the graph does not state."""


def check_values(name: str, node: nir.NIRNode) -> None:
    """Every array a node holds (its parameters, and its input/output shapes) must be real, finite numbers;
    ValueError naming the node and the field otherwise (complex weights would be cast silently, bytes, compound or
    object data would crash further on)."""
    for field in dataclasses.fields(node) if dataclasses.is_dataclass(node) else ():
        if field.name == "metadata":
            continue
        value = getattr(node, field.name)
        for key, item in (value.items() if isinstance(value, dict) else [(None, value)]):
            where = f"node {name!r}: {field.name}" + (f"[{key!r}]" if key is not None else "")
            if item is None:
                continue
            try:
                array = np.asarray(item)
            except Exception:            # noqa: BLE001 - numpy refuses ragged or odd values its own ways
                array = np.asarray([None])
            if array.dtype.kind not in "biuf" or array.dtype.itemsize > 8:
                kind = {"c": "complex numbers", "S": "bytes", "U": "text", "O": "Python objects",
                        "V": "compound or opaque data"}.get(array.dtype.kind, f"data of type {array.dtype}")
                raise ValueError(f"{where} holds {kind} ({array.dtype}); allowed: {REAL}")
            if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
                raise ValueError(f"{where} holds NaN or infinite values; allowed: {REAL}")


def time_step(value) -> float:
    """The graph's time step as a float; ValueError unless it is one positive, finite number."""
    try:
        array = np.asarray(value)
        dt = float(array.ravel()[0]) if array.size == 1 and array.dtype.kind in "biuf" else math.nan
    except (TypeError, ValueError):
        dt = math.nan
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"the graph's time step dt={str(value)[:40]!r} is not valid; allowed: one positive, finite "
                         "number")
    return dt


def chain(graph: nir.NIRGraph) -> list[tuple[str, nir.NIRNode]]:
    """The graph's nodes from its one Input to its one Output, in order; ValueError unless it is one chain."""
    inputs, outputs = list(graph.inputs), list(graph.outputs)
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"the graph has {len(inputs)} inputs and {len(outputs)} outputs; allowed: one of each")
    successors: dict[str, list[str]] = {}
    for source, target in graph.edges:
        successors.setdefault(source, []).append(target)
    order, name = [], inputs[0]
    while True:
        node = graph.nodes.get(name)
        if node is None or isinstance(node, nir.NIRGraph):
            raise ValueError(f"node {name!r} is {'missing' if node is None else 'a subgraph'}; allowed: a chain of "
                             "nodes (no recurrence, no subgraphs)")
        order.append((name, node))
        following = successors.get(name, [])
        if name == outputs[0] or len(following) != 1 or len(order) > len(graph.nodes):
            break
        name = following[0]
    if order[-1][0] != outputs[0] or len(order) != len(graph.nodes):
        raise ValueError("the graph is not one chain from its input to its output; allowed: a feed-forward chain "
                         "(no branches, skips or recurrence)")
    return order[1:-1]


class _Layers:
    """The layers read off a chain: per layer its kind, synapse, pooling and neuron settings."""

    def __init__(self, dt: float, dt_stated: bool, reset: str | None):
        self.dt, self.dt_stated, self.reset = dt, dt_stated, reset
        self.conv: list[tuple[nir.NIRNode, bool, float]] = []      # (synapse, pooled, gain) per conv layer
        self.fc: list[tuple[nir.NIRNode, bool, float]] = []        # the same per fully connected layer
        self.neuron: dict[str, object] | None = None               # the first layer's neuron settings
        self.readout: nir.NIRNode | None = None
        self.layer_neurons: list[dict] = []            # each spiking layer's own settings, in the network's order
        self.unstated: list[str] = []                  # neuron nodes whose metadata states no reset

    def add(self, kind: str, name: str, neuron: nir.NIRNode, synapse: nir.NIRNode, pooled: bool) -> None:
        """One layer: ``name`` is its neuron node's; ``synapse`` takes the neuron's input gain."""
        stated = stated_reset(neuron, name)
        if stated is None:
            self.unstated.append(name)
        elif self.reset is not None and stated != self.reset:
            raise ValueError(f"{name}: its metadata says reset={stated!r}, the import was asked for "
                             f"reset={self.reset!r}; allowed: the reset the graph states, or leave reset unset")
        settings, gain = from_node(neuron, self.dt, name, self.reset or "hard")
        if gain != 1.0 and not self.dt_stated:
            raise ValueError(f"{name}: the input gain is {gain:g} at dt={self.dt:g}, and the graph does not record its "
                             "time step, on which the gain depends; allowed: the dt it was written at, passed to the "
                             f"import (--dt; snnTorch and SpikingJelly write at 1e-4)")
        if self.neuron is not None and any(not _same(settings.get(k), v) for k, v in self.neuron.items()
                                           if k not in PER_LAYER):
            raise ValueError(f"{name}: neuron settings {settings} differ from the first layer's {self.neuron}; "
                             "allowed: one set of neuron parameters for the whole network"
                             + (f" (only {', '.join(sorted(PER_LAYER))} may differ, learned per layer)"
                                if PER_LAYER else ""))
        self.neuron = self.neuron or settings
        self.layer_neurons.append(settings)
        (self.conv if kind == "conv" else self.fc).append((synapse, pooled, gain))

    def learned(self) -> list:
        """The methods whose per-layer settings (``Method.learns``) differ between this graph's layers."""
        first = self.neuron if self.neuron is not None else {}     # None: no layer read, nothing to compare
        return [method for method in METHODS if any(not _same(layer.get(key), first.get(key))
                                                    for layer in self.layer_neurons for key in method.learns)]


PER_LAYER = {key for method in METHODS for key in method.learns}     # neuron settings a method learns per layer


def _same(a, b) -> bool:
    return bool(np.isclose(a, b, rtol=1e-6)) if isinstance(b, float) and isinstance(a, float) else a == b


def _read_layers(nodes: list[tuple[str, nir.NIRNode]], frame_shape: tuple[int, ...], dt: float,
                 dt_stated: bool, reset: str | None) -> _Layers:
    """Walk the chain, checking each step against what this engine builds."""
    layers, shape, at = _Layers(dt, dt_stated, reset), frame_shape, 0
    while at < len(nodes):
        name, node = nodes[at]
        if isinstance(node, nir.Flatten):
            shape, at = (int(np.prod(shape)),), at + 1
            continue
        pooled = isinstance(node, nir.AvgPool2d)
        if pooled:
            if not all(np.array_equal(np.ravel(getattr(node, k)), v) for k, v in
                       {"kernel_size": [2, 2], "stride": [2, 2], "padding": [0, 0]}.items()):
                raise ValueError(f"{name}: an AvgPool2d other than 2x2, stride 2, no padding; allowed: that one")
            at += 1
            if at >= len(nodes):
                raise ValueError(f"{name}: pooling at the end of the graph; allowed: pooling before a Conv2d")
            name, node = nodes[at]
        if isinstance(node, NEURONS):
            raise ValueError(f"{name}: a {type(node).__name__} with no Conv2d, Affine or Linear right before it; "
                             "allowed: every neuron fed by a synapse (which also takes its input gain dt*r/tau)")
        if isinstance(node, nir.Affine) and at == len(nodes) - 1 and not pooled:
            layers.readout = node
            break
        if not isinstance(node, SYNAPSES) or at + 1 >= len(nodes) or not isinstance(nodes[at + 1][1], NEURONS):
            raise ValueError(f"{name}: a {type(node).__name__} here; allowed: Conv2d or Affine/Linear followed by a "
                             "LIF, IF or CubaLIF neuron, Flatten, AvgPool2d, and a final Affine readout")
        if isinstance(node, nir.Conv2d):
            shape = _conv_shape(name, node, shape, pooled)
            layers.add("conv", *nodes[at + 1], node, pooled)
        else:
            if len(shape) != 1 or pooled:
                raise ValueError(f"{name}: a fully connected layer on input of shape {list(shape)}; allowed: after a "
                                 "Flatten")
            shape = (np.asarray(node.weight).shape[0],)
            layers.add("fc", *nodes[at + 1], node, False)
        at += 2
    return layers


def _conv_shape(name: str, node: nir.Conv2d, shape: tuple[int, ...], pooled: bool) -> tuple[int, ...]:
    """The output shape of a Conv2d fed ``shape``, after checking it is the conv this engine builds."""
    weight = np.asarray(node.weight)
    if len(shape) != 3 or weight.ndim != 4 or weight.shape[1] != shape[0]:
        raise ValueError(f"{name}: a Conv2d of weight {list(weight.shape)} on input {list(shape)}; allowed: "
                         "(out, in, 3, 3) on (in, height, width)")
    if weight.shape[2:] != (3, 3) or not (np.all(np.ravel(node.stride) == 1) and np.all(np.ravel(node.padding) == 1)
                                          and np.all(np.ravel(node.dilation) == 1) and int(node.groups) == 1):
        raise ValueError(f"{name}: a Conv2d other than 3x3, stride 1, padding 1, no dilation, one group; allowed: "
                         "that one")
    if pooled != (shape[2] > POOL_ABOVE_WIDTH):
        raise ValueError(f"{name}: {'pooling' if pooled else 'no pooling'} before a conv on input {shape[2]} "
                         f"wide; this engine pools (2x2) exactly before a conv whose input is wider than "
                         f"{POOL_ABOVE_WIDTH}")
    side = (lambda n: n // 2) if pooled else (lambda n: n)
    return (weight.shape[0], side(shape[1]), side(shape[2]))


def _metadata_config(graph: nir.NIRGraph, base: RunConfig | None) -> RunConfig:
    """The config stored in an exported graph's metadata, else ``base`` (else the defaults)."""
    text = (graph.metadata or {}).get("config")
    if isinstance(text, str):
        return runnable_config(parse_config_json(text, "the NIR graph's config"), "the NIR graph's config")
    return base or RunConfig()


def import_nir(graph: nir.NIRGraph, base: RunConfig | None = None, dt: float | None = None,
               reset: str | None = None) -> SavedModel:
    """The config, sizes and weights of the network ``graph`` describes, ready for ``checkpoint.model_to_bytes``
    or ``build_model`` + ``load_weights``. ``dt``: the graph's time step (default: its metadata's, else 1);
    ``reset``: how neurons whose node states no reset reset, "hard" or "subtract" (default: see the module)."""
    if reset is not None and reset not in RESETS:
        raise ValueError(f"reset={str(reset)[:40]!r} is not known; allowed: {', '.join(RESETS)} (or none: as the "
                         "graph's nodes say, else reset to v_reset with a warning)")
    metadata = graph.metadata or {}
    dt_stated = dt is not None or "dt" in metadata          # a gain to fold (r other than tau/dt) needs the true dt
    dt = time_step(dt if dt is not None else metadata.get("dt", 1.0))
    nodes = chain(graph)
    input_name = next(iter(graph.inputs))
    for name, node in [(input_name, graph.nodes[input_name]), *nodes]:
        check_values(name, node)
    frame = np.ravel(graph.nodes[input_name].input_type["input"])
    if frame.size == 0 or frame.dtype.kind not in "iu" or np.any(frame < 1):
        raise ValueError(f"node {input_name!r}: input shape {frame.tolist()[:8]} is not valid; allowed: positive "
                         "integers")
    frame_shape = tuple(int(n) for n in frame)
    layers = _read_layers(nodes, frame_shape, dt, dt_stated, reset)
    if layers.neuron is None:
        raise ValueError("the graph has no spiking layer; allowed: at least one synapse followed by a neuron")
    if reset is None and layers.unstated and metadata.get("source") != OURS:
        _warn_reset(layers.unstated)
    cfg = _metadata_config(graph, base)
    readout = "rate" if layers.readout is not None else str(metadata.get("readout", "count"))
    hidden = layers.fc if layers.readout is not None else layers.fc[:-1]      # a spiking readout's "out" is no fc
    learned = layers.learned()
    settings = {**layers.neuron, "arch": "conv" if layers.conv else "mlp", "batch-norm": False, "readout": readout,
                **{name: value for method in METHODS for name, value in method.nir_import.items()},
                **{name: value for method in learned for name, value in method.nir_learned.items()},
                "hidden": _sizes(hidden), **({"channels": _sizes(layers.conv)} if layers.conv else {})}
    cfg = runnable_config(cfg.with_values(settings).to_dict(), "the network the NIR graph describes")
    last = layers.readout if layers.readout is not None else layers.fc[-1][0]
    n_classes = int(np.asarray(last.weight).shape[0])
    wanted = expected_shapes(cfg, frame_shape, n_classes)
    learned_state = _learned_state(cfg, layers, learned)
    weights = iter(_weights(layers))
    found = {name: learned_state[name] if name in learned_state else next(weights, None) for name in wanted}
    tensors = {name: tensor for name, tensor in found.items() if tensor is not None}   # None: weights ran out
    compare_shapes({name: tuple(t.shape) for name, t in tensors.items()}, wanted)
    return SavedModel(cfg, frame_shape, n_classes, tensors)


def _warn_reset(names: list[str]) -> None:
    """Say that ``names`` were read with NIR's reset to v_reset, and how to read them otherwise."""
    shown = ", ".join(repr(name) for name in names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    warnings.warn(f"NIR does not record how a neuron resets, and nodes {shown} do not say: imported with NIR's "
                  "reset to v_reset (hard reset). If the library that wrote the graph resets by subtraction "
                  "(snnTorch's default Leaky does), import with reset='subtract' (CLI: --assume-reset subtract; "
                  "this engine's soft reset, v - v_threshold at the spike; snnTorch subtracts after the next leak, "
                  "so its spikes can still differ); reset='hard' (--assume-reset hard) states this assumption and "
                  "silences this warning", ResetAssumed, stacklevel=3)


def _learned_state(cfg: RunConfig, layers: _Layers, learned: list) -> dict[str, torch.Tensor]:
    """The state of each layer's neuron dynamics (``layers.<i>.dynamics.*``) of the methods in ``learned``, set to
    the layer's own settings from the graph (``NeuronDynamics.assign``)."""
    state = {}
    for method in learned:
        make = method.dynamics(cfg)
        for index, (name, settings) in enumerate(zip(spiking_layer_names(cfg), layers.layer_neurons, strict=True)):
            dynamics = make(name)
            own = cfg.with_values(settings).neuron
            dynamics.assign(neuron_model(own.model).params_from_config(own))
            state.update({f"layers.{index}.dynamics.{key}": value.detach().clone()
                          for key, value in dynamics.state_dict().items()})
    return state


def _sizes(synapses: list) -> str:
    """Output sizes of ``(synapse, pooled)`` pairs as a config list ("128,64")."""
    return ",".join(str(np.asarray(synapse.weight).shape[0]) for synapse, *_ in synapses)


def _weights(layers: _Layers) -> list[torch.Tensor]:
    """Weight and bias of every synapse and the readout, in the order of the network's ``state_dict``, each
    synapse's times the input gain of the neuron after it (scaled in float64, then rounded once to float32)."""
    out = []
    readout: list[tuple[nir.NIRNode, bool, float]] = (
        [(layers.readout, False, 1.0)] if layers.readout is not None else [])
    for synapse, _, gain in [*layers.conv, *layers.fc, *readout]:
        weight = np.asarray(synapse.weight, dtype=np.float64) * gain
        bias = getattr(synapse, "bias", None)
        bias = np.zeros(weight.shape[0]) if bias is None else np.asarray(bias, dtype=np.float64) * gain
        out += [torch.as_tensor(weight, dtype=torch.float32), torch.as_tensor(bias, dtype=torch.float32)]
    return out
