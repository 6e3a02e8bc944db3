"""PLIF, the parametric LIF neuron (Fang et al., ICCV 2021), as one record: each layer learns its membrane decay.

The whole method is this folder: ``decay`` (the learnable β = σ(w) of a layer) and the record below, which the
config, its check, the budget, the model builder, the sidebar, Compare live and NIR export read by themselves.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...fields import spec
from ...network.discrete import spiking_layer_names
from ..method import Method, Reading, Setting, Twin
from .decay import DECAY_LATEX, LearnableDecay

if TYPE_CHECKING:
    from ...data import DatasetInfo
    from ...fields import Config
    from ...network.protocol import Network

# the reference step loop keeps every step's tensors for autograd, which the fused op does not
# (config.budget's BACKWARD_FACTOR is measured on the fused op): an upper bound, like the budget's other factors
MEMORY_FACTOR = 2.0

SETTINGS = (
    Setting("methods", "plif", spec("off", "plif", "parametric LIF (Fang et al. 2021): every spiking layer learns "
                                    "its membrane decay beta = sigmoid(w), starting at neuron.decay (lif neurons, "
                                    "discrete engine; runs the reference step loop, which has beta's gradient)",
                                    choices=("off", "on"))),
)


def rules(cfg: Config, info: DatasetInfo) -> list[str]:
    """PLIF learns the LIF's decay, so it needs a LIF with a leak to start from, in the time-stepped network."""
    if cfg.methods.plif == "off":
        return []
    problems = []
    if cfg.model.engine != "discrete":
        problems.append(f"methods.plif (--plif)='on' needs model.engine (--engine)='discrete'; got "
                        f"{cfg.model.engine!r}; allowed: --engine discrete, or --plif off")
    if cfg.neuron.model != "lif":
        problems.append(f"methods.plif (--plif)='on' learns the LIF's decay, but neuron.model (--neuron)="
                        f"{cfg.neuron.model!r}; allowed: --neuron lif, or --plif off")
    if cfg.neuron.decay >= 1:
        problems.append(f"methods.plif (--plif)='on' starts each layer's decay at neuron.decay (--decay)="
                        f"{cfg.neuron.decay:g}, where its logit is infinite; allowed: --decay below 1, or --plif off")
    return problems


def memory_factor(cfg: Config) -> float:
    return MEMORY_FACTOR if cfg.methods.plif == "on" else 1


def dynamics(cfg: Config):
    """A learnable decay for every spiking layer, each starting at ``neuron.decay``; None with PLIF off."""
    if cfg.methods.plif == "off":
        return None
    return lambda name: LearnableDecay(cfg.neuron.decay)


def learned_tau(network: Network) -> dict[str, float]:
    """Each PLIF layer's membrane time constant now, in time steps ({} for a network without PLIF)."""
    return {layer.name: dynamics.tau() for layer in network.layers
            if isinstance(dynamics := getattr(layer, "dynamics", None), LearnableDecay)}


def layer_marks(cfg: Config) -> dict[str, str]:
    if cfg.methods.plif == "off" or cfg.model.engine != "discrete":
        return {}
    return {name: "PLIF learned τ" for name in spiking_layer_names(cfg)}


METHOD = Method(
    name="plif",
    title="PLIF (parametric LIF)",
    summary="every spiking layer learns its own membrane time constant",
    settings=SETTINGS,
    rules=rules,
    memory_factor=memory_factor,
    dynamics=dynamics,
    nir_import={"plif": "off"},                   # the learned decays are written into the LIF nodes
    learns=("decay",),                            # ... so a graph whose layers' decays differ comes back as PLIF
    nir_learned={"plif": "on"},
    basic=("plif",),
    notes={"plif": "PLIF lets each layer learn its membrane decay; watch the learned τ move on Train & watch."},
    twin=Twin("PLIF", "plif"),
    marks=layer_marks,
    reading=Reading(
        label="learned membrane τ (time steps)",
        values=learned_tau,
        equation=DECAY_LATEX,
        explain="With PLIF each layer learns how leaky its neurons are. β is the fraction of the membrane "
                "potential kept from one step to the next, and τ = −1/ln β is how many steps a potential takes "
                "to fade to about a third. A layer whose τ grows is learning to remember its inputs longer; one "
                "whose τ shrinks reacts to recent inputs only. Every layer starts at the sidebar's decay."),
)
