"""ASA, Advance Spatial Attention (Yao et al., ICCV 2023), as one record: its settings, rules and parts.

The gate itself is ``gate`` (ASA's faithful and clean variants), its attenuation controls ``controls``.
``asa_reduction`` defaults to 1: the paper's r = 4 is for T = 60 (a 15-wide bottleneck); at our T = 8 a full
T×T map costs only 64 weights, and r = 4 would leave a 2-wide bottleneck.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ...fields import spec
from ..method import Method, Setting, Twin
from .controls import CONTROLS
from .gate import RULES, VARIANTS, gate_factory, gated_layers

if TYPE_CHECKING:
    from ...data import DatasetInfo
    from ...fields import Config

MEMORY_FACTOR = 1.5     # ASA's gates keep their scores and masks too (config.budget measured 9.8 vs 5.4 MB)


def _setting(name: str, *args, **kwargs) -> Setting:
    return Setting("methods", name, spec(*args, **kwargs))


SETTINGS = (
    _setting("asa", "off", "asa", "Advance Spatial Attention on conv layers: faithful = the published code, "
             "clean = a re-implementation with per-sample masks and a learnable score; its controls (no "
             "attention): constant = the current times asa-constant-gate, scalar = times one learnable gate per "
             "layer starting there, random = that learnable gate on a random asa-random-fraction of each "
             "sample's (time, channel) slices", choices=("off", *VARIANTS, *CONTROLS)),
    _setting("asa_constant_gate", 0.7, "asa-constant-gate",
             "ASA controls: the gate g in (0, 1] of asa=constant (X -> g X), and the starting value of "
             "the learnable gate of asa=scalar and asa=random (needs g < 1)", lo=0.01, hi=1.0, kind=float),
    _setting("asa_random_fraction", 0.0, "asa-random-fraction",
             "asa=random: the fraction of each sample's (time, channel) slices it gates, drawn at random; 0 = the "
             "fraction ASA leaves sub-important at asa-lambda and asa-rule", lo=0.0, hi=0.95, kind=float),
    _setting("asa_lambda", 0.5, "asa-lambda", "ASA: fraction lambda of channels and of time steps marked top-k",
             lo=0.05, hi=0.95, kind=float),
    _setting("asa_reduction", 1, "asa-reduction",
             "ASA: reduction r of the score's time FC (T -> T/r -> T; 1 = one T x T map)", lo=1, hi=16, kind=int),
    _setting("asa_layers", (), "asa-layers", "ASA: conv layer numbers that get ASA (1-based; empty = every conv "
             "layer)", lo=1, hi=4, kind=int, length=(0, 4)),
    _setting("asa_rule", "xor", "asa-rule", "ASA: important = rule(channel top-k, time top-k); faithful needs xor",
             choices=RULES),
    _setting("asa_gate_important", True, "asa-gate-important",
             "ASA: gate the important group (false passes it through ungated)", kind=bool),
    _setting("asa_gate_sub", True, "asa-gate-sub", "ASA: gate the sub-important group (false passes it through "
             "ungated)", kind=bool),
)


def rules(cfg: Config, info: DatasetInfo) -> list[str]:
    """Where ASA gates (conv layers) and what its gate needs of T and channels (``gate``)."""
    m = cfg.methods
    problems: list[str] = []
    if m.asa == "off" or cfg.model.engine != "discrete":
        return problems
    if m.asa in ("scalar", "random") and m.asa_constant_gate >= 1:       # a learnable gate's finite logit
        problems.append(f"methods.asa_constant_gate (--asa-constant-gate)={m.asa_constant_gate:g} cannot start "
                        f"asa={m.asa!r} (its gate is sigmoid(p), p = logit(g) must be finite); allowed: 0.01 <= "
                        "g < 1, or --asa constant for a gate of 1")
    if m.asa in CONTROLS and not (m.asa == "random" and m.asa_random_fraction == 0):
        return problems + _layer_rules(cfg, top_k=False)        # no top-k: only where they gate
    if m.asa == "faithful" and m.asa_rule != "xor":
        problems.append(f"methods.asa_rule (--asa-rule)={m.asa_rule!r} is not allowed with asa='faithful' "
                        "(the published code uses xor); allowed: xor, or use --asa clean for and/or")
    if m.asa == "faithful" and cfg.training.batch_size == 1:
        problems.append("methods.asa (--asa)='faithful' cannot train with training.batch_size (--batch-size)=1: "
                        "the published ASA code fails at batch size 1 (and its batch-pooled masks need a batch); "
                        "allowed: --batch-size 2 or more, or --asa clean")
    if m.asa == "random":                          # its fraction is ASA's at lambda: the same top-k rules
        return problems + _lambda_rules(cfg) + _layer_rules(cfg)
    return problems + _lambda_rules(cfg) + _reduction_rules(cfg) + _layer_rules(cfg)


def _lambda_rules(cfg: Config) -> list[str]:
    """The time top-k needs T >= 2 and floor(lambda*T) >= 1."""
    m, steps, problems = cfg.methods, cfg.data.time_steps, []
    if steps < 2:
        problems.append(f"methods.asa (--asa)={m.asa!r} needs data.time_steps (--T) >= 2 (the time top-k needs "
                        f"k_T = floor(lambda*T) >= 1), got T={steps}; allowed: --T 2 or more, or --asa off")
    elif math.floor(m.asa_lambda * steps) < 1:
        problems.append(f"methods.asa_lambda (--asa-lambda)={m.asa_lambda:g} marks floor(lambda*T) = 0 of the "
                        f"T={steps} time steps top-k; allowed: asa-lambda >= {1 / steps:g} at T={steps}, or a longer T")
    return problems


def _reduction_rules(cfg: Config) -> list[str]:
    m, steps = cfg.methods, cfg.data.time_steps
    return [] if m.asa_reduction <= steps else [
        f"methods.asa_reduction (--asa-reduction)={m.asa_reduction} is larger than T={steps} (the score's "
        f"bottleneck T/r must be >= 1); allowed: 1..{steps}"]


def _layer_rules(cfg: Config, top_k: bool = True) -> list[str]:
    """The gated layers exist and are conv layers; with ``top_k`` (ASA itself) each has floor(lambda*C) >= 1."""
    m, channels = cfg.methods, cfg.model.channels
    if cfg.model.arch != "conv":
        return [f"methods.asa (--asa)={m.asa!r} gates conv layers, but arch={cfg.model.arch!r} has none; "
                "allowed: --arch conv, or --asa off"]
    too_big = [i for i in m.asa_layers if i > len(channels)]
    problems = [] if not too_big else [
        f"methods.asa_layers (--asa-layers)={list(m.asa_layers)} names conv layer(s) {too_big}, but the network has "
        f"{len(channels)}; allowed: numbers 1..{len(channels)}, or empty for all"]
    gated = sorted({i for i in m.asa_layers if i <= len(channels)}) if m.asa_layers else range(1, len(channels) + 1)
    narrow = [i for i in gated if top_k and math.floor(m.asa_lambda * channels[i - 1]) < 1]
    if narrow:
        fewest = min(channels[i - 1] for i in narrow)
        problems.append(f"methods.asa_lambda (--asa-lambda)={m.asa_lambda:g} marks floor(lambda*C) = 0 channels "
                        f"top-k in gated conv layer(s) {narrow} of model.channels (--channels)={list(channels)}; "
                        f"allowed: asa-lambda >= {1 / fewest:g}, or more channels")
    return problems


def memory_factor(cfg: Config) -> float:
    return MEMORY_FACTOR if cfg.methods.asa != "off" else 1


def gates(cfg: Config):
    """The conv layers' gates (ASA or a control, ``gate.gate_factory``); None with ASA off."""
    return None if cfg.methods.asa == "off" else gate_factory(cfg)


