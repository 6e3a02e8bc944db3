"""A trained network as a NIR graph (Neuromorphic Intermediate Representation, ``nir`` 1.0): what snnTorch, Norse,
SpikingJelly, Sinabs, Lava and neuromorphic chips read.

Each spiking layer becomes its synapse with BatchNorm folded in, then its neuron (``nir_neurons``)::

    [conv k:]  <k>.pool  AvgPool2d(2)            (where the network pools before the conv)
               <k>.synapse  Conv2d(3x3, pad 1) | Affine     W' = s W g / sqrt(var + eps),
                                                           b' = s ((b - mean) g / sqrt(var + eps) + beta_bn)
               <k>.neuron  LIF | IF | CubaLIF             (s: the neuron's input scale, ``nir_neurons``)
    flatten    Flatten(start_dim=0)              (shapes in NIR have no batch axis)
    readout    Affine                            the rate readout: per-step logits W s[t] + b

BatchNorm is folded with its running statistics (the network in eval mode), which is exact up to float
rounding. The neuron's input scale ``s`` (``nir_neurons.input_scale``: ``1 / (1 - beta)`` for a LIF, written with
``r = 1``; ``1 - beta`` for a CubaLIF; 1 for an IF) is what makes snnTorch, Norse and SpikingJelly run the graph
with this engine's spikes (docs/NIR_INTEROP.md); the synapses are written in float64, so that the import's gain
``1 / s`` gives back the float32 weights exactly. The default ``dt`` is ``DT = 1e-4``: snnTorch 1.0's importer
fixes it, SpikingJelly 2.0's defaults to it, Norse 1.1 takes it as an argument (``reader_notes`` says so).
The rate readout's logits are the mean over the T steps of the ``readout`` node's output: NIR has no
time-average node (an integrator with r = 1/T would tie the graph to one T), so the graph's ``metadata`` says
``readout = rate`` and the reader averages. Spiking readouts (first-spike, count) end in the output layer "out".
Each layer's neuron is written with the parameters it runs now (``SpikingLayer.fixed_neuron``: a learned decay
is still a LIF, with that layer's own tau). What NIR cannot express is refused with a ValueError naming it, as
each method's record says (``Method.nir_refusal``: the spike cap K, ASA's input-dependent current gates, the exact
engine's event-driven spike times); a current gate that is one number at inference is folded into the weights.
The graph's ``metadata`` also holds ``dt``, the config JSON, and the frame shape, so ``nir_import`` restores the
run exactly.

Where a library's importer would run the graph otherwise than NIR says, or fails on it, the export warns
(``ReaderWarning``, one per difference, naming the library; ``reader_notes``): measured in docs/NIR_INTEROP.md
and held by tests/core/interop/test_nir_libraries.py.
"""
from __future__ import annotations

import io
import math
import warnings

import nir
import numpy as np
import torch
from torch import nn

from .. import settings
from ..config.run_config import RunConfig
from ..files import Limit
from ..hdf5_safety import open_checked
from ..methods.catalogue import METHODS
from ..network.discrete import SpikingNetwork
from ..network.layers import ScaleGate, SpikingLayer
from ..network.protocol import Network
from .nir_neurons import input_scale, to_node

MAX_FILE_MB = 200
# decoded size of a .nir file's datasets (a model file is at most 200 MB: float64 weights of one fit in 512)
NIR_DECODE = Limit(settings.MAX_NIR_DECODE_MB.name, settings.MAX_NIR_DECODE_MB.default)
# where nir 1.0 writes strings: the version, each node's type, a graph's edges, and metadata values
NIR_STRINGS = ("version", "node/type", "node/*/type", "node/edges", "node/*/edges", "node/metadata/*",
               "node/*/metadata/*")
# snnTorch 1.0's importer fixes dt (beta = 1 - 1e-4 / tau); SpikingJelly 2.0's defaults to it: the export's default
SNNTORCH_DT = DT = 1e-4
POOL = {"kernel_size": np.array([2, 2]), "stride": np.array([2, 2]), "padding": np.array([0, 0])}


def exportable(cfg: RunConfig, model: Network) -> None:
    """ValueError naming what of ``cfg``/``model`` NIR cannot express (nothing: returns): each method's own refusal
    (``Method.nir_refusal``), then any current gate that is not one number at inference."""
    for method in METHODS:
        refusal = method.nir_refusal(cfg)
        if refusal:
            raise ValueError(refusal)
    gated = [layer.name for layer in model.layers if not isinstance(layer.gate, (nn.Identity, ScaleGate))]
    if gated:
        raise ValueError(f"the current gates on {', '.join(gated)} cannot be exported to NIR: they depend on the "
                         "input and fold into no weight")


