"""What the size of TRT's effect depends on: a small factorial study, every cell TRT against a compute-matched off arm.

TRT's measured gain differs between settings (a default MLP on 2000 event clips lost accuracy, the report's conv
net gained a little, the method notes' MLP pilot gained 4 points). The study crosses ``FACTORS`` (two levels each:
network, which branches update BatchNorm's running statistics, and epochs) on ``BASE`` (event clips with shape
labels, T = 4, 400 training clips, the TRT group's neuron). TRT runs two branches a step, so every cell's off arm
trains ``trt_table.COMPUTE_FACTOR`` times TRT's epochs (``compare.compute_matched``): without that, a cell at few
epochs measures the extra compute as much as TRT. The loss terms are not a factor here: the report's per-term
ablations measure them on the tuned network.

A pair is one (seed, data seed): both arms start from the same weights (seed) and train and test on the same
generated clips (data seed), so varying the data seed too draws a new training and test set per pair and the spread
includes the data's. Per cell the paired Δ = accuracy(on) − accuracy(off) gets a t-based 95% CI over the pairs,
treating them as independent draws (seeds and data seeds are crossed, so this is approximate), and a paired
t-test's p; the cells are one family of tests, so ``holm_adjusted`` gives each its Holm-adjusted p and ``reading``
says which way a cell points only where that p is below 0.05. A factor's effect on Δ is paired too: per pair, the
mean Δ of the cells at its second level minus that at its first.

The off arm depends on the network and epochs only, so each is trained once per pair and shared by the cells that
differ in TRT's own settings (``study_configs`` lists every distinct run once). The study's outcome is a typed
record (``SignStudy``: a ``CellResult`` per cell, a ``FactorEffect`` per factor).
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import mean
from typing import TYPE_CHECKING, NamedTuple

from ..config.run_config import RunConfig
from ..methods.presets import PAPER_NEURONS
from ..results.comparison import MeanCI, PairedStat
from ..results.run_result import RunResult
from .batch import Progress, RunCache, run_many
from .compare import check_seeds, compute_matched, finished, runnable
from .stats import ALPHA, holm, mean_ci, paired
from .trt_table import COMPUTE_FACTOR

if TYPE_CHECKING:
    from .executors import Executor

BASE = RunConfig().with_values({"dataset": "events-shape", "T": 4, "train-samples": 400, "test-samples": 300,
                                "robustness": False, **PAPER_NEURONS["trt"]})
SEEDS = (0, 1, 2)
DATA_SEEDS = (0, 1, 2)


class Factor(NamedTuple):
    """One factor of the study: its name and its two levels, each a label with its changes (CLI names)."""

    name: str
    levels: Mapping[str, Mapping[str, object]]


FACTORS = (
    Factor("network", {"MLP 128-128": {"arch": "mlp", "hidden": "128,128"},
                       "conv 8 + fc 64": {"arch": "conv", "channels": "8", "hidden": "64"}}),
    Factor("BN running stats", {"both branches": {"trt-bn-stats": "both"}, "clean only": {"trt-bn-stats": "clean"}}),
    Factor("epochs", {"10": {"epochs": 10}, "40": {"epochs": 40}}),
)


class Cell(NamedTuple):
    """One combination of levels (in ``FACTORS`` order) and its two arms."""

    levels: tuple[str, ...]
    off: RunConfig
    on: RunConfig


def cells(base: RunConfig = BASE, factors: Sequence[Factor] = FACTORS) -> list[Cell]:
    """Every combination of the factors' levels; the off arm takes only the changes that are not TRT settings
    (``trt-*``), so cells that differ in TRT's settings alone share it, and trains ``COMPUTE_FACTOR`` times the
    epochs (compute-matched)."""
    found = []
    for combination in itertools.product(*(factor.levels.items() for factor in factors)):
        changes = {key: value for _, level in combination for key, value in level.items()}
        shared = {key: value for key, value in changes.items() if not key.startswith("trt")}
        off = compute_matched(base.with_values({**shared, "trt": "off"}), COMPUTE_FACTOR)
        found.append(Cell(tuple(label for label, _ in combination), off, base.with_values({**changes, "trt": "on"})))
    return found


def pair_configs(cfg: RunConfig, seeds: Sequence[int], data_seeds: Sequence[int]) -> list[RunConfig]:
    """``cfg`` on every pair, data seed by data seed: (s0, d0), (s1, d0), ..., (s0, d1), ..."""
    return [cfg.with_values({"seed": seed, "data-seed": data_seed}) for data_seed in data_seeds for seed in seeds]


def study_configs(study: Sequence[Cell], seeds: Sequence[int], data_seeds: Sequence[int]) -> list[RunConfig]:
    """Every distinct run of the study, every arm checked first; an off arm shared by several cells appears once."""
    seeds, data_seeds = check_seeds(seeds), check_seeds(data_seeds)
    arms = [runnable(arm, f"cell {' / '.join(cell.levels)}, TRT {arm.methods.trt}")
            for cell in study for arm in (cell.off, cell.on)]
    return list(dict.fromkeys(cfg for arm in arms for cfg in pair_configs(arm, seeds, data_seeds)))


@dataclass(frozen=True)
class CellResult:
    """One cell's outcome over the pairs whose two runs both finished well: each arm's test accuracy, the paired
    Δ = accuracy(on) − accuracy(off), and the mean Δ per data seed (None for a data seed without such a pair)."""
    levels: dict[str, str]                  # factor name -> this cell's level
    off: MeanCI
    on: MeanCI
    delta: PairedStat
    delta_per_data_seed: dict[int, float | None]


@dataclass(frozen=True)
class FactorEffect:
    """A factor's effect on Δ: per pair, the mean Δ of the cells at its second level minus that at its first,
    over the pairs whose every cell finished."""
    levels: tuple[str, ...]                 # (first, second)
    contrast: MeanCI


@dataclass(frozen=True)
class SignStudy:
    """The study's outcome: the factors with their levels, the pairs' seeds and data seeds, a result per cell (in
    ``cells`` order), each factor's effect, and the counts of failed and unfinished runs."""
    factors: dict[str, tuple[str, ...]]
    seeds: tuple[int, ...]
    data_seeds: tuple[int, ...]
    cells: tuple[CellResult, ...]
    effects: dict[str, FactorEffect]
    failed_runs: int
    unfinished_runs: int


