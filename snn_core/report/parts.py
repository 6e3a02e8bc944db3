"""Pieces every section of the reproduction report shares: a table row, a claim verdict, a run counter, and the
names of the metrics the sections look up."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ..experiments.stats import ALPHA
from ..metrics.decisions import DecisionMetrics
from ..results.comparison import MeanCI
from ..results.run_result import Metrics, RunResult
from .verdict import style_of

# the metrics every section reads, by their name in a comparison's statistics (``Comparison.paired``,
# ``base_summary``, ``variant_summary``: the columns of ``results.results_table``)
ACCURACY = "test_accuracy"
NASFR = "nasfr"


class Estimate(Protocol):
    """A mean and its 95% CI, each None where there is none: ``MeanCI``, ``PairedStat``, ``asa_tables.Interval``."""
    @property
    def mean(self) -> float | None: ...
    @property
    def ci_low(self) -> float | None: ...
    @property
    def ci_high(self) -> float | None: ...


def p_text(value: float | None) -> str:
    """A p-value as a table cell: 3 decimals, "< 0.001" below that, "—" when there is none."""
    return "—" if value is None else "< 0.001" if value < 0.001 else f"{value:.3f}"


def bounds(stats: Estimate) -> tuple[float, float, float] | None:
    """``(mean, ci_low, ci_high)`` of a statistic with a confidence interval; None without one (fewer than 2 values:
    ``experiments.stats.mean_ci`` leaves both bounds None then, and the mean too when there is no value at all)."""
    if stats.mean is None or stats.ci_low is None or stats.ci_high is None:
        return None
    return stats.mean, stats.ci_low, stats.ci_high


def required_bounds(stats: Estimate, what: str) -> tuple[float, float, float]:
    """``bounds`` of ``stats`` where a row needs them (a verdict read off the CI); ValueError naming ``what``
    when there is no CI (fewer than 2 paired seeds)."""
    found = bounds(stats)
    if found is None:
        raise ValueError(f"{what} has no 95% confidence interval (fewer than 2 paired seeds); its row needs one")
    return found


def mean_of(stats: MeanCI, what: str) -> float:
    """The mean of a summary a table shows; ValueError naming ``what`` when it has none (no successful run: a
    summary table lists only the metrics its successful runs report, so a listed metric has a mean)."""
    if stats.mean is None:
        raise ValueError(f"{what} has no mean ({stats.note or 'no successful runs'})")
    return stats.mean


def metrics_of(run: RunResult) -> Metrics:
    """A finished run's final metrics; ValueError when it has none (it failed, was cancelled or closed no epoch):
    a report reads metrics only of runs that finished."""
    if run.metrics is None:
        raise ValueError(f"the run of seed {run.seed} has no metrics (error: {run.error}); a report reads only "
                         "runs that finished")
    return run.metrics


def decision_of(run: RunResult) -> DecisionMetrics:
    """A finished run's decision metrics; ValueError when it has none (not a first-spike readout): only the
    first-spike arms' decisions are read."""
    decision = metrics_of(run).decision
    if decision is None:
        raise ValueError(f"the run of seed {run.seed} has no decision metrics (readout "
                         f"{run.config.model.readout!r}); they are read only from a first-spike readout")
    return decision


def summary_row(name: str, table: Mapping[str, MeanCI], metric: str) -> str:
    stats, style = table[metric], style_of(metric)
    found = bounds(stats)
    if found is None or stats.sd is None:
        raise ValueError(f"{name}: {metric} over {stats.n} run(s) has no sd or confidence interval ({stats.note}); "
                         "the variability table needs at least 2 successful runs")
    mean, low, high = found
    unit = "%" if style.unit == " points" else style.unit       # a level in %, a difference in points
    return (f"| {name} | {style.label} | {mean * style.scale:.{style.digits}f}{unit} | "
            f"{stats.sd * style.scale:.{style.digits}f} | [{low * style.scale:.{style.digits}f}, "
            f"{high * style.scale:.{style.digits}f}] | {stats.n} |")


class RunCounter:
    """Counts finished runs and how many of them came from the run cache (a ``Progress`` callback)."""

    def __init__(self):
        self.runs, self.cached = 0, 0

    def __call__(self, done: int, total: int, slot: RunResult) -> None:
        self.runs += 1
        self.cached += bool(slot.cached)


def topped_up(seeds: list[int], minimum: int) -> list[int]:
    """``seeds`` followed by the next unused seeds until there are at least ``minimum`` (a section's verdict needs
    that many pairs even when the report runs with fewer)."""
    start = max(seeds, default=-1) + 1
    return list(seeds) + list(range(start, start + max(0, minimum - len(seeds))))


def claim_verdict(low: float, high: float, claimed: str, n: int | None = None, *,
                  adjusted_p: float | None = None) -> str:
    """Reproduced when the 95% CI lies on the claimed side of zero (and, when given, the row's Holm-adjusted p is
    below 0.05: ``verdict.holm_family``), not reproduced when on the other, else mixed. A zero-width interval at 0
    is no spread, not a mixed result: every one of the ``n`` paired differences was 0, which reads "no change in
    any of n runs" (and does not reproduce a claimed change)."""
    if claimed not in ("up", "down"):
        raise ValueError(f"claimed={claimed!r} is not valid; allowed: 'up' or 'down'")
    if low == high == 0:
        return f"no change in any of {n} runs: not reproduced" if n else "no change in any run: not reproduced"
    if low > 0 or high < 0:
        if adjusted_p is not None and not adjusted_p < ALPHA:
            return f"mixed: the CI excludes 0 but the Holm-adjusted p = {adjusted_p:.3f} is not below {ALPHA}"
        found = "up" if low > 0 else "down"
        return f"{found}: {'reproduced (direction)' if found == claimed else 'not reproduced'}"
    return "mixed: the CI includes 0, no evidence either way"