def layer_marks(cfg: Config) -> dict[str, str]:
    """The gated conv layers, labelled with the gate they get, for the network view."""
    if cfg.model.engine != "discrete" or cfg.model.arch != "conv":
        return {}
    return {f"conv{number}": f"ASA {cfg.methods.asa}" for number in sorted(gated_layers(cfg))
            if number <= len(cfg.model.channels)}


def nir_refusal(cfg: Config) -> str | None:
    """ASA's gates and the random control depend on the input; only the scale controls fold into weights."""
    if cfg.methods.asa not in (*VARIANTS, "random") or cfg.model.engine != "discrete" or cfg.model.arch != "conv":
        return None
    gated = ", ".join(layer_marks(cfg))
    return (f"ASA's current gates on {gated} cannot be exported to NIR: they depend on the input and fold into no "
            f"weight (asa={cfg.methods.asa!r}); allowed: asa=off, or its controls constant and scalar (folded into "
            "the weights)")


METHOD = Method(
    name="asa",
    title="ASA (Advance Spatial Attention)",
    summary="gates the current of conv layers so noise spikes vanish",
    settings=SETTINGS,
    rules=rules,
    memory_factor=memory_factor,
    gates=gates,
    nir_refusal=nir_refusal,
    nir_import={"asa": "off"},                    # an exported attenuation gate is in the weights
    basic=("asa",),
    notes={"asa": "ASA gates conv layers (arch conv); 'clean' is a re-implementation, not the paper's code; "
                  "'constant' and 'scalar' are its controls: the same current shrunk without attention; 'random' "
                  "gates as many (time, channel) slices as ASA, chosen at random."},
    examples={"asa-layers": "1,2"},
    twin=Twin("ASA", "asa", value_labels={"scalar": "learned gate (ASA's control: attenuation only)",
                                          "random": "random gate (ASA's control: as many slices, chosen at random)",
                                          "constant": "constant gate (same as off with --bn-gamma g)"}),
    marks=layer_marks,
)