def _accuracy(slot: RunResult | None) -> float | None:
    if not (finished(slot) and slot.ok):
        return None
    if slot.metrics is None:            # every run trains at least one epoch: a run that ended well has metrics
        raise ValueError(f"the run of seed {slot.seed} ended without an error but has no metrics")
    return slot.metrics.test_accuracy


def _pairs(cell: Cell, runs: Mapping[RunConfig, RunResult | None], seeds, data_seeds) -> list[tuple]:
    """Per pair (``pair_configs`` order): (accuracy off, accuracy on), None for a run that has not finished well."""
    return [(_accuracy(runs.get(off)), _accuracy(runs.get(on)))
            for off, on in zip(pair_configs(cell.off, seeds, data_seeds), pair_configs(cell.on, seeds, data_seeds))]


def _deltas(pairs: list[tuple]) -> list[float | None]:
    """Per pair: accuracy(on) − accuracy(off), None where either run is missing."""
    return [None if off is None or on is None else on - off for off, on in pairs]


def _cell_result(cell: Cell, pairs: list[tuple], data_seeds, names, confidence) -> CellResult:
    """A cell's levels, each arm's accuracy and the paired Δ over the pairs with both runs, and Δ per data seed."""
    done = [(off, on) for off, on in pairs if off is not None and on is not None]
    deltas, per_seed = _deltas(pairs), len(pairs) // len(data_seeds)
    per_data_seed = {}
    for index, data_seed in enumerate(data_seeds):
        own = [d for d in deltas[index * per_seed:(index + 1) * per_seed] if d is not None]
        per_data_seed[data_seed] = mean(own) if own else None
    return CellResult(dict(zip(names, cell.levels)), MeanCI.from_json(mean_ci([a for a, _ in done], confidence)),
                      MeanCI.from_json(mean_ci([b for _, b in done], confidence)),
                      PairedStat.from_json(paired([a for a, _ in done], [b for _, b in done], confidence)),
                      per_data_seed)


