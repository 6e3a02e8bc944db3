"""Redundancy of conv-layer spikes (ASA paper's noise/normal/null patterns, similarity proxies, MPD histograms).

With M samples, T steps, s^t_{m,c} the flattened H*W spike map of channel c of sample m at step t
and cos(a, b) = a.b / (|a| |b|):

    F_c[h, w] = sum_{t,m} s^t_{m,c}[h, w] / (T M)                     per-channel firing map
    noise  : more than ``noise_pixel_fraction`` of F_c's pixels have F_c > ``noise_rate``
    null   : mean_{h,w} F_c < ``null_rate``;  normal: neither
    temporal_similarity = mean of cos(s^t_{m,c}, s^{t+1}_{m,c}) over (m, c, t < T-1)
    channel_similarity  = mean of cos(s^t_{m,c}, s^t_{m,d}) over (m, t, c < d)

Empty maps: a pair where BOTH maps are empty is skipped (not counted); a pair where exactly one is
empty counts with cosine 0. A similarity with no counted pair at all is undefined (``None``).
Sums and pair counts are exact over all batches, so the result does not depend on batching.
The similarity proxies and thresholds are the app's (paper notes §2.4), not the paper's own metrics.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

REDUNDANCY_EQUATIONS = (
    r"F_c = \frac{1}{TM}\sum_{t,m} s^t_{m,c},\quad "
    r"\mathrm{sim}_T = \langle \cos(s^t_{m,c}, s^{t+1}_{m,c}) \rangle_{m,c,t},\quad "
    r"\mathrm{sim}_C = \langle \cos(s^t_{m,c}, s^t_{m,d}) \rangle_{m,t,c<d}"
)
PATTERNS = ("noise", "normal", "null")     # codes 0, 1, 2 of ``classify_channels``


@dataclass(frozen=True)
class PatternThresholds:
    """Rates that split channels into noise / normal / null patterns (defaults: paper notes §2.4).

    A channel is noise when more than ``noise_pixel_fraction`` of its pixels fire at a rate
    above ``noise_rate``; null when its mean rate is below ``null_rate``; normal otherwise.
    ``null_rate <= noise_rate * noise_pixel_fraction`` keeps the two classes disjoint.
    """

    noise_rate: float = 0.5
    noise_pixel_fraction: float = 0.5
    null_rate: float = 0.01

    def __post_init__(self):
        for name in ("noise_rate", "noise_pixel_fraction"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name}={getattr(self, name)} is not valid; allowed: 0 <= {name} < 1")
        limit = self.noise_rate * self.noise_pixel_fraction
        if not 0.0 <= self.null_rate <= limit:
            raise ValueError(f"null_rate={self.null_rate} is not valid; allowed: 0 <= null_rate <= "
                             f"noise_rate * noise_pixel_fraction = {limit:g} (so no channel is both noise and null)")


@dataclass(frozen=True)
class RedundancyScores:
    """Pattern fractions (of channels) and similarity proxies of one layer, or of all conv layers."""

    noise_channels: float
    normal_channels: float
    null_channels: float
    temporal_similarity: float | None     # None: no counted pair (T = 1, or no spike at all)
    channel_similarity: float | None      # None: no counted pair (C = 1, or no spike at all)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RedundancyMetrics:
    """Redundancy of every conv layer over an evaluated set.

    ``overall`` weights each layer by its number of channels: the pattern fractions are those of
    all conv channels pooled, the similarities the channel-weighted mean of the defined layer values.
    """

    samples: int
    time_steps: int
    thresholds: PatternThresholds
    layers: dict[str, RedundancyScores]
    overall: RedundancyScores
    firing_maps: dict[str, torch.Tensor]        # layer -> (C, H, W) rates F_c
    patterns: dict[str, tuple[str, ...]]        # layer -> pattern name per channel

    def to_dict(self) -> dict:
        """JSON form, without the maps: ``{"layers": {layer: scores}, "overall": scores}``."""
        return {"layers": {name: s.to_dict() for name, s in self.layers.items()}, "overall": self.overall.to_dict()}

    def pattern_fractions(self) -> dict[str, dict[str, float]]:
        """Layer -> ``{"noise": f, "normal": f, "null": f}``, the share of the layer's channels in each pattern."""
        return {name: {p: getattr(s, f"{p}_channels") for p in PATTERNS} for name, s in self.layers.items()}