def _folded(layer: SpikingLayer, neuron_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The weight and bias of a layer's Conv2d/Linear with its BatchNorm (running statistics) folded in, a gate
    that is one number g at inference (``ScaleGate``) too: g (W x + b) = (g W) x + g b, and the neuron's input
    scale (``nir_neurons.input_scale``); float64."""
    synapse = layer.synapse[-1] if isinstance(layer.synapse, nn.Sequential) else layer.synapse
    if not isinstance(synapse, (nn.Conv2d, nn.Linear)):
        raise ValueError(f"{layer.name}: a {type(synapse).__name__} synapse cannot be exported; allowed: "
                         "Conv2d or Linear")
    weight = synapse.weight.detach().double()                                  # (out, in[, 3, 3])
    bias = (torch.zeros(weight.shape[0], dtype=torch.float64, device=weight.device) if synapse.bias is None
            else synapse.bias.detach().double())
    norm = layer.norm
    if isinstance(norm, nn.modules.batchnorm._BatchNorm):
        if norm.running_mean is None or norm.running_var is None:
            raise ValueError(f"{layer.name}: a BatchNorm without running statistics cannot be folded into its "
                             "weights; allowed: BatchNorm with track_running_stats (the default), or none")
        scale = norm.weight.detach().double() / torch.sqrt(norm.running_var.double() + norm.eps)   # (out,)
        weight = weight * scale.view(-1, *[1] * (weight.dim() - 1))
        bias = (bias - norm.running_mean.double()) * scale + norm.bias.detach().double()
    elif not isinstance(norm, nn.Identity):
        raise ValueError(f"{layer.name}: a {type(norm).__name__} cannot be exported; allowed: BatchNorm or none")
    if isinstance(layer.gate, ScaleGate):
        weight, bias = weight * layer.gate.value(), bias * layer.gate.value()
    return (weight * neuron_scale).cpu().numpy(), (bias * neuron_scale).cpu().numpy()


def _array(tensor: torch.Tensor) -> np.ndarray:
    """A float32 NumPy copy of a tensor on any device (a model trained on CUDA exports too)."""
    return tensor.detach().float().cpu().numpy()


def _conv_nodes(layer: SpikingLayer, shape: tuple[int, ...], scale: float) -> tuple[dict, tuple[int, ...]]:
    """Nodes of a conv layer (its synapse an ``nn.Sequential``, pooling first) fed ``shape = (C, H, W)``, its
    synapse times ``scale``, and the shape of its output."""
    nodes, (_, height, width) = {}, shape
    if isinstance(layer.synapse, nn.Sequential) and isinstance(layer.synapse[0], nn.AvgPool2d):
        nodes[f"{layer.name}.pool"] = nir.AvgPool2d(**POOL)
        height, width = height // 2, width // 2
    weight, bias = _folded(layer, scale)                                          # (out, in, 3, 3), (out,)
    nodes[f"{layer.name}.synapse"] = nir.Conv2d(input_shape=(height, width), weight=weight, stride=1, padding=1,
                                                dilation=1, groups=1, bias=bias)
    return nodes, (weight.shape[0], height, width)


def export_nir(model: Network, cfg: RunConfig, frame_shape: tuple[int, ...], dt: float = DT) -> nir.NIRGraph:
    """The NIR graph of a discrete-engine network built from ``cfg`` for inputs of ``frame_shape`` per step;
    ``dt`` is the step in the graph's time unit (default 1e-4 s, which snnTorch's importer assumes)."""
    if not (isinstance(dt, (int, float)) and 0 < dt < float("inf")):
        raise ValueError(f"dt={dt!r} is not valid; allowed: a positive number (the time step in the graph's unit)")
    exportable(cfg, model)
    if not isinstance(model, SpikingNetwork):
        raise ValueError(f"a {type(model).__name__} cannot be exported to NIR; allowed: the discrete engine's network")
    nodes: dict[str, nir.NIRNode] = {"input": nir.Input(input_type={"input": np.array(frame_shape)})}
    shape = tuple(frame_shape)
    for index, layer in enumerate(model.layers):
        if index == model.flatten_before and len(shape) > 1:
            nodes["flatten"] = nir.Flatten(input_type={"input": np.array(shape)}, start_dim=0, end_dim=-1)
            shape = (int(np.prod(shape)),)
        params = layer.fixed_neuron()
        scale = input_scale(layer.neuron_name, params)
        if isinstance(layer.synapse, nn.Sequential):                              # conv
            layer_nodes, shape = _conv_nodes(layer, shape, scale)
            nodes.update(layer_nodes)
        else:
            weight, bias = _folded(layer, scale)                                  # (out, in), (out,)
            nodes[f"{layer.name}.synapse"] = nir.Affine(weight=weight, bias=bias)
            shape = (weight.shape[0],)
        nodes[f"{layer.name}.neuron"] = to_node(layer.neuron_name, params, shape, dt)
    if model.readout is not None:
        if len(shape) > 1:
            nodes["flatten"] = nir.Flatten(input_type={"input": np.array(shape)}, start_dim=0, end_dim=-1)
        nodes["readout"] = nir.Affine(weight=_array(model.readout.weight), bias=_array(model.readout.bias))
    last = nodes[list(nodes)[-1]]
    nodes["output"] = nir.Output(output_type={"output": np.array(last.output_type["output"])})
    names = list(nodes)
    metadata = {"source": "snn-explorer", "dt": float(dt), "readout": cfg.model.readout,
                "config": cfg.to_json(), "frame_shape": np.array(frame_shape)}
    graph = nir.NIRGraph(nodes=nodes, edges=list(zip(names[:-1], names[1:])), metadata=metadata)
    for note in reader_notes(graph):
        warnings.warn(note, ReaderWarning, stacklevel=2)
    return graph


class ReaderWarning(UserWarning):
    """Another library's NIR importer runs this graph otherwise than NIR (and this engine) does, or fails on it."""


