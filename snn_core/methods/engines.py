"""The engines by name (``model.engine``): each builds the network a config describes, methods' parts included.

The discrete network gets the methods' parts through its slots here (each conv layer's current gate, each
layer's neuron dynamics), so no engine imports a method; a method may bring an engine of its own
(``Method.engines``), and the config reads the names (``model.engine`` choices) from ``ENGINES``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..network.discrete import build_network
from .catalogue import METHODS
from .method import EngineBuilder

if TYPE_CHECKING:
    from ..fields import Config
    from ..network.protocol import Network


def _first(factories: list):
    """One slot factory out of the methods' (at most one fills a slot: ``config.check`` refuses two); a slot
    nobody fills stays empty."""
    return factories[0] if factories else (lambda key: None)


def build_discrete_model(cfg: Config, frame_shape: tuple[int, ...], n_classes: int) -> Network:
    """The time-stepped network, its slots filled by the methods ``cfg`` switches on."""
    gates = [factory for method in METHODS if method.gates and (factory := method.gates(cfg))]
    dynamics = [made for method in METHODS if method.dynamics and (made := method.dynamics(cfg))]
    return build_network(cfg, frame_shape, n_classes, _first(gates), _first(dynamics))


ENGINES: dict[str, EngineBuilder] = {"discrete": build_discrete_model,
                                     **{name: build for method in METHODS for name, build in method.engines.items()}}