def classify_channels(firing_map: torch.Tensor, thresholds: PatternThresholds = PatternThresholds()) -> torch.Tensor:
    """Pattern code per channel of a ``(C, H, W)`` rate map: 0 noise, 1 normal, 2 null (see ``PATTERNS``)."""
    rates = firing_map.flatten(1).double()                                       # (C, H*W)
    noisy = (rates > thresholds.noise_rate).double().mean(1) > thresholds.noise_pixel_fraction
    null = rates.mean(1) < thresholds.null_rate
    codes = torch.ones(rates.shape[0], dtype=torch.long)
    codes[null.cpu()] = 2
    codes[noisy.cpu()] = 0
    return codes


def temporal_similarity_sums(spikes: torch.Tensor) -> tuple[float, int]:
    """Sum of cos(s^t, s^{t+1}) over (t, sample, channel) of ``[T, B, C, H, W]`` spikes, and the pair count.

    Pairs of two empty maps are skipped; one empty map gives cosine 0.
    """
    maps = spikes.detach().flatten(3).float()                                   # (T, B, C, H*W)
    norms = maps.norm(dim=3)                                                     # (T, B, C)
    dots = (maps[:-1] * maps[1:]).sum(3).double()                                # (T-1, B, C)
    denom = (norms[:-1] * norms[1:]).double()
    cosines = torch.where(denom > 0, dots / denom.clamp_min(1e-30), torch.zeros_like(dots))
    counted = (norms[:-1] > 0) | (norms[1:] > 0)
    return float(cosines.sum()), int(counted.sum())


def channel_similarity_sums(spikes: torch.Tensor) -> tuple[float, int]:
    """Sum of cos(s_c, s_d) over channel pairs c < d, per step and sample, of ``[T, B, C, H, W]`` spikes,
    and the pair count.

    With unit maps u_c (0 for an empty map) and k non-empty maps, sum_{c<d} u_c.u_d =
    (|sum_c u_c|^2 - k) / 2, so no C x C matrix is formed. Pairs of two empty maps are skipped:
    the count is C(C-1)/2 - z(z-1)/2 with z empty maps.
    """
    maps = spikes.detach().flatten(3).float()                                   # (T, B, C, H*W)
    norms = maps.norm(dim=3, keepdim=True)                                       # (T, B, C, 1)
    units = torch.where(norms > 0, maps / norms.clamp_min(1e-30), torch.zeros_like(maps))
    total = units.sum(2, dtype=torch.float64)                                    # (T, B, H*W)
    nonempty = (norms[..., 0] > 0).sum(2).double()                               # (T, B)
    channels = maps.shape[2]
    empty = channels - nonempty
    pair_sum = ((total * total).sum(2) - nonempty) / 2                           # (T, B)
    counted = channels * (channels - 1) / 2 - empty * (empty - 1) / 2
    return float(pair_sum.sum()), int(round(float(counted.sum())))