def reader_notes(graph: nir.NIRGraph) -> list[str]:
    """What snnTorch 1.0, Norse 1.1 and SpikingJelly 2.0 run otherwise in ``graph``, or fail on, one sentence each
    naming the library, what differs and the way round it (measured by benchmarks/nir_interop.py,
    docs/NIR_INTEROP.md; held by tests/core/interop/test_nir_libraries.py)."""
    nodes = list(graph.nodes.values())
    dt = float(graph.metadata.get("dt", DT))
    leaky = any(isinstance(node, (nir.LIF, nir.CubaLIF)) for node in nodes)
    notes: list[str] = []
    if leaky and not math.isclose(dt, SNNTORCH_DT):
        notes.append(f"snnTorch 1.0 reads every graph at dt = {SNNTORCH_DT:g}, this one is at dt = {dt:g}: its "
                     "LIFs would barely leak and, with thresholds rescaled by dt/tau, fire almost no spikes (a CubaLIF "
                     f"fails its import); export with dt = {SNNTORCH_DT:g} (the default) for snnTorch")
    if any(isinstance(node, nir.IF) for node in nodes):
        notes.append("snnTorch 1.0 cannot run an IF node: its import fails unless r = 1, and then runs it as a leaky "
                     "neuron (beta = 0.9); SpikingJelly 2.0 and Norse 1.1 run it as this engine does")
    if any(isinstance(node, nir.LIF) and not np.allclose(node.v_reset, 0.0) for node in nodes):
        notes.append("snnTorch 1.0 and Norse 1.1 reset every LIF to 0, not to this graph's v_reset; SpikingJelly 2.0 "
                     "refuses it (its LIF would leak toward v_reset)")
    if leaky:
        notes.append(f"Norse 1.1 takes the time step as an argument and defaults to 1e-3: run this graph with "
                     f"norse.torch.from_nir(graph, dt={dt:g})")
    if any(isinstance(node, nir.AvgPool2d) for node in nodes):
        notes.append("Norse 1.1 has no AvgPool2d (it maps only SumPool2d): it leaves the pooling out, and the "
                     "network it builds fails on its first step with a shape mismatch")
    subtract = [node for node in nodes if (getattr(node, "metadata", None) or {}).get("reset") == "subtract"]
    if any(not isinstance(node, nir.CubaLIF) for node in subtract):
        notes.append("snnTorch 1.0, Norse 1.1 and SpikingJelly 2.0 reset this graph's soft-reset LIF/IF neurons "
                     "(metadata reset = subtract) to v_reset = 0 instead, so spikes differ after a neuron's first one "
                     "(none of them subtracts on a LIF or IF node)")
    if any(isinstance(node, nir.CubaLIF) for node in subtract):
        notes.append("snnTorch 1.0 and SpikingJelly 2.0 reset the CubaLIF neurons to v_reset = 0, not by subtraction "
                     "as this engine's CUBA does (metadata reset = subtract), so spikes differ after a neuron's first "
                     "one; Norse 1.1 runs them as here when told: from_nir(graph, dt=..., reset_method=reset_subtract)")
    return notes


def graph_to_bytes(graph: nir.NIRGraph) -> bytes:
    """The ``.nir`` file (HDF5, ``nir.write``) of ``graph``."""
    buffer = io.BytesIO()
    nir.write(buffer, graph)
    return buffer.getvalue()


def graph_from_bytes(data: bytes) -> nir.NIRGraph:
    """The graph a ``.nir`` file holds (``nir.read``); ValueError when it is too large or no NIR graph, and before
    anything is read, when the HDF5 file points outside itself or decodes past ``NIR_DECODE`` (``hdf5_safety``)."""
    if len(data) > MAX_FILE_MB * 2**20:
        raise ValueError(f"the file is {len(data) / 2**20:,.0f} MB; NIR files of at most {MAX_FILE_MB} MB are read")
    if not data.startswith(b"\x89HDF\r\n\x1a\n"):
        raise ValueError("not a NIR file: it is no HDF5 file (a .nir file starts with the HDF5 signature)")
    data = bytes(data)                    # immutable: the bytes checked are the bytes nir reads
    with open_checked(data, what=f"not a NIR graph that nir {nir.version} reads", limit=NIR_DECODE,
                      strings=NIR_STRINGS):
        pass
    try:
        return nir.read(io.BytesIO(data))
    except Exception as problem:      # noqa: BLE001 - h5py and nir raise many kinds for a malformed file
        text = " ".join(str(problem).split())[:200] or type(problem).__name__
        raise ValueError(f"not a NIR graph that nir {nir.version} reads: {text}") from None
