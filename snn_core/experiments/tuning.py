"""Choosing settings on validation accuracy only, with the same budget for every arm (issues 16, 26).

A fair comparison tunes each arm over *its own* settings (ASA off over its threshold and lr, ASA over λ and lr,
TTFS over τ_loss and its regulariser, ...) with the *same number of trials*, on tuning seeds apart from the
seeds that report, and reads validation accuracy only (the test split chooses nothing)::

    points(arm) = the whole grid of arm.space when it has exactly `trials` points; else the arm's own starting
                  point (the base config's values, after the arm's changes, when the grid holds them: a published
                  setting a preset starts from is always tried) and `trials` - 1 more drawn without replacement
                  (numpy, `sample_seed`: every arm draws with the same generator seed)
    score(point) = mean over the tuning seeds of the run's validation accuracy (its reported epoch's:
                  ``training.select_epoch``); a failed run, or one without a validation split, scores None
    chosen(arm) = argmax score (ties: the first point drawn)

``plan_tuning`` lists the runs (``TuningPlan.configs``, for a caller that runs them itself: a background job with
progress and Cancel) and ``TuningPlan.result`` reads their slots; ``tune`` does both. ``pick_by_validation`` and
``pick_for_all`` choose among runs already made (``pick_for_all``: one point for several arms together, the one
whose worst arm is best, for a preset that two compared arms share).
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config.run_config import ALIASES, RunConfig, cli_index
from ..results.run_result import RunResult
from .batch import Progress, RunCache, run_many
from .compare import runnable, with_seed

if TYPE_CHECKING:
    from .executors import Executor

TUNE_SEED = 100
TUNE_SEEDS = (TUNE_SEED,)       # apart from the report's seeds 0, 1, ...


def validation_scores(slots: Sequence[RunResult]) -> list[float | None]:
    """Each run slot's validation accuracy; None for a failed run or one without a validation split."""
    return [slot.metrics.validation_accuracy if slot.ok and slot.metrics is not None else None for slot in slots]


def pick_by_validation(slots: Sequence[RunResult]) -> int:
    """Index of the run with the highest validation accuracy (ties: the first); ValueError when none has one."""
    return pick_for_all([slots])


def pick_for_all(slots_by_arm: Sequence[Sequence[RunResult]]) -> int:
    """Index of the grid point whose lowest validation accuracy over the arms is highest (ties: the first); a
    point where any arm failed or has no validation accuracy is out. ValueError when no point is left."""
    scores = [validation_scores(slots) for slots in slots_by_arm]
    worst = [None if None in point else min(point) for point in zip(*scores, strict=True)]
    return _best(worst)


def _best(scores: Sequence[float | None]) -> int:
    scored = [index for index, score in enumerate(scores) if score is not None]
    if not scored:
        raise ValueError("no tuning run reported a validation accuracy; allowed: runs with data.validation > 0 "
                         "(--validation) that finished")
    return max(scored, key=lambda index: (scores[index], -index))


def tune_arms(base: RunConfig, arms: dict[str, dict], grid: Sequence[dict], *, workers=1,
              cache: RunCache | None = None, progress: Progress | None = None,
              seed: int = TUNE_SEED) -> dict[str, tuple[list[RunConfig], list[RunResult]]]:
    """Per arm: the configs ``base`` + arm changes + each grid point (CLI names) on ``seed``, and their run slots."""
    configs = {name: [with_seed(base.with_values({**changes, **point}), seed) for point in grid]
               for name, changes in arms.items()}
    slots = run_many([cfg for arm in configs.values() for cfg in arm], workers=workers, cache=cache,
                     progress=progress)
    return {name: (arm, slots[index * len(grid):(index + 1) * len(grid)])
            for index, (name, arm) in enumerate(configs.items())}


@dataclass(frozen=True)
class Arm:
    """One arm to tune: the settings that make it (``changes``, CLI names) and the candidates of its own tuned
    settings (``space``: CLI name -> values)."""
    name: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    space: Mapping[str, Sequence] = field(default_factory=dict)

    def grid_size(self) -> int:
        return math.prod(len(values) for values in self.space.values())