class RedundancyTally:
    """Running sums for the redundancy metrics of the conv layers (spikes ``[T, B, C, H, W]``)."""

    def __init__(self, layer_names: list[str], thresholds: PatternThresholds = PatternThresholds()):
        self.names = layer_names
        self.thresholds = thresholds
        self.samples = 0
        self.time_steps = 0
        self.spike_maps: dict[str, torch.Tensor] = {}              # layer -> (C, H, W) spike counts
        self.sums: dict[str, list[float]] = {}                     # layer -> [temporal sum, count, channel sum, count]

    def add(self, spikes: tuple[torch.Tensor, ...]) -> None:
        """Add one batch (the same tuple ``SpikeTally.add`` gets); layers that are not 5-D are ignored."""
        self.samples += spikes[0].shape[1]
        self.time_steps = spikes[0].shape[0]
        for name, layer_spikes in zip(self.names, spikes):
            if layer_spikes.dim() != 5:
                continue
            counts = layer_spikes.detach().sum((0, 1), dtype=torch.float64).cpu()   # (C, H, W)
            t_sum, t_count = temporal_similarity_sums(layer_spikes)
            c_sum, c_count = channel_similarity_sums(layer_spikes)
            if name not in self.spike_maps:
                self.spike_maps[name], self.sums[name] = counts, [0.0, 0, 0.0, 0]
            else:
                self.spike_maps[name] += counts
            sums = self.sums[name]
            sums[0], sums[1], sums[2], sums[3] = sums[0] + t_sum, sums[1] + t_count, sums[2] + c_sum, sums[3] + c_count

    def summary(self) -> RedundancyMetrics | None:
        """The metrics of everything added; None when no conv layer was seen."""
        if self.samples == 0:
            raise ValueError("no batches were added: metrics need at least one evaluated sample")
        if not self.spike_maps:
            return None
        maps = {n: counts / (self.time_steps * self.samples) for n, counts in self.spike_maps.items()}
        codes = {n: classify_channels(m, self.thresholds) for n, m in maps.items()}
        layers = {n: _layer_scores(codes[n], self.sums[n]) for n in maps}
        widths = {n: m.shape[0] for n, m in maps.items()}
        return RedundancyMetrics(
            samples=self.samples, time_steps=self.time_steps, thresholds=self.thresholds,
            layers=layers, overall=_overall_scores(layers, widths), firing_maps=maps,
            patterns={n: tuple(PATTERNS[int(k)] for k in c) for n, c in codes.items()},
        )


def _layer_scores(codes: torch.Tensor, sums: list[float]) -> RedundancyScores:
    noise, normal, null = (float((codes == k).double().mean()) for k in range(len(PATTERNS)))
    return RedundancyScores(noise, normal, null, temporal_similarity=sums[0] / sums[1] if sums[1] else None,
                            channel_similarity=sums[2] / sums[3] if sums[3] else None)


def _overall_scores(layers: dict[str, RedundancyScores], widths: dict[str, int]) -> RedundancyScores:
    """Channel-weighted mean of the layer scores (layers with an undefined similarity are left out of it)."""
    def weighted(field: str) -> float | None:
        pairs = [(getattr(s, field), widths[n]) for n, s in layers.items() if getattr(s, field) is not None]
        weight = sum(w for _, w in pairs)
        return sum(v * w for v, w in pairs) / weight if weight else None

    def fraction(field: str) -> float:
        value = weighted(field)           # every layer has its pattern fractions: None only with no channel at all
        if value is None:
            raise ValueError(f"no conv channel to weight the layers' {field} by")
        return value
    return RedundancyScores(fraction("noise_channels"), fraction("normal_channels"), fraction("null_channels"),
                            weighted("temporal_similarity"), weighted("channel_similarity"))


def mpd_histogram(values: torch.Tensor, bins: int = 50,
                  value_range: tuple[float, float] = (-3.0, 3.0)) -> tuple[np.ndarray, np.ndarray]:
    """Membrane-potential distribution: ``(counts, edges)`` of ``values`` (e.g. ``LayerTrace.current``
    or ``.v_pre``) in ``bins`` equal bins over ``value_range``; values outside the range are not counted."""
    low, high = value_range
    if bins < 1 or not low < high:
        raise ValueError(f"bins={bins}, value_range={value_range} is not valid; allowed: bins >= 1, low < high")
    flat = values.detach().cpu().double().flatten().numpy()
    return np.histogram(flat, bins=bins, range=(low, high))


def would_fire_fraction(values: torch.Tensor, threshold: float) -> float:
    """Fraction of ``values`` at or above ``threshold`` (V_th): the paper's collect script's "would fire" share."""
    if values.numel() == 0:
        raise ValueError("values is empty: the fraction needs at least one value")
    return float((values.detach() >= threshold).double().mean())
