"""How a method's paired effect depends on the number of time steps T: one tuned, paired comparison per T.

A study (``TStudy``) names a method's arms at each of its T (``TPoint``: the base config at that T and the arms to
tune there, each over its own settings), the arm under test (``variant``) and the arms its control is chosen from
(``controls``). At every T, every arm gets the same number of tuning trials (``experiments.tuning``: on tuning seeds
apart from the reported ones, scored on validation accuracy at the epoch early stopping selects); the control is
the one whose tuning validation score is highest (ties: the first listed, as ``report.asa.best_control``); then
control and variant train on the same reported seeds (a seed fixes the shared initial weights and the batch order,
``compare``) and each seed gives one paired difference. Accuracy is compared as a difference; energy per sample
and synaptic operations (``metrics.cost``) as ratios, on the log scale where a ratio is a difference::

    r_i = E_variant,i / E_control,i,   ratio = exp(mean_i log r_i)  [exp(CI of the mean of log r_i)]

(a geometric mean ratio with its 95% CI, ``stats.paired`` on the logs). Whether the effect changes with T is read
seed by seed: the least-squares slope of a seed's differences d_i(T) on x_T = log2 T (per doubling of T)::

    b_i = sum_T (x_T - x̄)(d_i(T) - d̄_i) / sum_T (x_T - x̄)^2

and the mean of b_i over the seeds with a complete set of T, its 95% CI and the paired t-test of mean b = 0
(``trend``). The tests a section judges together (``TEffect.family``) are each T's accuracy and log energy ratio
and the two trends: one Holm family per method.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..config.run_config import RunConfig
from ..results.comparison import Comparison, PairedStat, SeedPair
from ..results.run_result import RunResult
from .batch import Progress, RunCache, run_many
from .compare import check_seeds, compare_configs, compare_result
from .stats import paired
from .tuning import TUNE_SEEDS, Arm, TunedArm, TuningPlan, plan_tuning

if TYPE_CHECKING:
    from ..metrics.cost import CostMetrics
    from .executors import Executor

ACCURACY = "test_accuracy"          # the accuracy column of ``Comparison.paired`` (``results.results_table``)


@dataclass(frozen=True)
class TPoint:
    """One T of a study: how a table names it, the base config at that T and the arms tuned there."""
    time_steps: int
    label: str
    base: RunConfig
    arms: tuple[Arm, ...]


@dataclass(frozen=True)
class TStudy:
    """A method's effect over T: ``variant`` against the best of ``controls`` (tuning validation), at every point."""
    method: str
    variant: str
    controls: tuple[str, ...]
    points: tuple[TPoint, ...]

    def __post_init__(self):
        steps = [point.time_steps for point in self.points]
        if not steps or len(set(steps)) != len(steps):
            raise ValueError(f"{self.method}: T = {steps} is not valid; allowed: 1 or more distinct T")
        for point in self.points:
            names = [arm.name for arm in point.arms]
            missing = [name for name in (self.variant, *self.controls) if name not in names]
            if missing or not self.controls or self.variant in self.controls:
                raise ValueError(f"{self.method}, {point.label}: variant {self.variant!r} and controls "
                                 f"{list(self.controls)} must be distinct arms of {names}; missing: {missing}")

    def plans(self, trials: int, report_seeds: Sequence[int],
              tune_seeds: Sequence[int] = TUNE_SEEDS) -> list[TuningPlan]:
        """Each point's tuning (``tuning.plan_tuning``: ``trials`` per arm, every config checked), in point order."""
        return [plan_tuning(point.base, point.arms, trials, seeds=tune_seeds, report_seeds=report_seeds)
                for point in self.points]


def choose_control(tuned: Mapping[str, TunedArm], controls: Sequence[str]) -> str:
    """The control whose tuning validation score is highest (ties, and arms without a score: the first listed)."""
    return max(controls, key=lambda name: (tuned[name].score or -1.0, -list(controls).index(name)))


def cost_of(run: RunResult) -> CostMetrics:
    """A finished run's operation counts; ValueError for a run without them (failed, or from before issue 29)."""
    if run.metrics is None or run.metrics.cost is None:
        raise ValueError(f"the run of seed {run.seed} has no cost metrics (error: {run.error}); the effect of T "
                         "reads energy from runs that finished and were counted")
    return run.metrics.cost


def _ok(result: Comparison) -> list[SeedPair]:
    return [pair for pair in result.per_seed if pair.base.ok and pair.variant.ok]


def log_ratio(result: Comparison, read: Callable[[RunResult], float]) -> PairedStat:
    """Paired statistics of log(read(variant)) − log(read(base)) over the seeds where both arms finished (module
    docstring); ValueError where a value is not positive (no ratio)."""
    logs: tuple[list[float], list[float]] = ([], [])
    for pair in _ok(result):
        for arm, values in ((pair.base, logs[0]), (pair.variant, logs[1])):
            value = read(arm)
            if not value > 0:
                raise ValueError(f"seed {pair.seed}: a value of {value!r} has no ratio; allowed: positive values")
            values.append(math.log(value))
    return PairedStat.from_json(paired(*logs))


def energy_pj(run: RunResult) -> float:
    return cost_of(run).energy_pj


