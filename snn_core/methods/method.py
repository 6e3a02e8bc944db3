"""What a method is, whole: one record that the shared code loops over (``catalogue.METHODS``).

A published method lives in its own folder, ``methods/<name>/``, whose ``__init__`` holds its ``Method``: the
settings it adds to the config (each a ``fields.spec`` field, placed in a config section), the rules that say
which combinations cannot run, its memory factor, how it builds (a current gate for conv layers, per-layer
neuron dynamics, training hooks, an engine of its own), what NIR can and cannot carry of it, how the sidebar,
Compare live's twin menu and the network view show it, and the readings a learner watches live. The config,
its check, the memory budget, the model registry, the NIR exporter and the app's menus read these records and
name no method; adding a method is one folder plus its line in ``catalogue``.

A record imports the config only for type hints: the config is built from the records, so it sits above them.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from ..network.discrete import DynamicsFactory, GateFactory

if TYPE_CHECKING:
    from ..data import Dataset, DatasetInfo
    from ..fields import Config
    from ..network.protocol import Network
    from .hooks import MethodHook

Rule = Callable[["Config", "DatasetInfo"], list[str]]
HookFactory = Callable[["Config", "Network", "Dataset"], "MethodHook | None"]
EngineBuilder = Callable[["Config", tuple[int, ...], int], "Network"]


class Setting(NamedTuple):
    """One config field a method adds: the config ``section`` it sits in, its attribute name, and its spec field
    (``fields.spec``: CLI name, help, allowed values)."""

    section: str
    name: str
    field: dataclasses.Field


class Twin(NamedTuple):
    """The method's entry in Compare live's "the twin differs in" menu: the setting a twin changes (by CLI name),
    the values offered (None: the field's own choices) and how some values read (value -> label)."""

    label: str
    cli: str
    values: tuple[str, ...] | None = None
    value_labels: Mapping[str, str] = {}


class Reading(NamedTuple):
    """What a learner watches of the method while a run trains: one number per layer, read from the network.

    ``values(network)`` gives ``{layer name: value}`` ({} when the method is off in that network); ``equation`` is
    the LaTeX shown beside the chart, ``explain`` one paragraph a student understands."""

    label: str
    values: Callable[[Network], dict[str, float]]
    equation: str
    explain: str


def no_rules(cfg: Config, info: DatasetInfo) -> list[str]:
    return []


def unit_memory(cfg: Config) -> float:
    return 1.0


def nothing_to_refuse(cfg: Config) -> str | None:
    return None


def no_marks(cfg: Config) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Method:
    """One published method (see the module docstring). Every part but the names is optional.

    ``basic`` are the CLI names classroom mode shows; ``notes`` captions shown above a setting in the sidebar (by
    CLI name); ``aliases`` other names a setting is accepted by (the papers' K for the spike cap);
    ``memory_factor(cfg)`` multiplies the activations' memory estimate (``config.budget``); ``gates(cfg)`` and
    ``dynamics(cfg)`` fill the network's slots (``network.layers``), None when the method leaves them empty;
    ``nir_refusal(cfg)`` says why NIR cannot carry a network with it, None when it can; ``nir_import`` are the
    settings an imported graph takes (what export folded into the graph's weights or neurons); ``learns`` the
    neuron settings the method learns per layer (a graph whose layers differ in them is imported with the method
    on, ``nir_learned``, each layer's dynamics set to its own values); ``marks(cfg)``
    labels layers in the network view."""

    name: str
    title: str
    summary: str
    settings: tuple[Setting, ...]
    rules: Rule = no_rules
    memory_factor: Callable[[Config], float] = unit_memory
    hooks: tuple[HookFactory, ...] = ()
    gates: Callable[[Config], GateFactory | None] | None = None
    dynamics: Callable[[Config], DynamicsFactory | None] | None = None
    engines: Mapping[str, EngineBuilder] = field(default_factory=dict)
    nir_refusal: Callable[[Config], str | None] = nothing_to_refuse
    nir_import: Mapping[str, str] = field(default_factory=dict)
    learns: tuple[str, ...] = ()
    nir_learned: Mapping[str, str] = field(default_factory=dict)
    basic: tuple[str, ...] = ()
    sliders: tuple[str, ...] = ()
    notes: Mapping[str, str] = field(default_factory=dict)
    examples: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    twin: Twin | None = None
    marks: Callable[[Config], dict[str, str]] = no_marks
    reading: Reading | None = None

    @property
    def cli_names(self) -> tuple[str, ...]:
        """The CLI names of the method's settings, in its order (the sidebar's order)."""
        return tuple(setting.field.metadata["cli"] for setting in self.settings)


def settings_in(methods, section: str) -> list[tuple[str, dataclasses.Field]]:
    """``(name, field)`` of every setting ``methods`` add to config ``section``, in the records' order."""
    return [(setting.name, setting.field) for method in methods for setting in method.settings
            if setting.section == section]
