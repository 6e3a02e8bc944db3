"""The engines by name (``model.engine``): each builds the network a config describes, methods' parts included.

The discrete network gets ASA's gates through its ``gate_for`` slot here, so neither engine imports a
method; the config reads the names (``model.engine`` choices) from ``ENGINES``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..network.discrete import build_network
from . import asa
from .ttfs.exact_network import build_exact_model

if TYPE_CHECKING:
    from ..config.run_config import RunConfig
    from ..network.protocol import Network

EngineBuilder = Callable[["RunConfig", tuple[int, ...], int], "Network"]


def build_discrete_model(cfg: RunConfig, frame_shape: tuple[int, ...], n_classes: int) -> Network:
    """The time-stepped network, its conv layers gated as ``methods.asa`` says."""
    return build_network(cfg, frame_shape, n_classes, asa.gate_factory(cfg))


ENGINES: dict[str, EngineBuilder] = {"discrete": build_discrete_model, "exact": build_exact_model}
