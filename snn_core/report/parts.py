"""Pieces every section of the reproduction report shares: a table row, a claim verdict, a run counter, and the
names of the metrics the sections look up."""
from __future__ import annotations

from ..experiments.stats import ALPHA
from ..results.comparison import MeanCI
from ..results.run_result import RunResult
from .verdict import style_of

# the metrics every section reads, by their name in a comparison's statistics (``Comparison.paired``,
# ``base_summary``, ``variant_summary``: the columns of ``results.results_table``)
ACCURACY = "test_accuracy"
NASFR = "nasfr"


def summary_row(name: str, table: dict[str, MeanCI], metric: str) -> str:
    stats, style = table[metric], style_of(metric)
    unit = "%" if style.unit == " points" else style.unit       # a level in %, a difference in points
    return (f"| {name} | {style.label} | {stats.mean * style.scale:.{style.digits}f}{unit} | "
            f"{stats.sd * style.scale:.{style.digits}f} | [{stats.ci_low * style.scale:.{style.digits}f}, "
            f"{stats.ci_high * style.scale:.{style.digits}f}] | {stats.n} |")


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
