"""Glue for the Compare page (and the TRT page's comparisons): build the two arms from the sidebar config, tune both
with one budget when asked, run them as a background job, tabulate the pairs finished so far, say which runs failed,
and word the verdict (Holm-adjusted over the metrics shown, "no evidence" with the detectable effect)."""
from __future__ import annotations

from snn_core.config.run_config import ALIASES, RunConfig, parse_assignments
from snn_core.experiments.batch import RunCache, default_cache_dir
from snn_core.experiments.compare import compare_configs, compare_result, compute_matched, runnable
from snn_core.experiments.tuning import TUNE_SEEDS, Arm, TunedArm, TuningPlan, plan_tuning
from snn_core.report.parts import ACCURACY
from snn_core.report.verdict import HEADLINE_METRICS, holm_family, verdict
from snn_core.results import Comparison

from .challenges import chance
from .downloads import comparison_rows, csv_text
from .jobs import Job, Snapshot, batch_work

JOB = "compare"              # the page's job name in the session
TUNE_JOB = "compare-tune"    # the tuning that runs before it when "Tune both arms first" is on
AT_CHANCE = 0.05            # an arm whose mean test accuracy is below chance + 5 points has not learned
TUNED = {"lr": (1 / 3, 1.0, 3.0), "threshold": (0.5, 1.0, 2.0)}    # tuned setting -> factors of the base's value


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
    return Job("Comparison", len(configs), batch_work(configs, workers=workers, cache=RunCache(default_cache_dir())),
               {"base": base, "variant": variant, "seeds": seeds, "changes": changes})


def tuning_space(cfg: RunConfig) -> dict[str, list[float]]:
    """lr x {1/3, 1, 3} and V_th x {1/2, 1, 2} around the sidebar's own values: the same space for both arms."""
    now = {"lr": cfg.training.lr, "threshold": cfg.neuron.threshold}
    return {name: [float(f"{now[name] * factor:.3g}") for factor in factors] for name, factors in TUNED.items()}


def tuning_plan(cfg: RunConfig, base: RunConfig, changes: str, trials: int, seeds: list[int]) -> TuningPlan:
    """Both arms (``arms``' base, the sidebar ``cfg`` with ``changes``) tuned over ``tuning_space(cfg)`` with the same
    ``trials``, on the tuning seed, apart from the compared ``seeds``, read on validation only. ValueError when the
    variant changes a tuned setting (tuning would undo its change) or the config has no validation split."""
    clash = sorted(name for name in parse_assignments(changes) if ALIASES.get(name, name) in TUNED)
    if clash:
        raise ValueError(f"the variant changes {', '.join(clash)}, which tuning chooses for both arms; allowed: a "
                         f"variant that changes other settings, or a comparison without tuning")
    if not cfg.data.validation > 0:
        raise ValueError("tuning chooses on the validation split and these settings have none (validation=0); "
                         "allowed: validation > 0, e.g. validation=0.1")
    space = tuning_space(cfg)
    arms = [Arm("base", {"epochs": base.training.epochs}, space), Arm("variant", parse_assignments(changes), space)]
    return plan_tuning(cfg, arms, trials, report_seeds=seeds)


def tune_job(plan: TuningPlan, seeds: int, first_seed: int, workers: int, changes: str) -> Job:
    """The tuning runs as a background job (run cache, Cancel); ``comparison_after`` starts the comparison."""
    return Job("Tuning both arms", len(plan.configs), batch_work(plan.configs, workers=workers,
                                                                  cache=RunCache(default_cache_dir())),
               {"plan": plan, "seeds": seeds, "first_seed": first_seed, "workers": workers, "changes": changes})


def comparison_after(snap: Snapshot) -> tuple[dict[str, TunedArm], Job]:
    """A finished tuning job's chosen configs and the comparison job of the two tuned arms on the compared seeds."""
    meta = snap.meta
    tuned = meta["plan"].result(snap.slots)
    return tuned, job(tuned["base"].config, tuned["variant"].config, meta["seeds"], meta["first_seed"],
                      meta["workers"], meta["changes"])


def budget_text(trials: int, cfg: RunConfig) -> str:
    """What the tuning spends per arm, for the page."""
    space = tuning_space(cfg)
    return (f"Each arm gets the same budget: {trials} settings of lr in {space['lr']} and V_th in "
            f"{space['threshold']} (the same draw for both), trained on tuning seed{'s' * (len(TUNE_SEEDS) > 1)} "
            f"{', '.join(map(str, TUNE_SEEDS))}, apart from the compared seeds; each arm keeps the setting with the "
            f"best validation accuracy (the test split chooses nothing).")


def sentences(result: Comparison) -> list[str]:
    """The verdict on the headline metrics, each p Holm-adjusted over the metrics shown (one family of tests), after
    a warning when neither arm learned (``unlearned``)."""
    shown = {metric: result.paired[metric] for metric in HEADLINE_METRICS if metric in result.paired}
    warning = unlearned(result)
    return [*([warning] if warning else []), *verdict(shown, adjusted=holm_family(shown))]


def unlearned(result: Comparison) -> str | None:
    """A warning when both arms end at chance (mean test accuracy below guessing + ``AT_CHANCE`` points): their
    differences then measure two untrained networks, not the change. None otherwise, or where chance is unknown."""
    floor = chance(result.base)
    means = [summary[ACCURACY].mean for summary in (result.base_summary, result.variant_summary)
             if ACCURACY in summary]
    if floor is None or len(means) < 2 or max(means) >= floor + AT_CHANCE:
        return None
    return (f"**Neither arm learned**: the base ends at {means[0]:.1%} and the variant at {means[1]:.1%} test "
            f"accuracy, and guessing gets {floor:.0%}, so the comparison says nothing about the change. Train longer "
            "(epochs), on more samples or with a larger lr first.")


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
