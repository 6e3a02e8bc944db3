"""ASA (Advance Spatial Attention, Yao et al., ICCV 2023): a gate that shrinks a conv layer's current.

It splits the (t, c) slices into an important and a sub-important group and gates each with its own spatial map.

Shapes are time-major, ``x[T, B, C, H, W]``. With λ = ``lam``, k_C = ⌊λC⌋ and k_T = ⌊λT⌋:

    a[t,b,c] = mean_hw x,   m[t,b,c] = max_hw x
    z        = (0.5 + α)·a + (0.5 + β)·m                      (α = β = 0.5 at init)
    score    = FC_T(z) along t, shared by all c                (T×T, or T→T/r→ReLU→T, bias-free)
    M_C      = top-k_C of score over c,  M_T = top-k_T of score over t
    I        = rule(M_C, M_T)  (xor in the published code),    S = 1 − I
    A_g      = σ(conv3x3_g([mean_{t,c} X_g / frac_g, max_{t,c} X_g]))   with X_g = mask_g ⊙ x
    out      = A_I ⊙ X_I + A_S ⊙ X_S

Every element is multiplied by exactly one gate in (0, 1), so |out| ≤ |x| elementwise.

Variants:

* ``faithful`` reproduces the official code (BICLab/ASA-SNN, ``models/module/Attn.py``): XOR; the top-k
  masks are a union over the batch (a slice is marked for every sample if it is top-k for *any* sample),
  so a sample's output depends on the rest of its batch (training batches of 64 and evaluation batches
  of up to 256 give different masks); α, β and FC_T get no gradient (hard masks); frac_g = λ or 1 − λ
  and the max pools over the zeros of unselected slices too. The official code crashes at batch size 1;
  here that raises ValueError.
* ``clean`` is a re-implementation, not the paper's: per-sample top-k; rule xor/and/or; a straight-through
  mask (forward: the hard mask; backward: the gradient of a sigmoid relaxation of the score around the
  top-k threshold), so α, β and FC_T learn; frac_g is the group's actual fraction of slices and the max
  pools over the selected slices only. Works at batch size 1.

Which conv layers get a gate (``gated_layers``): ``methods.asa_layers`` (1-based), or every conv layer
when it is empty; ``gate_factory`` hands the discrete network the gates through its ``gate_for`` slot: ASA, or
one of its controls (``snn_core.methods.asa.controls``: ``constant``, ``scalar``, ``random``).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import torch
from torch import nn

from .controls import CONTROL_GATES, RandomGate
from .rules import RULES, combine

if TYPE_CHECKING:
    from ...fields import Config
    from ...network.records import LayerTrace

VARIANTS = ("faithful", "clean")
CONTROLS = tuple(CONTROL_GATES)  # ASA's attenuation controls, values of methods.asa beside the variants
GATE_SEED_OFFSET = 3_000_017     # the gates' weights: streams of their own, from training.seed


class AsaMaps(NamedTuple):
    """What ASA decided for a batch, detached."""

    important: torch.Tensor            # (B, T, C) bool, the important (t, c) slices
    gate_important: torch.Tensor       # (B, H, W) spatial gate A_I of the important group
    gate_sub_important: torch.Tensor   # (B, H, W) spatial gate A_S of the sub-important group


class _Split(NamedTuple):
    important: torch.Tensor            # (T, B, C) float mask, straight-through in ``clean``
    hard: torch.Tensor                 # (T, B, C) bool


def _bad(name: str, value, allowed: str) -> ValueError:
    return ValueError(f"ASA {name}={value!r} is not allowed; allowed: {allowed}")


def _topk_mask(score: torch.Tensor, k: int, dim: int) -> torch.Tensor:
    """Bool mask of the k largest entries of ``score`` along ``dim``."""
    index = score.topk(k, dim=dim).indices
    return torch.zeros_like(score, dtype=torch.bool).scatter(dim, index, True)


def _soft_topk(score: torch.Tensor, k: int, dim: int) -> torch.Tensor:
    """σ((score − θ)/τ): θ halfway between the k-th and (k+1)-th largest score, τ the score's spread."""
    top = score.detach().topk(k + 1, dim=dim).values
    theta = (top.narrow(dim, k - 1, 1) + top.narrow(dim, k, 1)) / 2
    tau = score.detach().std(dim=dim, keepdim=True).clamp_min(1e-6)
    return torch.sigmoid((score - theta) / tau)