@dataclass(frozen=True)
class Trial:
    """One tuned point of an arm and its runs, one per tuning seed."""
    point: dict
    runs: tuple[RunResult, ...]

    @property
    def score(self) -> float | None:
        """Mean validation accuracy over the tuning seeds; None when any run failed or has none."""
        scores = validation_scores(self.runs)
        measured = [score for score in scores if score is not None]
        return None if not scores or len(measured) != len(scores) else sum(measured) / len(measured)


@dataclass(frozen=True)
class TunedArm:
    """An arm after tuning: its config with the chosen point (``config``, seed as in the base) and every trial."""
    arm: Arm
    config: RunConfig
    point: dict
    trials: tuple[Trial, ...]

    @property
    def score(self) -> float | None:
        return max((trial.score for trial in self.trials if trial.score is not None), default=None)


def budget_points(arm: Arm, trials: int, sample_seed: int = 0, start: dict | None = None) -> list[dict]:
    """``trials`` points of ``arm.space`` (module docstring), ``start`` first when the grid holds it; ValueError when
    the grid has fewer points than ``trials``."""
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials={trials!r} is not valid; allowed: an integer >= 1 (the same for every arm)")
    names = list(arm.space)
    grid = list(itertools.product(*(arm.space[name] for name in names)))
    if len(grid) < trials:
        raise ValueError(f"arm '{arm.name}' has {len(grid)} setting(s) to try ({_space_text(arm.space)}) but the "
                         f"budget is {trials} trials per arm; allowed: a space with at least {trials} points, or "
                         f"a smaller budget for every arm")
    if len(grid) == trials:
        return [dict(zip(names, point)) for point in grid]
    first = [] if start is None else [index for index, point in enumerate(grid)
                                      if all(_same(start.get(name), value) for name, value in zip(names, point))][:1]
    rest = [index for index in range(len(grid)) if index not in first]
    drawn = np.random.default_rng(sample_seed).choice(len(rest), size=trials - len(first), replace=False)
    return [dict(zip(names, grid[index])) for index in first + sorted(rest[i] for i in drawn.tolist())]


def _same(value, candidate) -> bool:
    """Whether a config's value equals a grid value (numbers compared as floats, sequences element-wise)."""
    if isinstance(value, (list, tuple)) or isinstance(candidate, (list, tuple)):
        return isinstance(value, (list, tuple)) and isinstance(candidate, (list, tuple)) and len(value) == len(
            candidate) and all(_same(a, b) for a, b in zip(value, candidate))
    if isinstance(value, (int, float)) and isinstance(candidate, (int, float)) and not isinstance(value, bool):
        return float(value) == float(candidate)
    return value == candidate


def _value_text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _space_text(space: Mapping[str, Sequence]) -> str:
    """``lr in {0.001, 0.003}; threshold in {0.5, 1}``: a space as a report names it."""
    return "; ".join(f"{name} in {{{', '.join(_value_text(value) for value in values)}}}"
                     for name, values in space.items()) or "nothing"


@dataclass(frozen=True)
class TuningPlan:
    """The runs of a tuning: every arm's points on every tuning seed, in order (arm, point, seed)."""
    base: RunConfig
    arms: tuple[Arm, ...]
    points: dict[str, list[dict]]
    seeds: tuple[int, ...]

    @property
    def configs(self) -> list[RunConfig]:
        return [with_seed(self.point_config(arm, point), seed)
                for arm in self.arms for point in self.points[arm.name] for seed in self.seeds]

    def point_config(self, arm: Arm, point: dict) -> RunConfig:
        return self.base.with_values({**arm.changes, **point})

    def result(self, slots: Sequence[RunResult]) -> dict[str, TunedArm]:
        """Arm name -> its tuning, from the slots of ``configs`` (same order). ValueError when an arm has no
        point with a validation score."""
        if len(slots) != len(self.configs):
            raise ValueError(f"{len(slots)} slots for {len(self.configs)} tuning runs; allowed: one per run, in "
                             "TuningPlan.configs order")
        tuned, cursor, per_point = {}, 0, len(self.seeds)
        for arm in self.arms:
            trials = []
            for point in self.points[arm.name]:
                trials.append(Trial(point, tuple(slots[cursor:cursor + per_point])))
                cursor += per_point
            try:
                best = _best([trial.score for trial in trials])
            except ValueError as problem:
                raise ValueError(f"arm '{arm.name}': {problem}") from None
            tuned[arm.name] = TunedArm(arm, self.point_config(arm, trials[best].point), trials[best].point,
                                       tuple(trials))
        return tuned


