"""TRT, temporal reversed training (Zuo et al., 2024), as one record: its settings, rules and training hook.

The branches, the loss and the hook are ``branches``; inference never sees TRT, so NIR exports it as it is.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...fields import spec
from ..method import Method, Setting, Twin
from .branches import BN_STATS, PERTURBATIONS, TrtHook, spiking

if TYPE_CHECKING:
    from ...data import Dataset, DatasetInfo
    from ...fields import Config
    from ...network.protocol import Network

BRANCHES = 2            # two branches per step: twice the activations


def _setting(name: str, *args, **kwargs) -> Setting:
    return Setting("methods", name, spec(*args, **kwargs))


SETTINGS = (
    _setting("trt", "off", "trt", "temporal reversed training: a time-perturbed second branch during training only",
             choices=("off", "on")),
    _setting("trt_perturbation", "reverse", "trt-perturbation",
             "TRT: how the second branch's time axis is perturbed: reverse flips it (the paper); permute (a random "
             "order per sample) and none (unchanged) are controls; playback (events only) flips it and swaps "
             "ON/OFF, a clip really played backwards", choices=PERTURBATIONS),
    _setting("trt_kl_weight", 1.0, "trt-kl-weight", "TRT: weight lambda of the consistency term "
             "lambda tau^2 KL(p_tau(O) || p_tau(O_rev)), gradient through both branches", lo=0.0, hi=10.0,
             kind=float),
    _setting("trt_tau", 2.0, "trt-tau", "TRT: temperature tau of the consistency term", lo=0.1, hi=20.0, kind=float),
    _setting("trt_ce_reversed", 1.0, "trt-ce-reversed", "TRT: weight of cross-entropy on the perturbed branch's "
             "output", lo=0.0, hi=10.0, kind=float),
    _setting("trt_star", 1.0, "trt-star", "TRT: weight of the star head's cross-entropy (a training-only "
             "classifier on r * r_rev, the two branches' last hidden firing rates)", lo=0.0, hi=10.0, kind=float),
    _setting("trt_bn_stats", "both", "trt-bn-stats", "TRT: which branches update BatchNorm's running statistics "
             "(used at inference): both, or clean (the original branch only; the perturbed branch still "
             "normalises by its own batch)", choices=BN_STATS),
)


def rules(cfg: Config, info: DatasetInfo) -> list[str]:
    """What TRT's perturbed branch needs (``branches``)."""
    if cfg.methods.trt == "off":
        return []
    if cfg.model.engine != "discrete":
        return [f"methods.trt (--trt)='on' needs model.engine (--engine)='discrete'; got {cfg.model.engine!r} "
                "(the exact engine has no time-stepped spike trains to reverse); allowed: --engine discrete, "
                "or --trt off"]
    if info.has_time_axis:
        return []
    problems = []
    if cfg.methods.trt_perturbation == "playback":
        problems.append("methods.trt_perturbation (--trt-perturbation)='playback' plays event clips backwards "
                        f"(ON <-> OFF swapped), but dataset={cfg.data.dataset!r} has no events; allowed: "
                        "reverse, permute or none, or an events dataset")
    n_layers = (len(cfg.model.channels) if cfg.model.arch == "conv" else 0) + len(cfg.model.hidden)
    if cfg.model.readout == "rate" and n_layers < 2:
        problems.append("methods.trt (--trt)='on' on static data perturbs the first spiking layer's spikes, but "
                        f"this network has {n_layers} spiking layer(s) and the time-averaged rate readout, which "
                        "the order of time steps cannot change; allowed: 2 or more spiking layers (e.g. "
                        "--hidden 128,128), a spiking readout (--readout count), event data, or --trt off")
    return problems


def memory_factor(cfg: Config) -> float:
    return BRANCHES if cfg.methods.trt == "on" else 1


def hook(cfg: Config, model: Network, data: Dataset) -> TrtHook | None:
    """TRT's two-branch loss and star head, for ``methods.trt = on``."""
    if cfg.methods.trt == "off":
        return None
    return TrtHook(spiking(model), data.n_classes, cfg.methods, data.has_time_axis, cfg.training.seed)


METHOD = Method(
    name="trt",
    title="TRT (temporal reversed training)",
    summary="trains on each sample and its time-reversed twin; inference is unchanged",
    settings=SETTINGS,
    rules=rules,
    memory_factor=memory_factor,
    hooks=(hook,),
    basic=("trt",),
    notes={"trt": "TRT adds a time-reversed training branch; inference is unchanged."},
    twin=Twin("TRT", "trt"),
)
