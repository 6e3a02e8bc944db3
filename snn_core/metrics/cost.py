"""What a forward pass costs: synaptic operations, dense multiply-accumulates and an energy estimate, per layer.

A spike costs its fan-out. With s_i(t) the input spikes of a layer (or event counts: an input of 3 is three
events) and f_i the number of synapses leaving input i (its fan-out)::

    SOP_l   = sum_{t, i} s_i(t) f_i                     accumulate-only operations, driven by spikes
    MAC_l   = dense multiply-accumulates that no spike drives:
              - a layer on analog input (direct encoding): every connection at every step whose frame differs
                from the step before (a frame repeated at every step is multiplied once);
              - a current gate that is not one number (ASA): its own convs and linear maps, counted by torch's
                FLOP counter, plus one multiply per current element to apply it
    ANN_l   = sum_i f_i                                 the same layer as an ANN: one dense pass, all MACs
    E       = e_AC sum_l SOP_l + e_MAC sum_l MAC_l      against E_ANN = e_MAC sum_l ANN_l

The fan-out of a synapse is counted on its structure (every weight as one connection: a conv's kernel at each
position it covers, average pooling before a conv composed into it, borders included), not on the weights'
values. A gate that is one number at inference (``ScaleGate``) folds into the weights and costs nothing;
BatchNorm folds into the synapse at inference too. Defaults: 0.9 pJ per accumulate and 4.6 pJ per
multiply-accumulate (32-bit float at 45 nm, Horowitz 2014). Left out: memory access and data movement (which
often dominate on real chips), the neurons' own updates (leak, threshold, reset) and biases.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..network.layers import ScaleGate
from ..network.protocol import Network

COST_EQUATIONS = (
    r"SOP_l = \sum_{t,i} s_i(t)\, f_i,\quad E = e_{AC} \sum_l SOP_l + e_{MAC} \sum_l MAC_l,"
    r"\quad E_{ANN} = e_{MAC} \sum_l \sum_i f_i"
)
READOUT = "readout"            # the rate readout's row: a linear map of the last hidden layer's spikes


@dataclass(frozen=True)
class EnergyModel:
    """Energy of one operation, in picojoules (defaults: Horowitz 2014, 45 nm, 32-bit float)."""
    e_ac_pj: float = 0.9
    e_mac_pj: float = 4.6

    def __post_init__(self):
        for name in ("e_ac_pj", "e_mac_pj"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1e6:
                raise ValueError(f"{name}={value!r} is not valid; allowed: picojoules per operation, 0 to 1e6")


DEFAULT_ENERGY = EnergyModel()


@dataclass(frozen=True)
class LayerCost:
    """One layer's operations per sample."""
    synaptic_ops: float        # accumulates driven by input spikes: sum s_i f_i
    dense_macs: float          # multiply-accumulates no spike drives (analog input, a gate's own maps)
    ann_macs: float            # the same layer as an ANN, one dense pass

    def energy_pj(self, energy: EnergyModel) -> float:
        return energy.e_ac_pj * self.synaptic_ops + energy.e_mac_pj * self.dense_macs


@dataclass(frozen=True)
class CostMetrics:
    """The operations of every layer (spiking layers in order, then ``readout`` for a rate readout) per sample,
    priced by ``energy``; ``priced(other)`` re-prices the same counts."""
    layers: dict[str, LayerCost]
    energy: EnergyModel = DEFAULT_ENERGY

    @property
    def synaptic_ops(self) -> float:
        return sum(layer.synaptic_ops for layer in self.layers.values())

    @property
    def dense_macs(self) -> float:
        return sum(layer.dense_macs for layer in self.layers.values())

    @property
    def ann_macs(self) -> float:
        return sum(layer.ann_macs for layer in self.layers.values())

    @property
    def layer_energy_pj(self) -> dict[str, float]:
        return {name: layer.energy_pj(self.energy) for name, layer in self.layers.items()}

    @property
    def energy_pj(self) -> float:
        return sum(self.layer_energy_pj.values())

    @property
    def ann_energy_pj(self) -> float:
        return self.energy.e_mac_pj * self.ann_macs

    @property
    def energy_share(self) -> dict[str, float]:
        """Each layer's fraction of the energy (0 everywhere when nothing cost anything)."""
        total = self.energy_pj
        return {name: (value / total if total > 0 else 0.0) for name, value in self.layer_energy_pj.items()}

    def priced(self, energy: EnergyModel) -> CostMetrics:
        return replace(self, energy=energy)