def plan_tuning(base: RunConfig, arms: Sequence[Arm], trials: int, *, seeds: Sequence[int] = TUNE_SEEDS,
                report_seeds: Sequence[int] = (), sample_seed: int = 0) -> TuningPlan:
    """Check and list a tuning: every arm gets ``trials`` points (``budget_points``), every point's config is
    checked before anything trains, and the tuning seeds must be apart from ``report_seeds``."""
    seeds = tuple(int(seed) for seed in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"tuning seeds={list(seeds)} are not valid; allowed: 1 or more distinct integers")
    shared = sorted(set(seeds) & {int(seed) for seed in report_seeds})
    if shared:
        raise ValueError(f"tuning seed(s) {shared} also report; allowed: tuning seeds apart from the reported "
                         "seeds (a run that chooses a setting must not also report one)")
    names = [arm.name for arm in arms]
    if not arms or len(set(names)) != len(names):
        raise ValueError(f"arms {names} are not valid; allowed: 1 or more arms with distinct names")
    for arm in arms:
        unknown = [name for name in arm.space if ALIASES.get(name, name) not in cli_index()]
        if unknown:
            raise ValueError(f"arm '{arm.name}' tunes unknown setting(s) {unknown}; allowed: CLI option names")
    plan = TuningPlan(base, tuple(arms), {arm.name: budget_points(arm, trials, sample_seed, _start(base, arm))
                                          for arm in arms}, seeds)
    for arm in plan.arms:
        for point in plan.points[arm.name]:
            runnable(plan.point_config(arm, point), f"arm '{arm.name}' at {point}")
    return plan


def _start(base: RunConfig, arm: Arm) -> dict:
    """The arm's own starting point: the values its tuned settings have in ``base`` with the arm's changes."""
    tree, index = base.with_values(dict(arm.changes)).to_dict(), cli_index()
    where = {name: index[ALIASES.get(name, name)] for name in arm.space}
    return {name: tree[section][fld.name] for name, (section, fld) in where.items()}


def tune(base: RunConfig, arms: Sequence[Arm], trials: int, *, seeds: Sequence[int] = TUNE_SEEDS,
         report_seeds: Sequence[int] = (), sample_seed: int = 0, workers: int | Executor = 1,
         cache: RunCache | None = None, progress: Progress | None = None) -> dict[str, TunedArm]:
    """Tune every arm with the same budget (``plan_tuning``) and choose each one's point on validation."""
    plan = plan_tuning(base, arms, trials, seeds=seeds, report_seeds=report_seeds, sample_seed=sample_seed)
    return plan.result(run_many(plan.configs, workers=workers, cache=cache, progress=progress))


def tuning_table(tuned: Mapping[str, TunedArm]) -> list[str]:
    """A Markdown table for a report: per arm, what it tuned, the trials, the point chosen and its validation."""
    lines = ["| arm | tuned over | trials | chosen | validation accuracy (tuning seeds) |", "|---|---|---|---|---|"]
    for name, arm in tuned.items():
        chosen = ", ".join(f"{key} {_value_text(value)}" for key, value in arm.point.items()) or "—"
        score = "failed" if arm.score is None else f"{arm.score:.1%}"
        lines.append(f"| {name} | {_space_text(arm.arm.space)} | {len(arm.trials)} | {chosen} | {score} |")
    return lines
