"""The spiking network built from a config: spiking layers, then a time-averaged linear readout.

``mlp``: flatten each frame, then spiking fully connected layers ``model.hidden``.
``conv``: spiking 3x3 conv layers ``model.channels`` (each first average-pools its input by 2
while the input is wider than 8 pixels: pooling before a conv costs 4x less than after, and the
two linear maps commute up to borders), then the spiking FC layers, then the readout.
Conv layers chosen by ``methods.asa_layers`` get an ASA gate (``snn_core.methods.asa``) between norm and neuron.
``model.readout``: ``rate`` (default) is non-spiking, ``logits = mean_t W s_L[t] + b``. ``first-spike``
and ``count`` end in a spiking output layer named "out" (Linear -> neuron; no BatchNorm, no gate) whose
logits come from ``snn_core.network.readout``; it is one of ``layers``, so its spikes are in ``ModelOutput.spikes``
and NASFR counts it (as the ASA paper's NASFR counts every spiking layer). Either way the trainer's loss
is ``cross_entropy(out.logits, y)`` and ``out.predictions`` is the predicted class.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..methods.asa import ASA
from ..config.run_config import RunConfig
from .layers import LayerTrace, SpikingLayer
from ..neurons.registry import neuron_model
from .readout import spiking_readout

POOL_ABOVE_WIDTH = 8


class Trace(NamedTuple):
    """Recorded internals of one forward pass for the selected samples."""

    layers: tuple[LayerTrace, ...]
    logits: torch.Tensor                  # (T, b, classes) readout at each step (spiking readouts:
                                          # as if only steps <= t were seen)


class ModelOutput(NamedTuple):
    logits: torch.Tensor                  # (B, classes) what cross-entropy sees
    spikes: tuple[torch.Tensor, ...]      # per spiking layer, (T, B, ...); the output layer last if spiking
    trace: Trace | None
    predictions: torch.Tensor | None = None       # (B,) predicted class (first-spike: with the tie-break)
    output_potential: torch.Tensor | None = None  # (T, B, classes) output membrane before reset; spiking only
    spike_times: tuple[torch.Tensor, ...] | None = None   # engine exact: per layer (B, N, K), inf = no spike


class SpikingNetwork(nn.Module):
    """Feed-forward SNN over time-major input ``[T, B, C, H, W]``."""

    def __init__(self, layers: list[SpikingLayer], readout: nn.Linear | None, flatten_before: int,
                 readout_kind: str = "rate", tau_loss: float = 4.0):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.readout = readout                  # None when the last layer is the spiking output "out"
        self.flatten_before = flatten_before    # index of the first fully connected layer
        self.readout_kind = readout_kind
        self.tau_loss = tau_loss

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    @property
    def hidden_features(self) -> int:
        """Neurons of the last hidden layer (flattened): the inputs of the readout or of the output layer "out"."""
        return (self.layers[-1].synapse if self.readout is None else self.readout).in_features

    def hidden_spikes(self, out: ModelOutput) -> torch.Tensor:
        """The last hidden layer's spikes ``(T, B, ...)`` in ``out``: the last spiking layer for the rate
        readout, the one before "out" for spiking readouts."""
        return out.spikes[-1] if self.readout is not None else out.spikes[-2]

    def first_spikes(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes ``(T, B, ...)`` of the first spiking layer for the input ``x[T, B, ...]``; ``forward(s, start=1)``
        continues from them exactly as ``forward(x)`` would."""
        if self.flatten_before == 0:
            x = x.flatten(2)
        return self.layers[0](x).spikes

    def forward(self, x: torch.Tensor, record: torch.Tensor | None = None, start: int = 0) -> ModelOutput:
        """Logits of input ``x[T, B, ...]``. ``start`` > 0: ``x`` is the spike train of layer ``start - 1`` and
        layers ``start..`` run on it from rest (TRT's perturbed branch); ``spikes`` then holds those layers only."""
        spikes, traces, spiking_out = [], [], self.readout is None
        if not 0 <= start <= len(self.layers) - spiking_out:
            raise ValueError(f"start={start} is not valid; allowed: 0..{len(self.layers) - spiking_out}")
        for index, layer in enumerate(self.layers[start:], start=start):
            if index == self.flatten_before:
                x = x.flatten(2)                                   # (T, B, features)
            out = layer(x, record, keep_potentials=spiking_out and index == len(self.layers) - 1)
            x = out.spikes
            spikes.append(out.spikes)
            if out.trace is not None:
                traces.append(out.trace)
        if spiking_out:
            read = spiking_readout(self.readout_kind, x, out.v_pre, self.tau_loss)   # x: (T, B, classes)
            trace = None if record is None else Trace(tuple(traces), read.step_logits[:, record].detach())
            return ModelOutput(read.logits, tuple(spikes), trace, read.predictions, out.v_pre)
        if self.flatten_before == len(self.layers):
            x = x.flatten(2)
        step_logits = self.readout(x)                              # (T, B, classes)
        trace = None if record is None else Trace(tuple(traces), step_logits[:, record].detach())
        logits = step_logits.mean(0)                               # (B, classes)
        return ModelOutput(logits, tuple(spikes), trace, logits.detach().argmax(1))