def structural_map(synapse: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``synapse`` applied to ``x[B, ...]`` with every weight 1 and no bias: entry (o, i) of its matrix counts
    the connections from input i to output o. Linear, Conv2d, AvgPool2d (as a sum over its window) and
    Sequentials of them; anything else is refused, since its fan-out is not known."""
    if isinstance(synapse, nn.Sequential):
        for part in synapse:
            x = structural_map(part, x)
        return x
    if isinstance(synapse, nn.Linear):
        return F.linear(x.flatten(1), _ones(synapse.weight, x))
    if isinstance(synapse, nn.Conv2d):
        return F.conv2d(x, _ones(synapse.weight, x), None, synapse.stride, synapse.padding,
                        synapse.dilation, synapse.groups)
    if isinstance(synapse, nn.AvgPool2d):
        kernel = nn.modules.utils._pair(synapse.kernel_size)
        return F.avg_pool2d(x, synapse.kernel_size, synapse.stride, synapse.padding, synapse.ceil_mode,
                            synapse.count_include_pad) * (kernel[0] * kernel[1])
    raise ValueError(f"cannot count the fan-out of a {type(synapse).__name__} synapse; allowed: Linear, Conv2d, "
                     "AvgPool2d and Sequentials of them")


def _ones(weight: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.ones(weight.shape, dtype=x.dtype, device=x.device)


def fan_out(synapse: nn.Module, input_shape: Sequence[int]) -> torch.Tensor:
    """f_i of every input element of one sample (``input_shape``, without batch): the column sums of the
    synapse's connection matrix, read as the gradient of the summed structural map (it is linear)."""
    x = torch.ones(1, *input_shape, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        structural_map(synapse, x).sum().backward()
    assert x.grad is not None
    return x.grad[0].detach()


def gate_macs(gate: nn.Module | None, current_shape: Sequence[int]) -> float:
    """Dense MACs per sample of a current gate on currents ``[T, b, ...]`` of ``current_shape`` (b >= 2: a gate
    may pool over its batch): its convs and linear maps (torch's FLOP counter: 2 FLOPs per MAC) plus one multiply
    per current element; 0 without a gate or for a ``ScaleGate`` (folded into the weights)."""
    if gate is None or isinstance(gate, (nn.Identity, ScaleGate)):
        return 0.0
    parameter = next(gate.parameters(), None)
    current = torch.rand(*current_shape, device=parameter.device if parameter is not None else "cpu")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        gate(current)
    batch = current_shape[1]
    return counter.get_total_flops() / 2 / batch + current[:, 0].numel()


def is_event_input(x: torch.Tensor) -> bool:
    """Whether an input ``[T, B, ...]`` is spikes or event counts (non-negative integers): each unit is one
    event, driving its fan-out in accumulates. Anything else is analog and multiplies densely."""
    return bool((x >= 0).all() and (x == x.round()).all())


def changed_steps(x: torch.Tensor) -> torch.Tensor:
    """``[B]``: the steps at which each sample's analog frame differs from the step before (step 0 counts)."""
    differs = (x[1:] != x[:-1]).flatten(2).any(2)                          # (T-1, B)
    return 1 + differs.sum(0)


class CostTally:
    """Running operation counts of a network over evaluated batches (``add`` each batch's input and spikes)."""

    def __init__(self, model: Network):
        self.layers = list(model.layers)
        readout = getattr(model, "readout", None)
        self.readout = readout if isinstance(readout, nn.Linear) else None
        self.samples = 0
        self.sops: dict[str, float] = {}
        self.macs: dict[str, float] = {}
        self.ann: dict[str, float] = {}
        self.gates: dict[str, float] = {}
        self.fan_outs: dict[str, torch.Tensor] = {}

    def _fan_out(self, name: str, synapse: nn.Module, layer_input: torch.Tensor) -> torch.Tensor:
        if name not in self.fan_outs:
            self.fan_outs[name] = fan_out(synapse, layer_input.shape[2:]).to(layer_input.device)
            self.ann[name] = float(self.fan_outs[name].sum())
        return self.fan_outs[name]

    def _count(self, name: str, synapse: nn.Module, layer_input: torch.Tensor, events: bool) -> None:
        """Add one layer's operations on ``layer_input[T, B, ...]`` (summed over the batch)."""
        fan = self._fan_out(name, synapse, layer_input)
        if fan.dim() == 1:
            layer_input = layer_input.flatten(2)
        if events:
            sops = float((layer_input.detach().sum((0, 1), dtype=torch.float64) * fan).sum())   # no float64 copy
            macs = 0.0
        else:
            sops, macs = 0.0, float(changed_steps(layer_input).sum()) * self.ann[name]
        self.sops[name] = self.sops.get(name, 0.0) + sops
        self.macs[name] = self.macs.get(name, 0.0) + macs

    def add(self, inputs: torch.Tensor, spikes: tuple[torch.Tensor, ...]) -> None:
        """One batch: the network's input ``[T, B, ...]`` and every layer's spikes ``[T, B, ...]``."""
        batch = inputs.shape[1]
        self.samples += batch
        layer_input, events = inputs, is_event_input(inputs)
        for layer, layer_spikes in zip(self.layers, spikes):
            self._count(layer.name, layer.synapse, layer_input, events)
            if layer.name not in self.gates:
                shape = (layer_spikes.shape[0], 2, *layer_spikes.shape[2:])
                self.gates[layer.name] = gate_macs(layer.gate, shape)
            self.macs[layer.name] += self.gates[layer.name] * batch
            layer_input, events = layer_spikes, True
        if self.readout is not None:
            self._count(READOUT, self.readout, layer_input, True)

    def summary(self, energy: EnergyModel = DEFAULT_ENERGY) -> CostMetrics:
        if self.samples == 0:
            raise ValueError("no batches were added: cost metrics need at least one evaluated sample")
        per = 1.0 / self.samples
        return CostMetrics({name: LayerCost(self.sops[name] * per, self.macs[name] * per, self.ann[name])
                            for name in self.sops}, energy)