def synaptic_ops(run: RunResult) -> float:
    return cost_of(run).synaptic_ops


def accuracy_diff(pair: SeedPair) -> float:
    """A seed's variant − base test accuracy."""
    return _accuracy(pair.variant) - _accuracy(pair.base)


def log_energy_diff(pair: SeedPair) -> float:
    """A seed's log energy ratio, variant over base."""
    return math.log(energy_pj(pair.variant)) - math.log(energy_pj(pair.base))


def _accuracy(run: RunResult) -> float:
    if run.metrics is None:
        raise ValueError(f"the run of seed {run.seed} has no metrics (error: {run.error})")
    return run.metrics.test_accuracy


@dataclass(frozen=True)
class TComparison:
    """One T: the tuned arms, the control chosen among them and the paired comparison variant − control."""
    point: TPoint
    tuned: dict[str, TunedArm]
    control: str
    result: Comparison

    @property
    def accuracy(self) -> PairedStat:
        return self.result.paired[ACCURACY]

    @property
    def energy(self) -> PairedStat:
        """log(E_variant / E_control) per sample, paired."""
        return log_ratio(self.result, energy_pj)

    @property
    def sops(self) -> PairedStat:
        """log(SOP_variant / SOP_control) per sample, paired."""
        return log_ratio(self.result, synaptic_ops)


def trend(rows: Sequence[TComparison], diff: Callable[[SeedPair], float]) -> PairedStat | None:
    """The per-seed slope of ``diff`` on log2 T (module docstring), over the seeds whose pairs finished at every T;
    None with fewer than 2 distinct T."""
    x = [math.log2(row.point.time_steps) for row in rows]
    if len(set(x)) < 2:
        return None
    by_seed = [{pair.seed: diff(pair) for pair in _ok(row.result)} for row in rows]
    seeds = [seed for seed in by_seed[0] if all(seed in found for found in by_seed)]
    x_mean = sum(x) / len(x)
    spread = sum((value - x_mean) ** 2 for value in x)
    slopes = []
    for seed in seeds:
        d = [found[seed] for found in by_seed]
        d_mean = sum(d) / len(d)
        slopes.append(sum((xt - x_mean) * (dt - d_mean) for xt, dt in zip(x, d)) / spread)
    return PairedStat.from_json(paired([0.0] * len(slopes), slopes))


@dataclass(frozen=True)
class TEffect:
    """A study measured: one comparison per T on ``seeds``, each arm tuned with ``trials`` trials."""
    study: TStudy
    rows: tuple[TComparison, ...]
    seeds: tuple[int, ...]
    trials: int

    @property
    def accuracy_trend(self) -> PairedStat | None:
        return trend(self.rows, accuracy_diff)

    @property
    def energy_trend(self) -> PairedStat | None:
        return trend(self.rows, log_energy_diff)

    def family(self) -> dict[str, PairedStat]:
        """The method's Holm family: each T's accuracy and energy test, then the trends (``family_keys``)."""
        tests = {}
        for row in self.rows:
            tests[accuracy_key(row.point)] = row.accuracy
            tests[energy_key(row.point)] = row.energy
        for key, stats in ((TREND_ACCURACY, self.accuracy_trend), (TREND_ENERGY, self.energy_trend)):
            if stats is not None:
                tests[key] = stats
        return tests


TREND_ACCURACY, TREND_ENERGY = "trend over T: accuracy", "trend over T: energy"


def accuracy_key(point: TPoint) -> str:
    return f"{point.label}: accuracy"


def energy_key(point: TPoint) -> str:
    return f"{point.label}: energy"


def run_study(study: TStudy, seeds: Sequence[int], trials: int, *, workers: int | Executor = 1,
              cache: RunCache | None = None, progress: Progress | None = None) -> TEffect:
    """Tune every point's arms (one batch), choose each point's control, then train control and variant on
    ``seeds`` (a second batch) and compare them pairwise."""
    seeds = check_seeds(seeds)
    plans = study.plans(trials, seeds)
    slots = run_many([cfg for plan in plans for cfg in plan.configs], workers=workers, cache=cache,
                     progress=progress)
    tuned, start = [], 0
    for point, plan in zip(study.points, plans):
        try:
            tuned.append(plan.result(slots[start:start + len(plan.configs)]))
        except ValueError as problem:
            raise ValueError(f"{study.method}, {point.label}: {problem}") from None
        start += len(plan.configs)
    controls = [choose_control(arms, study.controls) for arms in tuned]
    arms = [(found[control].config, found[study.variant].config) for found, control in zip(tuned, controls)]
    listed = [compare_configs(base, variant, seeds) for base, variant in arms]
    runs = run_many([cfg for configs in listed for cfg in configs], workers=workers, cache=cache, progress=progress)
    rows = tuple(TComparison(point, found, control, compare_result(base, variant, seeds,
                                                                   runs[i * 2 * len(seeds):(i + 1) * 2 * len(seeds)]))
                 for i, (point, found, control, (base, variant)) in enumerate(zip(study.points, tuned, controls,
                                                                                   arms)))
    return TEffect(study, rows, tuple(seeds), trials)