class ASA(nn.Module):
    """ASA gate for a conv layer's current ``[T, B, C, H, W]``; T is fixed at construction (FC_T is T×T).

    ``gate_important=False`` (or ``gate_sub_important=False``) passes that group through ungated
    (gate 1), for ablations; its conv is kept so the parameter count does not change.
    """

    def __init__(self, time_steps: int, lam: float = 0.5, reduction: int = 1, variant: str = "faithful",
                 rule: str = "xor", gate_important: bool = True, gate_sub_important: bool = True):
        super().__init__()
        if not isinstance(time_steps, int) or time_steps < 2:
            raise _bad("time_steps", time_steps, "an integer >= 2 (the time top-k needs k_T = floor(lam*T) >= 1)")
        if not 0 < lam < 1 or math.floor(lam * time_steps) < 1:
            raise _bad("lam", lam, f"0 < lam < 1 with floor(lam*T) >= 1, "
                                   f"i.e. lam >= {1 / time_steps:g} at T={time_steps}")
        if not isinstance(reduction, int) or not 1 <= reduction <= time_steps:
            raise _bad("reduction", reduction, f"an integer 1..{time_steps} (T/r must be >= 1 at T={time_steps})")
        if variant not in VARIANTS:
            raise _bad("variant", variant, ", ".join(VARIANTS))
        if rule not in RULES or (variant == "faithful" and rule != "xor"):
            raise _bad("rule", rule, "xor (the published code)" if variant == "faithful" else ", ".join(RULES))
        self.time_steps, self.lam, self.reduction = time_steps, float(lam), reduction
        self.variant, self.rule = variant, rule
        self.batch_dependent = variant == "faithful"      # outputs depend on the rest of the batch
        self.gate_important, self.gate_sub_important = gate_important, gate_sub_important
        self.alpha = nn.Parameter(torch.tensor(0.5))
        self.beta = nn.Parameter(torch.tensor(0.5))
        self.fc_time: nn.Module                           # T -> T, through T/r when r > 1
        if reduction == 1:
            self.fc_time = nn.Linear(time_steps, time_steps, bias=False)
        else:
            width = time_steps // reduction
            self.fc_time = nn.Sequential(nn.Linear(time_steps, width, bias=False), nn.ReLU(),
                                         nn.Linear(width, time_steps, bias=False))
        self.conv_important = nn.Conv2d(2, 1, 3, padding=1, bias=False)
        self.conv_sub_important = nn.Conv2d(2, 1, 3, padding=1, bias=False)

    def extra_repr(self) -> str:
        return (f"T={self.time_steps}, lam={self.lam:g}, reduction={self.reduction}, "
                f"variant={self.variant}, rule={self.rule}")

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 5 or x.shape[0] != self.time_steps:
            raise ValueError(f"ASA expects x[T={self.time_steps}, B, C, H, W]; got shape {tuple(x.shape)}")
        if self.variant == "faithful" and x.shape[1] == 1:
            raise ValueError("ASA batch size 1 is not allowed with asa=faithful: the published ASA code fails at "
                             "batch size 1 (and its batch-pooled masks need a batch); use asa=clean")
        if math.floor(self.lam * x.shape[2]) < 1:
            raise _bad("lam", self.lam,
                       f"lam >= {1 / x.shape[2]:g} for C={x.shape[2]} channels (k_C = floor(lam*C) >= 1)")

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """score[t, b, c] = FC_T((0.5+α)·mean_hw x + (0.5+β)·max_hw x) along t."""
        z = (0.5 + self.alpha) * x.mean((3, 4)) + (0.5 + self.beta) * x.amax((3, 4))   # (T, B, C)
        return self.fc_time(z.permute(1, 2, 0)).permute(2, 0, 1)                       # (T, B, C)

    def split(self, x: torch.Tensor) -> _Split:
        """The important (t, c) slices of each sample."""
        steps, _, channels = x.shape[:3]
        k_c, k_t = math.floor(self.lam * channels), math.floor(self.lam * steps)
        if self.variant == "faithful":
            score = self.score(x).detach()                                              # (T, B, C) no gradient
            m_c = _topk_mask(score, k_c, 2).any(1, keepdim=True).expand_as(score)      # union over the batch
            m_t = _topk_mask(score, k_t, 0).any(1, keepdim=True).expand_as(score)
            hard = m_c ^ m_t
            return _Split(hard.float(), hard)
        score = self.score(x)                                                           # (T, B, C)
        hard = combine(self.rule, _topk_mask(score, k_c, 2), _topk_mask(score, k_t, 0))
        soft = combine(self.rule, _soft_topk(score, k_c, 2), _soft_topk(score, k_t, 0))
        return _Split(hard.float() + (soft - soft.detach()), hard)                     # straight-through

    def _gate(self, group: torch.Tensor, hard: torch.Tensor, frac: float, conv: nn.Conv2d) -> torch.Tensor:
        """A_g = σ(conv([mean/frac, max])) over the group's T·C slices, ``(B, H, W)``."""
        if self.variant == "faithful":
            avg = group.mean((0, 2)) / frac                                             # (B, H, W)
            peak = group.amax((0, 2))                                                   # (B, H, W)
        else:
            count = hard.sum((0, 2)).clamp_min(1)[:, None, None]                       # (B, 1, 1)
            avg = group.sum((0, 2)) / count
            chosen = hard[..., None, None].expand_as(group)
            peak = torch.where(chosen, group, torch.full_like(group, -math.inf)).amax((0, 2))
            peak = torch.where(torch.isinf(peak), torch.zeros_like(peak), peak)         # empty group -> 0
        return torch.sigmoid(conv(torch.stack([avg, peak], 1))).squeeze(1)            # (B, H, W)

    def _run(self, x: torch.Tensor):
        self._check(x)
        split = self.split(x)
        imp = split.important[..., None, None]                                          # (T, B, C, 1, 1)
        x_imp, x_sub = imp * x, (1 - imp) * x                                          # (T, B, C, H, W)
        ones = x.new_ones(x.shape[1], *x.shape[3:])                                     # (B, H, W)
        gate_imp = self._gate(x_imp, split.hard, self.lam, self.conv_important) if self.gate_important else ones
        gate_sub = self._gate(x_sub, ~split.hard, 1 - self.lam, self.conv_sub_important) \
            if self.gate_sub_important else ones
        out = gate_imp[None, :, None] * x_imp + gate_sub[None, :, None] * x_sub         # (T, B, C, H, W)
        return out, split.hard, gate_imp, gate_sub

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x[T, B, C, H, W]`` -> X̃ of the same shape, |X̃| ≤ |x| elementwise."""
        return self._run(x)[0]

    @torch.no_grad()
    def explain(self, x: torch.Tensor) -> AsaMaps:
        """The important mask and both spatial gates for ``x[T, B, C, H, W]``, detached."""
        _, hard, gate_imp, gate_sub = self._run(x)
        return AsaMaps(hard.permute(1, 0, 2).clone(), gate_imp.clone(), gate_sub.clone())


def parameter_count(time_steps: int, reduction: int = 1) -> int:
    """Weights of one ASA module: FC_T (T² or 2·T·⌊T/r⌋) + two 2→1 3×3 convs (36) + α, β (2)."""
    fc = time_steps * time_steps if reduction == 1 else 2 * time_steps * (time_steps // reduction)
    return fc + 2 * 2 * 3 * 3 + 2


def gated_layers(cfg: Config) -> set[int]:
    """1-based numbers of the conv layers that get ASA or a control (``config.check`` has made sure they exist)."""
    methods = cfg.methods
    if methods.asa == "off":
        return set()
    return set(methods.asa_layers) or set(range(1, len(cfg.model.channels) + 1))


def gate_seed(run_seed: int, conv_number: int) -> int:
    """The seed of conv layer ``conv_number``'s gate weights: its own stream, apart from every other layer's
    and from the network's (``GATE_SEED_OFFSET + 16·seed + layer``; at most 4 conv layers)."""
    return GATE_SEED_OFFSET + 16 * run_seed + conv_number


