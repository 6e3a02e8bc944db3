"""The time-stepped spiking network built from a config: spiking layers, then a time-averaged linear readout.

``mlp``: flatten each frame, then spiking fully connected layers ``model.hidden``.
``conv``: spiking 3x3 conv layers ``model.channels`` (each first average-pools its input by 2
while the input is wider than 8 pixels: pooling before a conv costs 4x less than after, and the
two linear maps commute up to borders), then the spiking FC layers, then the readout.
Each conv layer gets the current gate that ``gate_for(conv_number)`` builds (None: no gate) between
norm and neuron, and every spiking layer the neuron dynamics ``dynamics_for(layer name)`` builds (None: the
config's fixed parameters); the methods supply both factories (``methods.engines``), the network knows none of them.
``model.readout``: ``rate`` (default) is non-spiking, ``logits = mean_t W s_L[t] + b``. ``first-spike``
and ``count`` end in a spiking output layer named "out" (Linear -> neuron; no BatchNorm, no gate) whose
logits come from ``snn_core.network.readout``; it is one of ``layers``, so its spikes are in ``ModelOutput.spikes``
and NASFR counts it (as the ASA paper's NASFR counts every spiking layer). Either way the trainer's loss
is ``cross_entropy(out.logits, y)`` and ``out.predictions`` is the predicted class.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

import torch
from torch import nn

from ..neurons.registry import neuron_model
from .layers import NeuronDynamics, SpikingLayer
from .readout import spiking_readout
from .records import ModelOutput, Trace

if TYPE_CHECKING:
    from ..fields import Config

POOL_ABOVE_WIDTH = 8
GateFactory = Callable[[int], nn.Module | None]     # 1-based conv layer number -> its current gate, or None
DynamicsFactory = Callable[[str], NeuronDynamics | None]    # layer name -> its neuron dynamics, or None


def no_dynamics(name: str) -> None:
    return None


class SpikingNetwork(nn.Module):
    """Feed-forward SNN over time-major input ``[T, B, C, H, W]``."""

    def __init__(self, layers: list[SpikingLayer], readout: nn.Linear | None, flatten_before: int,
                 readout_kind: str = "rate", tau_loss: float = 4.0):
        super().__init__()
        # an nn.ModuleList, so the layers register as submodules; typed as the sequence of layers it holds
        self.layers = cast(Sequence[SpikingLayer], nn.ModuleList(layers))
        self.readout = readout                  # None when the last layer is the spiking output "out"
        self.flatten_before = flatten_before    # index of the first fully connected layer
        self.readout_kind = readout_kind
        self.tau_loss = tau_loss

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    @property
    def last_hidden(self) -> int:
        """Index in ``layers`` (and ``ModelOutput.spikes``) of the last hidden layer: the one feeding the
        readout (the last layer for the rate readout, the one before "out" for spiking readouts)."""
        return len(self.layers) - 1 if self.readout is not None else len(self.layers) - 2

    @property
    def hidden_features(self) -> int:
        """Neurons of the last hidden layer (flattened): the inputs of the readout or of the output layer "out"."""
        feeding = self.layers[-1].synapse if self.readout is None else self.readout
        assert isinstance(feeding, nn.Linear)       # build_network: the last layers are fully connected
        return feeding.in_features

    def layer_spikes(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """Spikes ``(T, B, ...)`` of layer ``index`` run from rest on its input ``x[T, B, ...]``: the network
        input for layer 0, else the spikes of layer ``index - 1``."""
        if index == self.flatten_before:
            x = x.flatten(2)                                       # (T, B, features)
        return self.layers[index](x).spikes

    def forward(self, x: torch.Tensor, record: torch.Tensor | None = None) -> ModelOutput:
        """Logits of input ``x[T, B, ...]``; ``record`` holds the batch indices to trace."""
        return self._run(x, 0, record)

    def resume(self, spikes: tuple[torch.Tensor, ...]) -> ModelOutput:
        """The output had the first k = ``len(spikes)`` layers fired ``spikes`` (each ``(T, B, ...)``): layers
        k.. run from rest on ``spikes[-1]``. ``spikes`` of the result holds every layer, the given ones first."""
        allowed = len(self.layers) - (self.readout is None)        # "out" must run: its membrane breaks ties
        if not 1 <= len(spikes) <= allowed:
            raise ValueError(f"spikes of {len(spikes)} layer(s) given; allowed: the first 1..{allowed} layers")
        out = self._run(spikes[-1], len(spikes), None)
        return out._replace(spikes=tuple(spikes) + out.spikes)

    def _run(self, x: torch.Tensor, start: int, record: torch.Tensor | None) -> ModelOutput:
        """Layers ``start..`` on ``x`` (the input of layer ``start``), then the readout."""
        spikes, traces, spiking_out = [], [], self.readout is None
        for index, layer in enumerate(self.layers[start:], start=start):
            if index == self.flatten_before:
                x = x.flatten(2)                                   # (T, B, features)
            read_potential = spiking_out and index == len(self.layers) - 1       # "out": the readout reads v_pre
            out = layer.forward_with_potential(x, record) if read_potential else layer(x, record)
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
        assert self.readout is not None                            # not spiking_out: the rate readout
        step_logits = self.readout(x)                              # (T, B, classes)
        trace = None if record is None else Trace(tuple(traces), step_logits[:, record].detach())
        logits = step_logits.mean(0)                               # (B, classes)
        return ModelOutput(logits, tuple(spikes), trace, logits.detach().argmax(1))


def spiking_layer_names(cfg: Config) -> list[str]:
    """The names of the spiking layers ``build_network`` makes for ``cfg``, in order (conv1.., fc1.., and "out" for a
    spiking readout), known from the config alone: what the network view and an importer label layers by."""
    convs = [f"conv{i}" for i in range(1, len(cfg.model.channels) + 1)] if cfg.model.arch == "conv" else []
    return convs + [f"fc{i}" for i in range(1, len(cfg.model.hidden) + 1)] + (["out"] if cfg.model.readout != "rate"
                                                                               else [])


def _norm(kind: type[nn.BatchNorm1d | nn.BatchNorm2d], features: int, cfg: Config) -> nn.Module | None:
    """A BatchNorm of ``features`` with γ started at ``model.bn_gamma`` (β at 0), or None without BatchNorm.
    γ is set, not drawn, so the weights the global generator gives every other layer do not change with it."""
    if not cfg.model.batch_norm:
        return None
    norm = kind(features)
    nn.init.constant_(norm.weight, cfg.model.bn_gamma)
    return norm


def _conv_layers(cfg: Config, frame_shape: tuple[int, ...], neuron, gate_for: GateFactory,
                 dynamics_for: DynamicsFactory):
    """Spiking conv layers; returns them and the flattened size of their output."""
    layers, (in_ch, height, width) = [], frame_shape
    for index, out_ch in enumerate(cfg.model.channels, start=1):
        ops: list[nn.Module] = []
        if width > POOL_ABOVE_WIDTH:
            ops.append(nn.AvgPool2d(2))
            height, width = height // 2, width // 2
        ops.append(nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=not cfg.model.batch_norm))
        norm = _norm(nn.BatchNorm2d, out_ch, cfg)
        gate = gate_for(index)                                     # built after the norm: the RNG draws' order
        name = f"conv{index}"
        layers.append(SpikingLayer(name, nn.Sequential(*ops), norm, neuron, gate, cfg.neuron.model,
                                   dynamics_for(name)))
        in_ch = out_ch
    return layers, in_ch * height * width


def build_network(cfg: Config, frame_shape: tuple[int, ...], n_classes: int, gate_for: GateFactory,
                  dynamics_for: DynamicsFactory = no_dynamics) -> SpikingNetwork:
    """The network a config describes, for inputs of ``frame_shape`` per time step; ``gate_for`` builds
    the current gate of each conv layer, ``dynamics_for`` each layer's neuron dynamics. The config is one
    ``config.check`` accepts (``build_model`` asks)."""
    neuron = neuron_model(cfg.neuron.model).params_from_config(cfg.neuron)
    if cfg.model.arch == "conv":
        layers, features = _conv_layers(cfg, frame_shape, neuron, gate_for, dynamics_for)
    else:                                                          # mlp
        layers, features = [], int(torch.Size(frame_shape).numel())
    flatten_before = len(layers)
    for index, size in enumerate(cfg.model.hidden, start=1):
        norm = _norm(nn.BatchNorm1d, size, cfg)
        layers.append(SpikingLayer(f"fc{index}", nn.Linear(features, size, bias=not cfg.model.batch_norm),
                                   norm, neuron, model=cfg.neuron.model, dynamics=dynamics_for(f"fc{index}")))
        features = size
    kind = cfg.model.readout
    if kind == "rate":
        return SpikingNetwork(layers, nn.Linear(features, n_classes), flatten_before)
    layers.append(SpikingLayer("out", nn.Linear(features, n_classes), None, neuron, model=cfg.neuron.model,
                               dynamics=dynamics_for("out")))
    return SpikingNetwork(layers, None, flatten_before, kind, cfg.model.tau_loss)
