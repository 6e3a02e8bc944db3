"""Fair comparisons: configs trained on the same seeds, summarised with paired statistics per metric.

Seeds replace ``training.seed`` (initialisation, batch order, Poisson spikes) and are the
same in every arm; ``data.data_seed`` is left as configured, so every seed trains and tests
on the same split and the same generated events. The spread across seeds is then that of
training alone, and each seed's difference between arms is a paired measurement.

Every arm and sweep point is checked (``snn_core.config.check``) before anything trains, so a
config that cannot run fails at once with its problems instead of as one failed run per seed.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from ..config.check import require_valid
from ..config.run_config import ALIASES, RunConfig, cli_index
from .batch import Progress, RunCache, run_many
from .stats import mean_ci, paired

SEED_OPTION = "seed"


def with_seed(cfg: RunConfig, seed: int) -> RunConfig:
    return cfg.with_values({SEED_OPTION: seed})


def runnable(cfg: RunConfig, label: str) -> RunConfig:
    """``cfg`` if it can run, else ValueError with ``label`` (which arm or point) and all its problems."""
    try:
        require_valid(cfg)
    except ValueError as problem:
        raise ValueError(f"{label}: {problem}") from None
    return cfg


def compute_matched(cfg: RunConfig, factor: float) -> RunConfig:
    """The compute-matched control for a variant that costs ``factor`` baseline steps per step (TRT: 2).

    Compute means gradient steps at the same batch size: epochs' = round(factor x epochs), so the
    control takes factor x the steps and sees factor x the samples; a cosine lr schedule stretches with it.
    """
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"factor={factor!r} is not valid; allowed: a positive number")
    return cfg.with_values({"epochs": max(1, round(cfg.training.epochs * factor))})


def numeric_metrics(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Scalar metrics, with nested dicts flattened to dotted names at any depth (``layer_firing_rates.fc1``,
    ``robustness.jitter.2``); lists and None are left out."""
    flat = {}
    for name, value in metrics.items():
        if _is_number(value):
            flat[f"{prefix}{name}"] = float(value)
        elif isinstance(value, dict):
            flat.update(numeric_metrics(value, f"{prefix}{name}."))
    return flat


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def summary_table(slots: Sequence[dict], confidence: float = 0.95) -> dict[str, dict]:
    """Metric -> ``mean_ci`` over the successful runs, for metrics that every one of them reports."""
    flats = [numeric_metrics(slot["metrics"]) for slot in slots if slot["error"] is None]
    names = _common_names(flats)
    return {name: mean_ci([flat[name] for flat in flats], confidence) for name in names}


def paired_table(base: Sequence[dict], variant: Sequence[dict], confidence: float = 0.95) -> dict[str, dict]:
    """Metric -> ``paired`` (variant - base) over the seeds where both arms succeeded."""
    pairs = [(numeric_metrics(b["metrics"]), numeric_metrics(v["metrics"]))
             for b, v in zip(base, variant) if b["error"] is None and v["error"] is None]
    names = _common_names([flat for pair in pairs for flat in pair])
    return {name: paired([b[name] for b, _ in pairs], [v[name] for _, v in pairs], confidence) for name in names}


def _common_names(flats: list[dict]) -> list[str]:
    if not flats:
        return []
    return [name for name in flats[0] if all(name in flat for flat in flats[1:])]


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """The seeds as a list; at least one, no repeats (a repeated seed would count one pair twice)."""
    seeds = [int(seed) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds={seeds} is not valid; allowed: 1 or more distinct integers")
    return seeds


def arm(slot: dict) -> dict:
    """A run slot without its config (the arm's config is the top-level one with this seed)."""
    return {key: value for key, value in slot.items() if key != "config"}


def compare(base: RunConfig, variant: RunConfig, seeds: Sequence[int], *, workers: int = 1,
            threads: int | None = None, device: str = "auto", cache: RunCache | None = None,
            progress: Progress | None = None, confidence: float = 0.95) -> dict:
    """Train both arms on every seed; per-seed results and, per metric, the paired variant - base difference."""
    seeds = check_seeds(seeds)
    base, variant = runnable(base, "base arm"), runnable(variant, "variant arm")
    configs = [with_seed(cfg, seed) for seed in seeds for cfg in (base, variant)]   # b0, v0, b1, v1, ...
    slots = run_many(configs, workers=workers, threads=threads, device=device, cache=cache, progress=progress)
    base_slots, variant_slots = slots[0::2], slots[1::2]
    return {
        "base": base.to_dict(),
        "variant": variant.to_dict(),
        "seeds": seeds,
        "per_seed": [{"seed": seed, "base": arm(b), "variant": arm(v)}
                     for seed, b, v in zip(seeds, base_slots, variant_slots)],
        "paired": paired_table(base_slots, variant_slots, confidence),
        "summary": {"base": summary_table(base_slots, confidence),
                    "variant": summary_table(variant_slots, confidence)},
        "failed_runs": sum(slot["error"] is not None for slot in slots),
    }


def sweep_points(cfg: RunConfig, parameter: str, values: Sequence) -> list[RunConfig]:
    """One config per value of the CLI option ``parameter``, all validated and checked before anything trains."""
    parameter = ALIASES.get(parameter, parameter)
    if parameter == SEED_OPTION:
        raise ValueError(f"parameter '{SEED_OPTION}' cannot be swept: the seeds are the repetitions; "
                         f"allowed: any other option, e.g. data-seed")
    if parameter not in cli_index():
        raise ValueError(f"unknown parameter '{parameter}'; allowed: {', '.join(sorted(cli_index()))}")
    if not values:
        raise ValueError(f"values of '{parameter}' are empty; allowed: 1 or more values")
    return [runnable(cfg.with_values({parameter: value}), f"{parameter}={value}") for value in values]


def sweep(cfg: RunConfig, parameter: str, values: Sequence, seeds: Sequence[int], *, workers: int = 1,
          threads: int | None = None, device: str = "auto", cache: RunCache | None = None,
          progress: Progress | None = None, confidence: float = 0.95) -> dict:
    """Train ``cfg`` with each value of ``parameter`` on every seed; mean and CI per value, and the
    paired difference of each value against the first one (the reference)."""
    seeds = check_seeds(seeds)
    points = sweep_points(cfg, parameter, values)
    parameter = ALIASES.get(parameter, parameter)
    section, fld = cli_index()[parameter]
    configs = [with_seed(point, seed) for point in points for seed in seeds]
    slots = run_many(configs, workers=workers, threads=threads, device=device, cache=cache, progress=progress)
    groups = [slots[i:i + len(seeds)] for i in range(0, len(slots), len(seeds))]
    return {
        "config": cfg.to_dict(),
        "parameter": parameter,
        "values": [point.to_dict()[section][fld.name] for point in points],
        "seeds": seeds,
        "points": [{"value": point.to_dict()[section][fld.name],
                    "runs": [{"seed": seed, **arm(slot)} for seed, slot in zip(seeds, group)],
                    "summary": summary_table(group, confidence),
                    "paired_vs_first": paired_table(groups[0], group, confidence)}
                   for point, group in zip(points, groups)],
        "failed_runs": sum(slot["error"] is not None for slot in slots),
    }
