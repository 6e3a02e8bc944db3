"""Fair comparisons: configs trained on the same seeds, summarised with paired statistics per metric.

Seeds replace ``training.seed`` (initialisation, batch order, Poisson spikes) and are the
same in every arm; ``data.data_seed`` is left as configured, so every seed trains and tests
on the same split and the same generated events. The spread across seeds is then that of
training alone, and each seed's difference between arms is a paired measurement.

Every arm and sweep point is checked (``snn_core.config.check``) before anything trains, so a
config that cannot run fails at once with its problems instead of as one failed run per seed.

Each command is also split in two, for a caller that runs the configs itself (a background job that shows
results seed by seed, and may be cancelled): ``compare_configs``/``sweep_configs`` list the runs, and
``compare_result``/``sweep_result`` tabulate whatever slots have finished so far (None, or a cancelled slot,
for a run that has not). The results are typed records (``results.Comparison``, ``results.Sweep``); the statistics
are taken over the columns of the runs' table (``results.results_table``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple, TypeGuard

from ..config.check import require_valid
from ..config.run_config import ALIASES, RunConfig, cli_index
from ..results.comparison import Comparison, MeanCI, PairedStat, SeedPair, Sweep, SweepPoint
from ..results.run_result import RunResult
from ..results.table import SEED as SEED_OPTION
from ..results.table import (
    common_metrics,
    results_table,
    with_seed,
)
from .batch import Progress, RunCache, cancelled_slot, is_cancelled, run_many
from .stats import mean_ci, paired

if TYPE_CHECKING:
    from .executors import Executor


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


def summary_table(slots: Sequence[RunResult], confidence: float = 0.95) -> dict[str, MeanCI]:
    """Metric -> ``mean_ci`` over the successful runs (a column of their table), for the metrics that every one of
    them reports."""
    runs = [slot for slot in slots if slot.ok]
    table = results_table(runs)
    return {name: MeanCI.from_json(mean_ci(table[name].tolist(), confidence)) for name in common_metrics(runs)}


def paired_table(base: Sequence[RunResult], variant: Sequence[RunResult],
                 confidence: float = 0.95) -> dict[str, PairedStat]:
    """Metric -> ``paired`` (variant - base) over the seeds where both arms succeeded: row i of the base table
    against row i of the variant table."""
    pairs = [(b, v) for b, v in zip(base, variant) if b.ok and v.ok]
    names = common_metrics([run for pair in pairs for run in pair])
    base_table, variant_table = results_table([b for b, _ in pairs]), results_table([v for _, v in pairs])
    return {name: PairedStat.from_json(paired(base_table[name].tolist(), variant_table[name].tolist(), confidence))
            for name in names}


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """The seeds as a list; at least one, no repeats (a repeated seed would count one pair twice)."""
    seeds = [int(seed) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds={seeds} is not valid; allowed: 1 or more distinct integers")
    return seeds


def finished(slot: RunResult | None) -> TypeGuard[RunResult]:
    """Whether a run slot holds a run that ended (well or failed), not one still to come or cancelled."""
    return slot is not None and not is_cancelled(slot)


def _settled(configs: Sequence[RunConfig], slots: Sequence[RunResult | None]) -> list[RunResult]:
    """Every slot, a cancelled slot in place of a run that has not finished (the statistics skip both)."""
    return [slot if finished(slot) else cancelled_slot(cfg) for cfg, slot in zip(configs, slots)]


class RunCounts(NamedTuple):
    failed: int           # runs that ended in an error
    unfinished: int       # not yet run, or cancelled


def _run_counts(slots: Sequence[RunResult | None]) -> RunCounts:
    return RunCounts(failed=sum(finished(slot) and not slot.ok for slot in slots),
                     unfinished=sum(not finished(slot) for slot in slots))


def compare_configs(base: RunConfig, variant: RunConfig, seeds: Sequence[int]) -> list[RunConfig]:
    """The runs of a comparison, both arms checked first: base and variant on each seed (b0, v0, b1, v1, ...)."""
    seeds = check_seeds(seeds)
    base, variant = runnable(base, "base arm"), runnable(variant, "variant arm")
    return [with_seed(cfg, seed) for seed in seeds for cfg in (base, variant)]


def compare_result(base: RunConfig, variant: RunConfig, seeds: Sequence[int], slots: Sequence[RunResult | None],
                   confidence: float = 0.95) -> Comparison:
    """The comparison from the slots of ``compare_configs`` (same order). Only seeds whose two runs both finished
    appear (in ``seeds`` and ``per_seed``); ``unfinished_runs`` counts the runs not yet done or cancelled, so a
    comparison with 2 of 5 seeds done is the comparison of those 2 pairs."""
    seeds = check_seeds(seeds)
    if len(slots) != 2 * len(seeds):
        raise ValueError(f"{len(slots)} slots for {len(seeds)} seeds; allowed: 2 per seed, in compare_configs' order")
    done: list[int] = []
    base_slots: list[RunResult] = []
    variant_slots: list[RunResult] = []
    for index in range(len(seeds)):
        base_slot, variant_slot = slots[2 * index], slots[2 * index + 1]
        if finished(base_slot) and finished(variant_slot):
            done.append(index)
            base_slots.append(base_slot)
            variant_slots.append(variant_slot)
    counts = _run_counts(slots)
    return Comparison(
        base=base, variant=variant, seeds=tuple(seeds[i] for i in done),
        per_seed=tuple(SeedPair(seeds[i], b, v) for i, b, v in zip(done, base_slots, variant_slots)),
        paired=paired_table(base_slots, variant_slots, confidence),
        base_summary=summary_table(base_slots, confidence), variant_summary=summary_table(variant_slots, confidence),
        failed_runs=counts.failed, unfinished_runs=counts.unfinished)


def compare(base: RunConfig, variant: RunConfig, seeds: Sequence[int], *, workers: int | Executor = 1,
            threads: int | None = None, device: str = "auto", cache: RunCache | None = None,
            progress: Progress | None = None, confidence: float = 0.95) -> Comparison:
    """Train both arms on every seed; per-seed results and, per metric, the paired variant - base difference."""
    configs = compare_configs(base, variant, seeds)
    slots = run_many(configs, workers=workers, threads=threads, device=device, cache=cache, progress=progress)
    return compare_result(base, variant, seeds, slots, confidence)


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


def sweep_configs(cfg: RunConfig, parameter: str, values: Sequence, seeds: Sequence[int]) -> list[RunConfig]:
    """The runs of a sweep, every point checked first: each value on every seed (p0 s0, p0 s1, ..., p1 s0, ...)."""
    seeds = check_seeds(seeds)
    return [with_seed(point, seed) for point in sweep_points(cfg, parameter, values) for seed in seeds]


def sweep_result(cfg: RunConfig, parameter: str, seeds: Sequence[int], configs: Sequence[RunConfig],
                 slots: Sequence[RunResult | None], confidence: float = 0.95) -> Sweep:
    """The sweep from ``sweep_configs``' configs and their slots (same order). A point lists the runs that finished
    so far in ``runs``; its statistics and its pairs with the first point use those only, seed by seed;
    ``unfinished_runs`` counts the runs not yet done or cancelled."""
    seeds = check_seeds(seeds)
    if len(slots) != len(configs) or not configs or len(configs) % len(seeds):
        raise ValueError(f"{len(slots)} slots for {len(configs)} configs of {len(seeds)} seeds; allowed: one slot "
                         "per config, in sweep_configs' order")
    parameter = ALIASES.get(parameter, parameter)
    section, fld = cli_index()[parameter]
    settled = _settled(configs, slots)
    groups = [range(i, i + len(seeds)) for i in range(0, len(configs), len(seeds))]
    values = [configs[group[0]].to_dict()[section][fld.name] for group in groups]
    first = [settled[i] for i in groups[0]]
    points = tuple(SweepPoint(value, tuple(settled[i] for i in group if finished(slots[i])),
                              summary_table([settled[i] for i in group], confidence),
                              paired_table(first, [settled[i] for i in group], confidence))
                   for value, group in zip(values, groups))
    counts = _run_counts(slots)
    return Sweep(cfg, parameter, tuple(values), tuple(seeds), points, failed_runs=counts.failed,
                 unfinished_runs=counts.unfinished)


def sweep(cfg: RunConfig, parameter: str, values: Sequence, seeds: Sequence[int], *, workers: int | Executor = 1,
          threads: int | None = None, device: str = "auto", cache: RunCache | None = None,
          progress: Progress | None = None, confidence: float = 0.95) -> Sweep:
    """Train ``cfg`` with each value of ``parameter`` on every seed; mean and CI per value, and the
    paired difference of each value against the first one (the reference)."""
    configs = sweep_configs(cfg, parameter, values, seeds)
    slots = run_many(configs, workers=workers, threads=threads, device=device, cache=cache, progress=progress)
    return sweep_result(cfg, parameter, seeds, configs, slots, confidence)
