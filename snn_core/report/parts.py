"""Pieces every section of the reproduction report shares: a table row, a claim verdict, a run counter, and the
names of the metrics the sections look up."""
from __future__ import annotations

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


def claim_verdict(low: float, high: float, claimed: str) -> str:
    """Reproduced when the 95% CI lies on the claimed side of zero, not reproduced when on the other, else mixed."""
    if low > 0 or high < 0:
        found = "up" if low > 0 else "down"
        return f"{found}: {'reproduced (direction)' if found == claimed else 'not reproduced'}"
    return "mixed: the CI includes 0, no evidence either way"