def _asa_layers(cfg: RunConfig, n_conv: int) -> set[int]:
    """1-based numbers of the conv layers that get ASA; ValueError if the config asks for the impossible."""
    methods = cfg.methods
    if methods.asa == "off":
        return set()
    if cfg.model.arch != "conv":
        raise ValueError(f"methods.asa (--asa)={methods.asa!r} gates conv layers, but arch={cfg.model.arch!r} "
                         "has none; allowed: --arch conv, or --asa off")
    too_big = [i for i in methods.asa_layers if i > n_conv]
    if too_big:
        raise ValueError(f"methods.asa_layers (--asa-layers)={methods.asa_layers} names conv layer(s) {too_big}, "
                         f"but the network has {n_conv}; allowed: numbers 1..{n_conv}, or empty for all")
    return set(methods.asa_layers) or set(range(1, n_conv + 1))


def _asa_gate(cfg: RunConfig) -> ASA:
    m = cfg.methods
    return ASA(cfg.data.time_steps, m.asa_lambda, m.asa_reduction, m.asa, m.asa_rule,
               m.asa_gate_important, m.asa_gate_sub)


def _conv_layers(channels: tuple[int, ...], frame_shape: tuple[int, ...], cfg: RunConfig, neuron):
    """Spiking conv layers; returns them and the flattened size of their output."""
    layers, (in_ch, height, width) = [], frame_shape
    gated = _asa_layers(cfg, len(channels))
    for index, out_ch in enumerate(channels, start=1):
        ops: list[nn.Module] = []
        if width > POOL_ABOVE_WIDTH:
            ops.append(nn.AvgPool2d(2))
            height, width = height // 2, width // 2
        ops.append(nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=not cfg.model.batch_norm))
        norm = nn.BatchNorm2d(out_ch) if cfg.model.batch_norm else None
        gate = _asa_gate(cfg) if index in gated else None
        layers.append(SpikingLayer(f"conv{index}", nn.Sequential(*ops), norm, neuron, gate, cfg.neuron.model))
        in_ch = out_ch
    return layers, in_ch * height * width


def build_model(cfg: RunConfig, frame_shape: tuple[int, ...], n_classes: int) -> SpikingNetwork:
    """The network a config describes, for inputs of ``frame_shape`` per time step."""
    if cfg.model.engine == "exact":
        from ..methods.ttfs.exact_network import build_exact_model         # here: exact_model imports this module
        return build_exact_model(cfg, frame_shape, n_classes)
    neuron = neuron_model(cfg.neuron.model).params_from_config(cfg.neuron)
    _asa_layers(cfg, len(cfg.model.channels) if cfg.model.arch == "conv" else 0)     # fail early on a bad ASA setup
    if cfg.model.arch == "conv":
        if len(frame_shape) != 3:
            raise ValueError(f"arch='conv' needs image-shaped inputs (C, H, W); got frame shape {frame_shape}")
        layers, features = _conv_layers(cfg.model.channels, frame_shape, cfg, neuron)
    elif cfg.model.arch == "mlp":
        if not cfg.model.hidden:
            raise ValueError("arch='mlp' needs at least one hidden layer; --hidden must list 1 to 4 sizes")
        layers, features = [], int(torch.Size(frame_shape).numel())
    else:
        raise ValueError(f"arch={cfg.model.arch!r} is not known; allowed: mlp, conv")
    flatten_before = len(layers)
    for index, size in enumerate(cfg.model.hidden, start=1):
        norm = nn.BatchNorm1d(size) if cfg.model.batch_norm else None
        layers.append(SpikingLayer(f"fc{index}", nn.Linear(features, size, bias=not cfg.model.batch_norm),
                                   norm, neuron, model=cfg.neuron.model))
        features = size
    kind = cfg.model.readout
    if kind == "rate":
        return SpikingNetwork(layers, nn.Linear(features, n_classes), flatten_before)
    layers.append(SpikingLayer("out", nn.Linear(features, n_classes), None, neuron, model=cfg.neuron.model))
    return SpikingNetwork(layers, None, flatten_before, kind, cfg.model.tau_loss)