def _effect(study: Sequence[Cell], deltas: list[list[float | None]], position: int, levels: Sequence[str],
            confidence: float) -> FactorEffect:
    """Per pair, mean Δ over the cells at the factor's second level minus that at its first; over the pairs whose
    every cell finished."""
    contrasts = []
    for i in range(len(deltas[0])):
        row = [cell_deltas[i] for cell_deltas in deltas]
        known = [delta for delta in row if delta is not None]
        if len(known) != len(row):          # some cell's pair has not finished
            continue
        at = [mean(delta for cell, delta in zip(study, known) if cell.levels[position] == level) for level in levels]
        contrasts.append(at[1] - at[0])
    return FactorEffect(tuple(levels), MeanCI.from_json(mean_ci(contrasts, confidence)))


def study_result(study: Sequence[Cell], seeds: Sequence[int], data_seeds: Sequence[int],
                 configs: Sequence[RunConfig], slots: Sequence[RunResult | None], factors: Sequence[Factor] = FACTORS,
                 confidence: float = 0.95) -> SignStudy:
    """The study from ``study_configs``' configs and their slots (same order; None or cancelled for a run not
    finished): per cell the two arms' accuracy and the paired Δ, and per factor its effect on Δ."""
    if len(configs) != len(slots):
        raise ValueError(f"{len(slots)} slots for {len(configs)} configs; allowed: one slot per config, in order")
    seeds, data_seeds = check_seeds(seeds), check_seeds(data_seeds)
    runs, names = dict(zip(configs, slots)), [factor.name for factor in factors]
    pairs = [_pairs(cell, runs, seeds, data_seeds) for cell in study]
    deltas = [_deltas(own) for own in pairs]
    return SignStudy(
        factors={factor.name: tuple(factor.levels) for factor in factors},
        seeds=tuple(seeds), data_seeds=tuple(data_seeds),
        cells=tuple(_cell_result(cell, own, data_seeds, names, confidence) for cell, own in zip(study, pairs)),
        effects={factor.name: _effect(study, deltas, position, list(factor.levels), confidence)
                 for position, factor in enumerate(factors)},
        failed_runs=sum(finished(slot) and not slot.ok for slot in slots),
        unfinished_runs=sum(not finished(slot) for slot in slots))


def run_study(seeds: Sequence[int], data_seeds: Sequence[int], base: RunConfig, factors: Sequence[Factor], *,
              workers: int | Executor = 1, cache: RunCache | None = None,
              progress: Progress | None = None) -> SignStudy:
    """Train every distinct run of the study (``SEEDS``, ``DATA_SEEDS``, ``BASE``, ``FACTORS`` as the report runs it)
    on ``workers`` processes and tabulate it (``study_result``)."""
    study = cells(base, factors)
    configs = study_configs(study, seeds, data_seeds)
    slots = run_many(configs, workers=workers, cache=cache, progress=progress)
    return study_result(study, seeds, data_seeds, configs, slots, factors)


def holm_adjusted(study: SignStudy) -> list[float | None]:
    """Each cell's Holm-adjusted p (``stats.holm`` over the study's cells, one family), in ``study.cells`` order."""
    return holm([cell.delta.p_value for cell in study.cells])


def reading(stats: PairedStat, adjusted_p: float | None) -> str:
    """``TRT ahead``/``TRT behind`` when the Holm-adjusted p is below ``ALPHA`` (the sign of the mean Δ), else
    ``no evidence`` (also with too few pairs for a test)."""
    if adjusted_p is None or adjusted_p >= ALPHA:
        return "no evidence"
    if stats.mean is None:              # a p-value comes from 2 or more pairs, which have a mean
        raise ValueError("reading: the paired statistic has a p-value but no mean")
    return "TRT ahead" if stats.mean > 0 else "TRT behind"
