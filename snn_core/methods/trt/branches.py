"""TRT, temporal reversed training (Zuo et al., 2024): a time-perturbed second branch, during training only.

Where the time axis is perturbed (``branches``): data with a time axis (event frames) perturb the
input ``x[T, B, ...]`` and run the whole network on it; static data (digits, whose direct encoding
repeats one frame T times, so reversing the input would change nothing) perturb the spike train of
the first spiking layer and run layers 2..L on it. Every spiking layer starts its neurons from rest
on each call (``snn_core.neurons.loop``), so the second branch has fresh neuron state.

The loss (``trt_loss``; ``LOSS_LATEX``), each term switched off by a zero weight::

    L = CE(O, y) + a CE(Ô, y) + λ τ² KL(p_τ(O) ‖ p_τ(Ô)) + b CE(head(r ⊙ r̂), y),   p_τ(z) = softmax(z / τ)

with ``a = trt_ce_reversed``, ``λ = trt_kl_weight``, ``τ = trt_tau``, ``b = trt_star``; ``r`` and ``r̂``
are the time-averaged firing rates of the last hidden layer in the two branches (the star operation
is their element-wise product) and ``head`` is ``StarHead``, a linear classifier that ``TrtHook`` (the
method's training hook) owns and nothing saves: inference runs the original path and the main readout only.

The consistency KL is not detached on either side: both branches share every weight and neither is
a teacher (the paper's form is unknown; its summaries speak of pulling the two outputs together), so
the gradient moves both outputs towards each other.

BatchNorm in the perturbed branch (``trt_bn_stats``): both branches normalise with their own batch
statistics; ``both`` also lets the perturbed branch update the running estimates that inference uses,
``clean`` keeps it out of them (``batch_stats_only``), so they are those of the original inputs alone.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from ...network.discrete import SpikingNetwork
from ...network.records import ModelOutput
from ..hooks import BatchLoss, MethodHook

if TYPE_CHECKING:
    from ...fields import Section as MethodsConfig
    from ...network.protocol import Network

PERTURBATIONS = ("reverse", "permute", "none", "playback")
BN_STATS = ("both", "clean")   # which branches update BatchNorm's running statistics
PERTURB_SEED_OFFSET = 2_000_029    # the random time permutations: a stream of their own, from training.seed
STAR_SEED_OFFSET = 3_000_017       # the star head's initial weights: a stream of their own, from training.seed
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
POLARITY_AXIS = 2          # event input [T, B, P, H, W]: P = (OFF, ON)
LOSS_LATEX = (r"\begin{gathered}L = \mathrm{CE}(O, y) + a\,\mathrm{CE}(\hat O, y) + \lambda\,\tau^2\,"
              r"\mathrm{KL}\big(p_\tau(O)\,\|\,p_\tau(\hat O)\big)\\ "
              r"+ b\,\mathrm{CE}\big(W(r \odot \hat r) + c, y\big),\\ "
              r"p_\tau(z) = \mathrm{softmax}(z/\tau),\quad r = \tfrac{1}{T}\textstyle\sum_t s_t\end{gathered}")


def perturb_time(x: torch.Tensor, kind: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """``x[T, B, ...]`` with its time axis perturbed and nothing else touched.

    ``reverse``: x̂_t = x_{T-1-t} (flip along T; twice is the identity). ``permute``: x̂_t = x_{π_b(t)} with
    π_b a uniformly random permutation of 0..T-1 drawn per sample b from ``generator`` (at T = 2 it is the
    reversal half the time and the identity otherwise). ``none``: x itself (a control). ``playback``: event
    input ``[T, B, P, H, W]`` played backwards: the flip along T and ON <-> OFF (a brightness increase seen
    backwards is a decrease), i.e. the frames of ``data.events.reverse_events``; a moving edge then really
    moves the other way, polarity layout included.
    """
    if kind == "reverse":
        return x.flip(0)
    if kind == "playback":
        if x.dim() != 5 or x.shape[POLARITY_AXIS] != 2:
            raise ValueError(f"x has shape {tuple(x.shape)}; playback needs event input [T, B, 2, H, W] "
                             "(two polarities)")
        return x.flip(0, POLARITY_AXIS)
    if kind == "none":
        return x
    if kind == "permute":
        if x.dim() < 2:
            raise ValueError(f"x has shape {tuple(x.shape)}; permute needs time-major [T, B, ...]")
        steps, batch = x.shape[:2]
        order = torch.rand(batch, steps, generator=generator).argsort(1).T.to(x.device)   # (T, B): π_b(t)
        index = order.reshape(steps, batch, *([1] * (x.dim() - 2))).expand_as(x)
        return x.gather(0, index)
    raise ValueError(f"kind={kind!r} is not known; allowed: {', '.join(PERTURBATIONS)}")


def consistency_kl(logits: torch.Tensor, logits_perturbed: torch.Tensor, tau: float) -> torch.Tensor:
    """τ² KL(p_τ(O) ‖ p_τ(Ô)) = τ² Σ_c p_c (log p_c - log q_c), batch mean; p = softmax(O/τ), q = softmax(Ô/τ).

    τ² keeps the gradient's size independent of τ (as in distillation). Neither side is detached.
    """
    if not tau > 0:
        raise ValueError(f"tau={tau!r} is not valid; allowed: a positive temperature")
    log_p = F.log_softmax(logits / tau, dim=-1)
    log_q = F.log_softmax(logits_perturbed / tau, dim=-1)
    return tau * tau * F.kl_div(log_q, log_p, reduction="batchmean", log_target=True)


class StarHead(nn.Module):
    """The star head: logits = W (r ⊙ r̂) + b on the last hidden layer's rates; training only. It holds
    ``nn.Linear``'s parameters (``weight`` ``(out, in)``, ``bias`` ``(out,)``, left undrawn: ``star_head`` draws
    them) but is no ``nn.Linear``: its forward takes the two branches' rates, not one input."""

    def __init__(self, in_features: int, out_features: int, device: torch.device | str | None = None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features, device=device))
        self.bias = nn.Parameter(torch.empty(out_features, device=device))

    def forward(self, rates: torch.Tensor, rates_perturbed: torch.Tensor) -> torch.Tensor:
        return F.linear(rates * rates_perturbed, self.weight, self.bias)


