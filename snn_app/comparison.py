"""Glue for the Compare page (and the TRT page's comparisons): build the two arms from the sidebar config, run them
as a background job, tabulate the pairs finished so far, and say which runs failed."""
from __future__ import annotations

from snn_core.config.run_config import RunConfig, parse_assignments
from snn_core.experiments.batch import DEFAULT_CACHE_DIR, RunCache
from snn_core.experiments.compare import compare_configs, compare_result, compute_matched, runnable
from snn_core.results import Comparison

from .downloads import comparison_rows, csv_text
from .jobs import Job, Snapshot, batch_work

JOB = "compare"              # the page's job name in the session


def arms(base: RunConfig, changes: str, base_epochs_factor: float) -> tuple[RunConfig, RunConfig]:
    """(base, variant): the variant is the base with ``changes`` (``"max-spikes=1 T=4"``) applied; a
    factor above 1 trains the base that many times longer (the compute-matched control). ValueError when
    the variant is no change, or an arm cannot run (``config.check``, each problem named with its arm)."""
    if not changes.strip():
        raise ValueError("the variant needs at least one change, e.g. max-spikes=1")
    variant = base.with_values(parse_assignments(changes))
    if variant == base:
        raise ValueError(f"'{changes}' leaves the settings as they are: the two arms would be identical")
    base = compute_matched(base, base_epochs_factor) if base_epochs_factor != 1 else base
    return runnable(base, "base arm"), runnable(variant, "variant arm")


def job(base: RunConfig, variant: RunConfig, seeds: int, first_seed: int, workers: int, changes: str) -> Job:
    """The comparison on seeds first_seed.. as a background job, with the on-disk run cache: repeating a comparison
    is free, and one cancelled half-way resumes where it stopped."""
    seeds = list(range(first_seed, first_seed + seeds))
    configs = compare_configs(base, variant, seeds)
    return Job("Comparison", len(configs), batch_work(configs, workers=workers, cache=RunCache(DEFAULT_CACHE_DIR)),
               {"base": base, "variant": variant, "seeds": seeds, "changes": changes})


def result(snap: Snapshot) -> Comparison:
    """``compare``'s result from the job's runs finished so far: the seeds whose two arms both finished."""
    meta = snap.meta
    return compare_result(meta["base"], meta["variant"], meta["seeds"], snap.slots)


def per_seed_csv(result: Comparison) -> str:
    """One row per (seed, arm): its config, every numeric metric, and a failed run's error text."""
    return csv_text(comparison_rows(result))


def errors(result: Comparison) -> list[str]:
    """The distinct error texts of the comparison's failed runs, in seed order (the page's warning lists them)."""
    return list(dict.fromkeys(run.error for pair in result.per_seed for run in (pair.base, pair.variant)
                              if run.error))
