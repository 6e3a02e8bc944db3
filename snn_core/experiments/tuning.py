"""Choosing settings on validation accuracy only (issue 16): a grid of settings trained on one tuning seed, then
the point with the highest validation accuracy; test accuracy is never read for a choice.

``tune_arms`` trains every grid point for every arm in one batch (so the workers stay busy); ``pick_by_validation``
chooses one arm's point, ``pick_for_all`` one point for several arms together (the one whose worst arm is best:
a preset that two compared arms share must suit both). The tuning seed is apart from the report's seeds 0..,
so no run that chooses a setting is also a run that reports one.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..config.run_config import RunConfig
from ..results.run_result import RunResult
from .batch import Progress, RunCache, run_many
from .compare import with_seed

TUNE_SEED = 100


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
    scored = [index for index, score in enumerate(worst) if score is not None]
    if not scored:
        raise ValueError("no tuning run reported a validation accuracy; allowed: runs with data.validation > 0 "
                         "(--validation) that finished")
    return max(scored, key=lambda index: (worst[index], -index))


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
