"""Accuracy-versus-cost Pareto fronts (issue 29): families of operating points, each point tuned, run on paired seeds.

A family sweeps one setting (ASA's λ, the constant attenuation gate g, the firing threshold V_th, TTFS's spike cap
K); each of its points is an arm of the one tuner (``experiments.tuning``): the same ``trials`` per point over the
point's own settings (``Family.space``: the learning rate), on tuning seeds apart from the reported ones, chosen on
validation accuracy. The chosen config of every point then trains on the same reported seeds (``training.seed``:
identical initial weights per seed across the points and the families of one network). A point's position is the
mean and 95% CI over seeds of its test accuracy and its cost per sample (``metrics.cost``: energy in pJ, synaptic
operations as a second view); a method's front is tested against its control's, seed by seed, with the dominated
area inside a shared box (``experiments.fronts``), and the verdicts of one cost axis are one Holm family.

``plan_pareto`` checks and lists the runs (tuning first, ``ParetoPlan.tuning.configs``; then ``report_configs``
of the chosen points), ``pareto_result`` reads their slots (None, or a failed slot, for a run that did not finish)
and ``run_pareto`` does both through ``batch.run_many`` and its run cache.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..config.run_config import RunConfig
from ..data import DATASETS
from ..methods.presets import PAPER_NEURONS
from ..methods.ttfs.presets import TTFS_PRESET
from ..metrics.cost import EnergyModel
from ..results.comparison import MeanCI
from ..results.run_result import RunResult
from .batch import Progress, RunCache, run_many
from .compare import check_seeds, with_seed
from .fronts import AreaTest, Box, area_test, dominated_area, family_verdicts, log_cost, shared_box
from .stats import mean_ci
from .tuning import TUNE_SEEDS, Arm, TunedArm, TuningPlan, plan_tuning

if TYPE_CHECKING:
    from .executors import Executor

LEARNING_RATES = (1e-3, 3e-3, 1e-2, 3e-2)
# digits through a small conv net (direct encoding: its first layer multiplies densely), the ASA paper's neuron;
# pilot (seed 0, off, 3 epochs): 90% test accuracy in about 5 s on one core, so a front fits a report's minutes
CONV_BASE: dict[str, Any] = {"dataset": "digits", "arch": "conv", "channels": "8,16", "hidden": "64",
                             "train-samples": 600, "test-samples": 300, "epochs": 3, "robustness": False,
                             **PAPER_NEURONS["asa"]}
TTFS_BASE: dict[str, Any] = {**TTFS_PRESET, "epochs": 5, "robustness": False}    # pilot K = 1: 92% in about 7 s
AXES = {"energy": "energy per sample (pJ)", "sops": "synaptic operations per sample"}
PRIMARY_AXIS = "energy"


@dataclass(frozen=True)
class Family:
    """One family of operating points: ``setting`` (a CLI name) at each of ``values``, on top of ``changes`` (the
    family's own base, CLI names); each point tuned over ``space``; ``controls``: the families it is tested
    against."""
    name: str
    setting: str
    values: tuple
    changes: Mapping[str, Any]
    controls: tuple[str, ...]
    about: str
    space: Mapping[str, Sequence] = field(default_factory=lambda: {"lr": LEARNING_RATES})


FAMILIES = {family.name: family for family in (
    Family("asa-lambda", "asa-lambda", (0.25, 0.5, 0.75), {**CONV_BASE, "asa": "clean"}, ("threshold", "asa-gate"),
           "clean ASA on both conv layers, its top-k fraction λ swept"),
    Family("asa-gate", "asa-constant-gate", (0.3, 0.6, 0.9), {**CONV_BASE, "asa": "constant"}, ("threshold",),
           "ASA's attenuation control: every conv current times a constant gate g, no attention"),
    Family("threshold", "threshold", (0.3, 0.6, 1.2), CONV_BASE, (),
           "the plain conv network (no method), its firing threshold V_th swept: ASA's control"),
    Family("ttfs-k", "max-spikes", (1, 2, 3, 5, 10), TTFS_BASE, ("ttfs-threshold",),
           "the TTFS preset, the spike cap K per neuron and sample swept"),
    Family("ttfs-threshold", "threshold", (0.5, 1.0, 2.0), {**TTFS_BASE, "max-spikes": 0}, (),
           "the TTFS preset with K unlimited, its threshold V_th swept: TTFS's control"),
)}


def arm_name(family: Family, value) -> str:
    """``asa-lambda asa-lambda=0.25``: a point's name as the tuner and the report name it."""
    return f"{family.name} {family.setting}={value:g}" if isinstance(value, float) else \
        f"{family.name} {family.setting}={value}"


@dataclass(frozen=True)
class ParetoPlan:
    """The runs of a study: ``tuning`` (every point's trials on the tuning seeds), then every point's chosen config
    on every reported seed (``report_configs``)."""
    families: tuple[Family, ...]
    seeds: tuple[int, ...]
    trials: int
    tuning: TuningPlan

    @property
    def points(self) -> list[tuple[Family, Any]]:
        return [(family, value) for family in self.families for value in family.values]

    def report_configs(self, tuned: Mapping[str, TunedArm]) -> list[RunConfig]:
        """Each point's chosen config on every reported seed, in order (family, value, seed)."""
        return [with_seed(tuned[arm_name(family, value)].config, seed) for family, value in self.points
                for seed in self.seeds]


def plan_pareto(names: Sequence[str], seeds: Sequence[int], trials: int, overrides: Mapping[str, Any] | None = None,
                tune_seeds: Sequence[int] = TUNE_SEEDS) -> ParetoPlan:
    """Check and list a study of the families ``names``: ``overrides`` (CLI names, e.g. fewer epochs) go on top of
    every family's base (the swept setting and the tuned ones still win); every point's every trial is checked
    before anything trains."""
    unknown = [name for name in names if name not in FAMILIES]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(f"families {list(names)} are not valid; allowed: 1 or more distinct of "
                         f"{', '.join(FAMILIES)}")
    families = tuple(FAMILIES[name] for name in names)
    seeds = tuple(check_seeds(seeds))
    arms = [Arm(arm_name(family, value), {**family.changes, **dict(overrides or {}), family.setting: value},
                family.space) for family in families for value in family.values]
    tuning = plan_tuning(RunConfig(), arms, trials, seeds=tune_seeds, report_seeds=seeds)
    return ParetoPlan(families, seeds, trials, tuning)


@dataclass(frozen=True)
class SeedPoint:
    """One finished run of a point: its seed, test accuracy and cost per sample."""
    seed: int
    accuracy: float
    energy_pj: float
    synaptic_ops: float

    def x(self, axis: str) -> float:
        return log_cost(self.energy_pj if axis == "energy" else self.synaptic_ops)


@dataclass(frozen=True)
class FrontPoint:
    """One operating point: the swept value, the tuned settings chosen and their validation score, its finished
    runs and, over them, mean and 95% CI of accuracy, energy and synaptic operations."""
    value: Any
    chosen: dict
    validation: float | None
    runs: tuple[SeedPoint, ...]
    failed: int

    def stat(self, what: str) -> MeanCI:
        return MeanCI.from_json(mean_ci([getattr(run, what) for run in self.runs]))

    def to_json(self) -> dict:
        return {"value": self.value, "chosen": self.chosen, "validation_accuracy": self.validation,
                "failed_runs": self.failed, "runs": [vars(run) for run in self.runs],
                **{what: self.stat(what).to_json() for what in ("accuracy", "energy_pj", "synaptic_ops")}}


@dataclass(frozen=True)
class Front:
    """A family's points, with what it sweeps and on which chance accuracy its box starts."""
    family: str
    setting: str
    about: str
    chance: float
    points: tuple[FrontPoint, ...]

    def on_seed(self, seed: int, axis: str) -> list[tuple[float, float]]:
        """(log10 cost, accuracy) of every point's run on ``seed``."""
        return [(run.x(axis), run.accuracy) for point in self.points for run in point.runs if run.seed == seed]

    def seeds(self) -> set[int]:
        return {run.seed for point in self.points for run in point.runs}

    def efficient(self, axis: str) -> list[FrontPoint]:
        """The points on the front of the means, by cost: none has another point at most as costly (mean cost
        on ``axis``) and at least as accurate (mean accuracy), better in one."""
        what = "energy_pj" if axis == "energy" else "synaptic_ops"
        means = [(point, sum(getattr(run, what) for run in point.runs) / len(point.runs),
                  sum(run.accuracy for run in point.runs) / len(point.runs)) for point in self.points if point.runs]
        kept = [(x, p) for p, x, y in means if not any(ox <= x and oy >= y and (ox < x or oy > y)
                                                          for _, ox, oy in means)]
        return [p for _, p in sorted(kept, key=lambda item: item[0])]

    def to_json(self) -> dict:
        return {"family": self.family, "setting": self.setting, "about": self.about, "chance": self.chance,
                "points": [point.to_json() for point in self.points]}


@dataclass(frozen=True)
class FrontComparison:
    """``method``'s front against ``control``'s on one cost ``axis``: the shared box, the paired seeds and the
    area test (``fronts.AreaTest``, Holm-adjusted over the axis's comparisons)."""
    method: str
    control: str
    axis: str
    seeds: tuple[int, ...]
    box: Box | None
    test: AreaTest

    def to_json(self) -> dict:
        return {"method": self.method, "control": self.control, "axis": self.axis, "seeds": list(self.seeds),
                "box": None if self.box is None else self.box.to_json(), **self.test.to_json()}


@dataclass(frozen=True)
class ParetoStudy:
    """Every front and every comparison of a study, with its budget and energy model."""
    seeds: tuple[int, ...]
    trials: int
    tuning_seeds: tuple[int, ...]
    energy: EnergyModel
    fronts: tuple[Front, ...]
    comparisons: tuple[FrontComparison, ...]
    failed_runs: int
    unfinished_runs: int

    def front(self, family: str) -> Front:
        return next(front for front in self.fronts if front.family == family)

    def to_json(self) -> dict:
        return {"seeds": list(self.seeds), "trials_per_point": self.trials, "tuning_seeds": list(self.tuning_seeds),
                "energy_model": vars(self.energy), "primary_axis": PRIMARY_AXIS,
                "fronts": [front.to_json() for front in self.fronts],
                "comparisons": [comparison.to_json() for comparison in self.comparisons],
                "failed_runs": self.failed_runs, "unfinished_runs": self.unfinished_runs}


def _seed_point(slot: RunResult | None) -> SeedPoint | None:
    if slot is None or not slot.ok or slot.metrics is None or slot.metrics.cost is None:
        return None
    cost = slot.metrics.cost
    return SeedPoint(slot.seed, slot.metrics.test_accuracy, cost.energy_pj, cost.synaptic_ops)


def compare_fronts(method: Front, control: Front, axis: str) -> FrontComparison:
    """Areas of both fronts per seed where both have a finished point, in one box over those seeds' points."""
    seeds = tuple(sorted(method.seeds() & control.seeds()))
    points = [xy for seed in seeds for front in (method, control) for xy in front.on_seed(seed, axis)]
    box = shared_box(points, max(method.chance, control.chance)) if points else None
    method_area, control_area = ([dominated_area(front.on_seed(seed, axis), box) for seed in seeds] if box else []
                                 for front in (method, control))
    return FrontComparison(method.family, control.family, axis, seeds, box, area_test(method_area, control_area))


def pareto_result(plan: ParetoPlan, tuning_slots: Sequence[RunResult], report_slots: Sequence[RunResult | None],
                  energy: EnergyModel | None = None) -> ParetoStudy:
    """The study from the slots of ``plan.tuning.configs`` and of ``plan.report_configs`` (same orders); runs
    re-priced at ``energy`` when given."""
    tuned = plan.tuning.result(tuning_slots)
    if len(report_slots) != len(plan.points) * len(plan.seeds):
        raise ValueError(f"{len(report_slots)} report slots for {len(plan.points)} points x {len(plan.seeds)} seeds; "
                         "allowed: one per point and seed, in report_configs' order")
    if energy is not None:
        report_slots = [None if slot is None else slot.priced(energy) for slot in report_slots]
    fronts, cursor = [], 0
    for family in plan.families:
        points = []
        for value in family.values:
            slots = report_slots[cursor:cursor + len(plan.seeds)]
            cursor += len(plan.seeds)
            arm = tuned[arm_name(family, value)]
            runs = tuple(run for run in map(_seed_point, slots) if run is not None)
            points.append(FrontPoint(value, arm.point, arm.score, runs, sum(s is not None and not s.ok for s in slots)))
        classes = DATASETS[tuned[arm_name(family, family.values[0])].config.data.dataset].n_classes
        chance = 1.0 / classes if classes else 0.0              # 0: an event folder, known only once loaded
        fronts.append(Front(family.name, family.setting, family.about, chance, tuple(points)))
    by_name = {front.family: front for front in fronts}
    comparisons = []
    for axis in AXES:
        pairs = [(by_name[f.name], by_name[c]) for f in plan.families for c in f.controls if c in by_name]
        found = [compare_fronts(method, control, axis) for method, control in pairs]
        comparisons += [FrontComparison(c.method, c.control, c.axis, c.seeds, c.box, test)
                        for c, test in zip(found, family_verdicts([c.test for c in found]))]
    used = energy or next((s.metrics.cost.energy for s in report_slots
                           if s is not None and s.metrics is not None and s.metrics.cost is not None), EnergyModel())
    return ParetoStudy(plan.seeds, plan.trials, plan.tuning.seeds, used, tuple(fronts), tuple(comparisons),
                       sum(s is not None and not s.ok for s in report_slots), sum(s is None for s in report_slots))


def run_pareto(plan: ParetoPlan, *, workers: int | Executor = 1, threads: int | None = None, device: str = "auto",
               cache: RunCache | None = None, progress: Progress | None = None,
               energy: EnergyModel | None = None) -> ParetoStudy:
    """Tune every point, run the chosen points on the reported seeds, and test the fronts."""
    options: dict[str, Any] = {"workers": workers, "threads": threads, "device": device, "cache": cache,
                               "progress": progress}
    tuning_slots = run_many(plan.tuning.configs, **options)
    report_slots = run_many(plan.report_configs(plan.tuning.result(tuning_slots)), **options)
    return pareto_result(plan, tuning_slots, report_slots, energy)
