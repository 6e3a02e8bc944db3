"""The spiking network built from a config: spiking layers, then a time-averaged linear readout.

``mlp``: flatten each frame, then spiking fully connected layers ``model.hidden``.
``conv``: spiking 3x3 conv layers ``model.channels`` (each first average-pools its input by 2
while the input is wider than 8 pixels: pooling before a conv costs 4x less than after, and the
two linear maps commute up to borders), then the spiking FC layers, then the readout.
The readout is non-spiking: ``logits = mean_t W s_L[t] + b``, trained with cross-entropy.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .config import RunConfig
from .layers import LayerTrace, SpikingLayer
from .neuron import LIFParams

POOL_ABOVE_WIDTH = 8


class Trace(NamedTuple):
    """Recorded internals of one forward pass for the selected samples."""

    layers: tuple[LayerTrace, ...]
    logits: torch.Tensor                  # (T, b, classes) readout at each step


class ModelOutput(NamedTuple):
    logits: torch.Tensor                  # (B, classes), averaged over time
    spikes: tuple[torch.Tensor, ...]      # per spiking layer, (T, B, ...)
    trace: Trace | None


class SpikingNetwork(nn.Module):
    """Feed-forward SNN over time-major input ``[T, B, C, H, W]``."""

    def __init__(self, layers: list[SpikingLayer], readout: nn.Linear, flatten_before: int):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.readout = readout
        self.flatten_before = flatten_before    # index of the first fully connected layer

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    def forward(self, x: torch.Tensor, record: torch.Tensor | None = None) -> ModelOutput:
        spikes, traces = [], []
        for index, layer in enumerate(self.layers):
            if index == self.flatten_before:
                x = x.flatten(2)                                   # (T, B, features)
            out = layer(x, record)
            x = out.spikes
            spikes.append(out.spikes)
            if out.trace is not None:
                traces.append(out.trace)
        if self.flatten_before == len(self.layers):
            x = x.flatten(2)
        step_logits = self.readout(x)                              # (T, B, classes)
        trace = None if record is None else Trace(tuple(traces), step_logits[:, record].detach())
        return ModelOutput(step_logits.mean(0), tuple(spikes), trace)


def _conv_layers(channels: tuple[int, ...], frame_shape: tuple[int, ...], cfg: RunConfig, neuron: LIFParams):
    """Spiking conv layers; returns them and the flattened size of their output."""
    layers, (in_ch, height, width) = [], frame_shape
    for index, out_ch in enumerate(channels, start=1):
        ops: list[nn.Module] = []
        if width > POOL_ABOVE_WIDTH:
            ops.append(nn.AvgPool2d(2))
            height, width = height // 2, width // 2
        ops.append(nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=not cfg.model.batch_norm))
        norm = nn.BatchNorm2d(out_ch) if cfg.model.batch_norm else None
        layers.append(SpikingLayer(f"conv{index}", nn.Sequential(*ops), norm, neuron))
        in_ch = out_ch
    return layers, in_ch * height * width


def build_model(cfg: RunConfig, frame_shape: tuple[int, ...], n_classes: int) -> SpikingNetwork:
    """The network a config describes, for inputs of ``frame_shape`` per time step."""
    neuron = LIFParams.from_config(cfg.neuron)
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
                                   norm, neuron))
        features = size
    return SpikingNetwork(layers, nn.Linear(features, n_classes), flatten_before)
