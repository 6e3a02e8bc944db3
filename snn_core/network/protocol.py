"""The network interface that the trainer, metrics, checkpoints and pages rely on; both engines satisfy it.

A network is an ``nn.Module`` whose ``forward(x[T, B, ...], record)`` returns a ``ModelOutput``
(``network.records``) and whose ``layers`` are its spiking populations in forward order, each
with a ``name`` (the key of records, metrics and figures), a ``synapse`` (its input weights) and
a ``gate`` on its current (a module such as ASA, ``nn.Identity`` or None when there is none).
Only the ``nn.Module`` calls listed here are used from outside the engine.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, Self, runtime_checkable

import torch
from torch import nn

from .records import ModelOutput


class NetworkLayer(Protocol):
    # read-only (properties): a layer may hold a narrower type, e.g. a gate that is never None
    @property
    def name(self) -> str: ...

    @property
    def synapse(self) -> nn.Module: ...

    @property
    def gate(self) -> nn.Module | None: ...


@runtime_checkable
class Network(Protocol):
    training: bool

    @property
    def layers(self) -> Sequence[NetworkLayer]:
        """The spiking layers in forward order (read-only here, so an engine may hold a narrower layer type)."""

    @property
    def layer_names(self) -> list[str]:
        """``[layer.name for layer in layers]``, the order of ``ModelOutput.spikes``."""

    def __call__(self, x: torch.Tensor, record: torch.Tensor | None = None) -> ModelOutput:
        """``forward``: ``x[T, B, ...]`` -> ``ModelOutput``; ``record`` holds batch indices to trace."""

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]: ...

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, nn.Parameter]]: ...

    def modules(self) -> Iterator[nn.Module]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> Any: ...

    def to(self, device: torch.device | str) -> Self: ...

    def train(self, mode: bool = True) -> Self: ...

    def eval(self) -> Self: ...