def star_head(model: SpikingNetwork, n_classes: int, seed: int) -> StarHead:
    """A star head sized to ``model``'s last hidden layer, drawn from a generator of its own seeded from ``seed``
    (the run seed), so building it never moves the global RNG and both arms of a comparison stay paired.

    The draw is ``nn.Linear``'s default: weight and bias ~ U(-1/√fan_in, 1/√fan_in) (Kaiming-uniform with
    a = √5 gives that bound).
    """
    head = torch.nn.utils.skip_init(StarHead, model.hidden_features, n_classes)    # no draw from the global RNG
    generator = torch.Generator().manual_seed(seed + STAR_SEED_OFFSET)
    bound = 1.0 / math.sqrt(model.hidden_features)
    with torch.no_grad():
        head.weight.uniform_(-bound, bound, generator=generator)
        head.bias.uniform_(-bound, bound, generator=generator)
    return head


@contextmanager
def batch_stats_only(model: nn.Module) -> Iterator[None]:
    """Within it, every BatchNorm of ``model`` still normalises a training batch by that batch's statistics
    but leaves its running mean, variance and batch count as they were (``track_running_stats`` off: PyTorch
    then neither passes nor updates the running buffers in training mode); eval mode is unaffected."""
    norms = [module for module in model.modules() if isinstance(module, BATCH_NORMS) and module.track_running_stats]
    for norm in norms:
        norm.track_running_stats = False
    try:
        yield
    finally:
        for norm in norms:
            norm.track_running_stats = True


def spiking(model: Network) -> SpikingNetwork:
    """``model`` as the discrete engine's time-stepped network, the one whose first layer TRT cuts at."""
    if not isinstance(model, SpikingNetwork):
        raise ValueError(f"TRT's branches need the discrete engine's time-stepped network; got {type(model).__name__}")
    return model


def cut_spikes(model: SpikingNetwork, x: torch.Tensor) -> torch.Tensor:
    """Where static data are perturbed: the first spiking layer's spikes ``(T, B, ...)`` for the input ``x``."""
    return model.layer_spikes(0, x)


