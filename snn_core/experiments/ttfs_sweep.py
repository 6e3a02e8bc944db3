"""The K sweep of the TTFS page in numbers: for each spike cap K (``neuron.max_spikes``, 0 = unlimited) the mean and
95% CI over seeds of each trade-off metric, of each layer's share of silent neurons, and of three curves: accuracy
against the readout time t_cut, accuracy after each epoch, and accuracy at each noise level.

Computed from a ``results.Sweep`` over ``max-spikes`` (``experiments.compare.sweep_result``, also one whose runs
are still coming in): each point's successful runs, their scalar metrics read as ``results_table`` columns and their
series (t_cut curve, history, robustness curves) as record attributes. A metric a run did not measure (decisions with
a rate readout, robustness when not asked for) is left out of its statistic instead of counted; a K with no such
run has a ``MeanCI`` of n = 0 (mean None), which the figures skip. Statistics, not Streamlit: the page's glue
(``snn_app.ttfs``) only names and draws them.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, SupportsInt

import pandas as pd

from ..results.comparison import MeanCI, Sweep, SweepPoint
from ..results.run_result import Metrics, RobustnessCurve, RunResult
from ..results.table import results_table
from .stats import mean_ci

PARAMETER = "max-spikes"        # the swept option (CLI name)
JITTER = "jitter"               # the noise whose middle level the trade-off shows


def k_label(k: SupportsInt | str) -> str:
    """K as the page and its figures name it: "∞" for 0 (no cap), else the number."""
    return "∞" if int(k) == 0 else str(int(k))


def robustness_column(kind: str, level: str) -> str:
    """The ``results_table`` column of the accuracy under noise ``kind`` at ``level`` (its JSON key, e.g. "2")."""
    return f"robustness.{kind}.{level}"


class Curve(NamedTuple):
    """A per-run series summarised point by point: ``stats[i]`` is the mean and CI over the runs at ``x[i]``."""
    x: tuple[float, ...]
    stats: tuple[MeanCI, ...]


@dataclass(frozen=True)
class KSweepStats:
    """What the TTFS page shows of a K sweep; each K is keyed by its label (``k_label``), in the sweep's order.

    ``tradeoff``: ``results_table`` column -> K -> ``MeanCI``, for the asked metrics and then the accuracy under the
    middle jitter level (``jitter_level``, None without robustness), each only if some K has a mean of it.
    ``silent``: K -> layer -> share of its neurons that never fired on the test set.
    ``tcut``: accuracy against t_cut = 1..T (an undecided sample counts as wrong) at the sweep's two ends, K = 1
    (TTFS) and its largest K; first-spike readout only. ``epochs``: K -> test accuracy after each epoch.
    ``robustness``: noise kind -> K -> accuracy at each level, the clean test accuracy at level 0 first.
    """
    tradeoff: dict[str, dict[str, MeanCI]]
    jitter_level: str | None
    silent: dict[str, dict[str, MeanCI]]
    tcut: dict[str, Curve]
    epochs: dict[str, Curve]
    robustness: dict[str, dict[str, Curve]]


class _Point(NamedTuple):
    """One K: its label, its successful runs and their table."""
    label: str
    runs: list[RunResult]
    table: pd.DataFrame


def k_sweep_stats(sweep: Sweep, metrics: Sequence[str]) -> KSweepStats:
    """The statistics of ``sweep`` (over ``max-spikes``) that the TTFS page draws, ``metrics`` (``results_table``
    columns, e.g. "test_accuracy", "decision_step_mean") as the trade-off panels."""
    points = [_point(point) for point in sweep.points]
    level = _middle_level(points, JITTER)
    columns = [*metrics, *([] if level is None else [robustness_column(JITTER, level)])]
    tradeoff = {column: {point.label: _column_stat(point.table, column) for point in points} for column in columns}
    ends = {points[0].label, points[-1].label} if points else set()
    return KSweepStats(
        tradeoff={column: per_k for column, per_k in tradeoff.items()
                  if any(stat.mean is not None for stat in per_k.values())},
        jitter_level=level,
        silent=_silent(points),
        tcut=_curves([point for point in points if point.label in ends], _tcut),
        epochs=_curves(points, lambda run: [epoch.test_accuracy for epoch in run.history]),
        robustness=_robustness(points))


def _point(point: SweepPoint) -> _Point:
    """A sweep point's successful runs: ended without an error, with metrics (a failed run has none)."""
    runs = [run for run in point.runs if run.ok and run.metrics is not None]
    if not isinstance(point.value, (SupportsInt, str)):
        raise ValueError(f"{PARAMETER} value {point.value!r:.40} is not a whole number")
    return _Point(k_label(point.value), runs, results_table(runs))