def _build_gate(cfg: Config, seed: int) -> nn.Module:
    """The gate ``methods.asa`` names, as configured; ``seed`` seeds the random control's masks."""
    m = cfg.methods
    if m.asa == "random":
        return RandomGate(m.asa_constant_gate, seed, m.asa_random_fraction or None, m.asa_lambda, m.asa_rule)
    if m.asa in CONTROL_GATES:
        return CONTROL_GATES[m.asa](m.asa_constant_gate)
    return ASA(cfg.data.time_steps, m.asa_lambda, m.asa_reduction, m.asa, m.asa_rule,
               m.asa_gate_important, m.asa_gate_sub)


def gate_factory(cfg: Config) -> Callable[[int], nn.Module | None]:
    """``gate_for(conv_number)``: a fresh gate (ASA or a control) for each gated conv layer, None for the others.

    Each gate draws its initial weights from a generator of its own (``gate_seed``) and leaves the global
    generator as it found it, so every layer of the network (conv, BatchNorm, fc, readout) starts from the
    same weights whatever ``methods.asa`` is: ASA's arms are paired at initialisation."""
    gated = gated_layers(cfg)

    def gate_for(conv_number: int) -> nn.Module | None:
        if conv_number not in gated:
            return None
        with torch.random.fork_rng(devices=[]):
            seed = gate_seed(cfg.training.seed, conv_number)
            torch.default_generator.manual_seed(seed)
            return _build_gate(cfg, seed)

    return gate_for


def mean_gate(layers: Sequence[LayerTrace]) -> float | None:
    """The gate an average element of the gated currents was multiplied by: mean of X̃/X over the recorded
    elements of every gated layer (one whose ``current`` differs from its ``ungated``) with |X| > 1e-6; None
    when no layer is gated. For ASA X̃ = A·X elementwise, so this is the mean of A over the elements it gated."""
    ratios = [(layer.current / layer.ungated)[layer.ungated.abs() > 1e-6].flatten()
              for layer in layers if not torch.equal(layer.current, layer.ungated)]
    ratios = [ratio for ratio in ratios if ratio.numel()]
    return float(torch.cat(ratios).mean()) if ratios else None