def branches(model: SpikingNetwork, x: torch.Tensor, kind: str, has_time_axis: bool,
             generator: torch.Generator | None = None, bn_stats: str = "both") -> tuple[ModelOutput, ModelOutput]:
    """The original output and the perturbed one for the network input ``x[T, B, ...]``.

    Time-axis data: ``model(x)`` and ``model(perturb(x))``. Static data: s₁ = ``cut_spikes`` (computed
    once, shared), then layers 2..L on s₁ and on ``perturb(s₁)``. The spikes in the outputs are those of
    every layer, the first one's perturbed in the perturbed branch. ``bn_stats`` ``clean`` runs the
    perturbed branch in ``batch_stats_only``: BatchNorm's running statistics then see the original branch only.
    """
    if bn_stats not in BN_STATS:
        raise ValueError(f"bn_stats={bn_stats!r} is not known; allowed: {', '.join(BN_STATS)}")
    kept_out = batch_stats_only(model) if bn_stats == "clean" else nullcontext()
    if has_time_axis:
        out = model(x)
        with kept_out:
            return out, model(perturb_time(x, kind, generator))
    first = cut_spikes(model, x)
    out = model.resume((first,))
    with kept_out:
        return out, model.resume((perturb_time(first, kind, generator),))


def _rates(model: SpikingNetwork, out: ModelOutput) -> torch.Tensor:
    """(B, features) time-averaged firing rate of the last hidden layer, r = (1/T) Σ_t s_t."""
    return out.spikes[model.last_hidden].mean(0).flatten(1)


def trt_loss(model: SpikingNetwork, head: StarHead, x: torch.Tensor, y: torch.Tensor, methods: MethodsConfig,
             has_time_axis: bool, generator: torch.Generator | None = None) -> tuple[dict, ModelOutput]:
    """The TRT loss terms of one batch by name, and the original branch's output.

    Always ``ce`` and ``total``; ``ce_perturbed``, ``kl`` (τ² KL, before its weight λ) and ``star`` only
    when their weight is positive. ``total`` = ce + a ce_perturbed + λ kl + b star is what backward sees.
    With all three weights zero the perturbed branch is not run and ``total`` = ``ce``.
    """
    weights = {"ce_perturbed": methods.trt_ce_reversed, "kl": methods.trt_kl_weight, "star": methods.trt_star}
    if not any(weight > 0 for weight in weights.values()):
        out = model(x)
        ce = F.cross_entropy(out.logits, y)
        return {"ce": ce, "total": ce}, out
    out, perturbed = branches(model, x, methods.trt_perturbation, has_time_axis, generator, methods.trt_bn_stats)
    terms = {"ce": F.cross_entropy(out.logits, y)}
    if weights["ce_perturbed"] > 0:
        terms["ce_perturbed"] = F.cross_entropy(perturbed.logits, y)
    if weights["kl"] > 0:
        terms["kl"] = consistency_kl(out.logits, perturbed.logits, methods.trt_tau)
    if weights["star"] > 0:
        terms["star"] = F.cross_entropy(head(_rates(model, out), _rates(model, perturbed)), y)
    terms["total"] = terms["ce"] + sum(weights[name] * value for name, value in terms.items() if name != "ce")
    return terms, out


@torch.no_grad()
def reversal_scores(model: Network, x: torch.Tensor,
                    has_time_axis: bool) -> tuple[torch.Tensor, torch.Tensor, float]:
    """For a batch (same cut as training): the predictions on the original and on the time-reversed
    sample, and the summed KL(p(O) ‖ p(Ô)) at τ = 1. Used for every run, TRT or not (discrete engine only)."""
    out, reversed_out = branches(spiking(model), x, "reverse", has_time_axis)
    kl = float(consistency_kl(out.logits, reversed_out.logits, 1.0)) * len(out.logits)
    return out.predictions, reversed_out.predictions, kl


class TrtHook(MethodHook):
    """TRT in training: runs both branches on each batch and trains on ``trt_loss``'s ``total``, logging
    every term; owns the star head (drawn from its own generator, ``star_head``) and the permutations' generator."""

    def __init__(self, model: SpikingNetwork, n_classes: int, methods: MethodsConfig, has_time_axis: bool,
                 seed: int):
        super().__init__()
        self.head = star_head(model, n_classes, seed)
        self.methods, self.has_time_axis = methods, has_time_axis
        self.generator = torch.Generator().manual_seed(seed + PERTURB_SEED_OFFSET)

    def run(self, model: Network, x: torch.Tensor, y: torch.Tensor) -> BatchLoss:
        terms, out = trt_loss(spiking(model), self.head, x, y, self.methods, self.has_time_axis, self.generator)
        return BatchLoss(out, terms["total"], terms, terms["ce"])
