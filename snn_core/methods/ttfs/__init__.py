"""Time-to-first-spike (Bacho & Chu 2023; Fast & Deep), as one record: the spike cap K, the exact engine, the
first-spike regulariser and weight bumping (``exact``, ``exact_network``, ``regulariser``, ``weight_bump``).

Its settings sit in the config sections whose parts they change: the spike cap in ``neuron``, the regulariser in
``model``, weight bumping in ``training``; the exact engine is a value of ``model.engine``.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ...data import DATASETS
from ...fields import spec
from ..method import Method, Setting, Twin
from .exact_network import MAX_HIDDEN, MAX_K, MAX_SLOTS, MAX_WIDTH, build_exact_model
from .regulariser import FirstSpikeRegulariser
from .weight_bump import WeightBump

if TYPE_CHECKING:
    from ...data import Dataset, DatasetInfo
    from ...fields import Config
    from ...network.protocol import Network

ENGINE = "exact"

SETTINGS = (
    Setting("neuron", "max_spikes", spec(0, "max-spikes", "cap K on spikes per neuron per sample (0 = unlimited, "
                                         "1 = TTFS)", lo=0, hi=64, kind=int)),
    Setting("model", "first_spike_reg", spec(0.0, "first-spike-reg",
                                             "first-spike readout: weight alpha of Fast & Deep's regulariser "
                                             "alpha exp(t_label / tau_syn), which pulls the true class's first "
                                             "spike earlier (0 = off; Fast & Deep used 0.005)", lo=0.0, hi=1.0,
                                             kind=float)),
    Setting("training", "weight_bump", spec(5e-4, "weight-bump", "exact engine: Fast & Deep weight bumping, added to "
                                            "the input weights of a hidden layer's neurons that missed a spike when "
                                            "over 30% of its spikes are missing, and of the outputs of classes whose "
                                            "output stayed silent on their own samples (doubling on consecutive "
                                            "bumps, at most 8x; 0 = off)",
                                            lo=0.0, hi=0.1, kind=float)),
)


def readout_rules(cfg: Config, info: DatasetInfo) -> list[str]:
    model = cfg.model
    if model.first_spike_reg > 0 and model.readout != "first-spike":
        return [f"model.first_spike_reg (--first-spike-reg)={model.first_spike_reg:g} needs first-spike times, "
                f"but readout={model.readout!r}; allowed: --readout first-spike, or 0"]
    return []


def exact_rules(cfg: Config, info: DatasetInfo) -> list[str]:
    """What the exact engine runs (``exact_network``): a latency-coded MLP of CUBA neurons with a first-spike or
    count readout, within its spike-slot budget."""
    if cfg.model.engine != ENGINE:
        return []
    static = [name for name, other in DATASETS.items() if not other.has_time_axis]
    hidden, cap = cfg.model.hidden, cfg.neuron.max_spikes
    needs = [
        (cfg.model.arch == "mlp", f"model.arch (--arch)={cfg.model.arch!r}; allowed: mlp"),
        (not info.has_time_axis, f"data.dataset (--dataset)={cfg.data.dataset!r}; allowed: {', '.join(static)} "
                                 "(a static dataset, latency-encoded)"),
        (cfg.data.encoding == "latency", f"data.encoding (--encoding)={cfg.data.encoding!r}; allowed: latency"),
        (cfg.neuron.model == "cuba", f"neuron.model (--neuron)={cfg.neuron.model!r}; allowed: cuba"),
        (cfg.model.readout != "rate", f"model.readout (--readout)={cfg.model.readout!r}; allowed: first-spike, "
                                      "count (a spiking output layer)"),
        (1 <= cap <= MAX_K, f"neuron.max_spikes (--max-spikes)={cap}; allowed: 1..{MAX_K} (0 = unlimited is not)"),
        (1 <= len(hidden) <= MAX_HIDDEN, f"model.hidden (--hidden)={list(hidden)}; allowed: 1 to {MAX_HIDDEN} layers"),
        (max(hidden, default=0) <= MAX_WIDTH, f"model.hidden (--hidden)={list(hidden)}; allowed: sizes 1..{MAX_WIDTH}"),
        (cfg.methods.asa == "off", f"methods.asa (--asa)={cfg.methods.asa!r}; allowed: off"),
    ]
    problems = [f"engine exact: {text}" for ok, text in needs if not ok]
    if problems:
        return problems
    sizes = [math.prod(info.frame_shape), *hidden, info.n_classes]
    slots = sum(n_in * (1 if i == 0 else cap) * n_out for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])))
    if slots > MAX_SLOTS:
        return [f"engine exact: model.hidden (--hidden)={list(hidden)} with neuron.max_spikes (--max-spikes)={cap} "
                f"needs {slots} spike slots x neurons per sample; allowed: at most {MAX_SLOTS} (fewer or narrower "
                "hidden layers, or a smaller K)"]
    return []


def rules(cfg: Config, info: DatasetInfo) -> list[str]:
    return readout_rules(cfg, info) + exact_rules(cfg, info)


def regulariser_hook(cfg: Config, model: Network, data: Dataset) -> FirstSpikeRegulariser | None:
    """Fast & Deep's regulariser, for ``model.first_spike_reg > 0``."""
    if cfg.model.first_spike_reg <= 0:
        return None
    return FirstSpikeRegulariser(cfg.model.tau_loss, cfg.neuron.tau_syn, cfg.model.first_spike_reg)


def weight_bump_hook(cfg: Config, model: Network, data: Dataset) -> WeightBump | None:
    """Fast & Deep's weight bumping, for the exact engine with ``training.weight_bump > 0``."""
    if cfg.model.engine != ENGINE or cfg.training.weight_bump <= 0:
        return None
    return WeightBump(cfg.training.weight_bump, len(model.layers))


def nir_refusal(cfg: Config) -> str | None:
    """NIR has no spike count and no event-driven spike times."""
    if cfg.model.engine == ENGINE:
        return (f"model.engine={cfg.model.engine!r} cannot be exported to NIR: its event-driven spike times are no "
                "NIR neuron; allowed: engine=discrete")
    if cfg.neuron.max_spikes > 0:
        return (f"the spike cap K={cfg.neuron.max_spikes} (max-spikes) cannot be exported to NIR: its neurons have "
                "no spike count; allowed: max-spikes=0")
    return None


METHOD = Method(
    name="ttfs",
    title="TTFS (time-to-first-spike, the spike cap K)",
    summary="each neuron fires at most K times (K = 1: time-to-first-spike)",
    settings=SETTINGS,
    rules=rules,
    hooks=(regulariser_hook, weight_bump_hook),
    engines={ENGINE: build_exact_model},
    nir_refusal=nir_refusal,
    basic=("max-spikes",),
    sliders=("max-spikes",),
    aliases={"K": "max-spikes"},
    notes={"max-spikes": "The spike cap K is live (1 = time-to-first-spike); the first-spike readout is Network ▸ "
                         "readout, the TTFS neuron Neuron ▸ neuron = cuba, the exact engine Network ▸ engine."},
    twin=Twin("spike cap K", "max-spikes", ("1", "0"), {"1": "K = 1 (TTFS)", "0": "K = ∞ (unlimited)"}),
)