def _metrics(run: RunResult) -> Metrics:
    """The metrics of one of a ``_Point``'s runs (``_point`` keeps only runs that have them)."""
    if run.metrics is None:
        raise ValueError(f"the run of seed {run.seed} has no metrics")
    return run.metrics


def _curves_of(run: RunResult) -> dict[str, RobustnessCurve]:
    """A ``_Point`` run's robustness curves by noise kind; {} when it did not measure robustness."""
    return _metrics(run).robustness or {}


def _stat(values: Sequence[float]) -> MeanCI:
    """``experiments.stats.mean_ci`` of ``values`` as its record."""
    return MeanCI(**mean_ci(values))


def _column_stat(table: pd.DataFrame, column: str) -> MeanCI:
    """``MeanCI`` of a table column over the runs that measured it (NaN: not measured; no column: none did)."""
    return _stat(table[column].dropna().tolist() if column in table else [])


def _middle_level(points: Sequence[_Point], kind: str) -> str | None:
    """The middle level (JSON key) of noise ``kind`` that the first run measuring it measured, or None."""
    for point in points:
        for run in point.runs:
            curve = _curves_of(run).get(kind)
            if curve is not None and curve.levels:
                levels = sorted(curve.levels, key=float)
                return levels[len(levels) // 2]
    return None


def _silent(points: Sequence[_Point]) -> dict[str, dict[str, MeanCI]]:
    silent = {}
    for point in points:
        if point.runs:
            layers = _metrics(point.runs[0]).layers.silent_fraction
            silent[point.label] = {layer: _stat([_metrics(run).layers.silent_fraction[layer] for run in point.runs])
                                   for layer in layers}
    return silent


def _tcut(run: RunResult) -> list[float]:
    decision = _metrics(run).decision
    return [] if decision is None else decision.accuracy_vs_tcut


def _curves(points: Sequence[_Point], series: Callable[[RunResult], Sequence[float]]) -> dict[str, Curve]:
    """K -> ``Curve`` of ``series(run)`` at x = 1, 2, ... over the runs that have one, as long as the shortest."""
    curves = {}
    for point in points:
        lists = [values for values in map(series, point.runs) if values]
        if lists:
            length = min(len(values) for values in lists)
            curves[point.label] = Curve(tuple(range(1, length + 1)),
                                        tuple(_stat([values[i] for values in lists]) for i in range(length)))
    return curves


def _robustness(points: Sequence[_Point]) -> dict[str, dict[str, Curve]]:
    """Noise kind -> K -> ``Curve`` over (0, the levels of the first run's curve in increasing order), over the runs
    that measured robustness: at 0 their clean test accuracy, then their accuracy at each level."""
    kinds: dict[str, dict[str, Curve]] = {}
    for point in points:
        runs = [run for run in point.runs if _curves_of(run)]
        for kind, first in (_curves_of(runs[0]) if runs else {}).items():
            levels = sorted(first.levels, key=float)
            accuracy = [dict(zip(curve.levels, curve.accuracy)) for curve in
                        (_curves_of(run)[kind] for run in runs)]
            stats = [_stat([_metrics(run).test_accuracy for run in runs]),
                     *(_stat([at_level[level] for at_level in accuracy]) for level in levels)]
            kinds.setdefault(kind, {})[point.label] = Curve((0.0, *map(float, levels)), tuple(stats))
    return kinds
