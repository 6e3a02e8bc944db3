"""The test on accuracy-versus-cost fronts: the dominated area of a front inside a shared box, its paired difference
over seeds with a bootstrap CI, and the verdict (shifts the front, moves along it, or no evidence either way).

A front is a set of operating points (x, y) with x = log10 of the cost per sample (energy in pJ, or synaptic
operations) and y = test accuracy; lower x and higher y are better. Inside a box [x_lo, x_hi] × [y_lo, y_hi] shared
by the two fronts compared, the dominated area of a front P (its hypervolume, normalised by the box) is::

    h_P(x) = max{ min(y_p, y_hi) - y_lo : p in P, x_p <= x, y_p > y_lo }   (0 where no point qualifies)
    A(P)   = ∫_{x_lo}^{x_hi} h_P(x) dx / ((x_hi - x_lo)(y_hi - y_lo))     in [0, 1]

so a point dominated by another adds nothing, and a front that dominates another has the larger area. Per paired
seed s, d_s = A(method_s) - A(control_s); over the n seeds::

    CI    = the 95% percentile bootstrap of mean(d) (``scipy.stats.bootstrap``, ``BOOTSTRAP_RESAMPLES`` resamples,
            seeded: the same differences give the same interval)
    p     = the paired t-test of mean(d) = 0 (``stats.p_value``), Holm-adjusted over the family of verdicts
    TOST  = equivalence within ±``EQUIVALENCE_MARGIN`` of the box (``stats.tost``), Holm-adjusted likewise
    verdict: "shifts the front outward" (inward) when the CI lies above (below) 0 and the adjusted p < 0.05;
             "moves along the same front" when the adjusted TOST p < 0.05; else "no evidence either way", with the
             minimum detectable effect (``stats.mde``) of these n seeds.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import bootstrap

from .stats import ALPHA, holm, mde, p_value, tost

AREA_LATEX = (r"A(P) = \frac{1}{(x_{hi}-x_{lo})(y_{hi}-y_{lo})}\int_{x_{lo}}^{x_{hi}} "
              r"\max_{p \in P,\ x_p \le x} \big(\min(y_p, y_{hi}) - y_{lo}\big)^+ \,dx")
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 0
EQUIVALENCE_MARGIN = 0.02      # ±2% of the box's area: smaller than that, two fronts are "the same front"
PAD_DECADES = 0.1              # the box reaches this far beyond the costliest point, so that point adds area too
COST_FLOOR = 1e-3              # a cost of 0 (a silent network) is drawn at log10 of this, not at -infinity
OUTWARD, INWARD, ALONG, UNKNOWN = ("shifts the front outward", "shifts the front inward",
                                   "moves along the same front", "no evidence either way")


@dataclass(frozen=True)
class Box:
    """The reference box two fronts are measured in: log10 cost from ``x_lo`` to ``x_hi``, accuracy from ``y_lo``
    (chance) to ``y_hi``."""
    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float

    def __post_init__(self):
        values = (self.x_lo, self.x_hi, self.y_lo, self.y_hi)
        if not all(math.isfinite(v) for v in values) or not (self.x_lo < self.x_hi and self.y_lo < self.y_hi):
            raise ValueError(f"box {values} is not valid; allowed: finite x_lo < x_hi and y_lo < y_hi")

    def to_json(self) -> dict:
        return {"x_lo": self.x_lo, "x_hi": self.x_hi, "y_lo": self.y_lo, "y_hi": self.y_hi}


def log_cost(cost: float) -> float:
    """x = log10(max(cost, ``COST_FLOOR``))."""
    return math.log10(max(float(cost), COST_FLOOR))


def shared_box(points: Sequence[tuple[float, float]], chance: float) -> Box:
    """The box of a comparison from every (x, y) point of both fronts on every seed: x from the cheapest point to
    ``PAD_DECADES`` beyond the costliest, accuracy from ``chance`` to 1."""
    if not points:
        raise ValueError("no points to box; allowed: fronts with at least one finished run")
    xs = [x for x, _ in points]
    return Box(min(xs), max(xs) + PAD_DECADES, chance, 1.0)


def dominated_area(front: Sequence[tuple[float, float]], box: Box) -> float:
    """A(P) of the module docstring: the fraction of ``box`` that the points (x, y) of ``front`` dominate."""
    area, best = 0.0, 0.0
    ordered = sorted((max(x, box.x_lo), min(y, box.y_hi) - box.y_lo) for x, y in front if x < box.x_hi)
    edges = [x for x, _ in ordered] + [box.x_hi]
    for (x, height), right in zip(ordered, edges[1:]):
        best = max(best, height)
        area += best * (right - x)
    return area / ((box.x_hi - box.x_lo) * (box.y_hi - box.y_lo))


def bootstrap_ci(diffs: Sequence[float], confidence: float = 0.95,
                 seed: int = BOOTSTRAP_SEED) -> tuple[float, float] | None:
    """The percentile bootstrap interval of mean(``diffs``) (seeded); None with fewer than 2 values; (d, d) when
    every value is d (no spread to resample)."""
    values = np.asarray(diffs, dtype=float)
    if values.size < 2:
        return None
    if np.all(values == values[0]):
        return float(values[0]), float(values[0])
    result = bootstrap((values,), np.mean, confidence_level=confidence, n_resamples=BOOTSTRAP_RESAMPLES,
                       method="percentile", rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


@dataclass(frozen=True)
class AreaTest:
    """The paired test of two fronts' areas over seeds (module docstring); the adjusted p-values and the verdict
    are filled in by ``family_verdicts`` once the family is known."""
    method_area: tuple[float, ...]
    control_area: tuple[float, ...]
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    wins: int
    losses: int
    ties: int
    p_value: float | None
    tost_p: float | None
    mde: float | None
    margin: float = EQUIVALENCE_MARGIN
    holm_p: float | None = None
    holm_tost_p: float | None = None
    verdict: str = UNKNOWN

    @property
    def diffs(self) -> list[float]:
        return [m - c for m, c in zip(self.method_area, self.control_area)]

    def to_json(self) -> dict:
        return {"method_area": list(self.method_area), "control_area": list(self.control_area), "mean": self.mean,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "wins": self.wins, "losses": self.losses,
                "ties": self.ties, "p_value": self.p_value, "holm_p": self.holm_p, "tost_p": self.tost_p,
                "holm_tost_p": self.holm_tost_p, "margin": self.margin, "mde": self.mde, "verdict": self.verdict}


def area_test(method_area: Sequence[float], control_area: Sequence[float],
              margin: float = EQUIVALENCE_MARGIN) -> AreaTest:
    """The paired statistics of d_s = method_s - control_s (seed by seed, same order); ValueError when the two
    lists differ in length."""
    if len(method_area) != len(control_area):
        raise ValueError(f"{len(method_area)} method areas for {len(control_area)} control areas; allowed: one of "
                         "each per paired seed")
    diffs = [float(m) - float(c) for m, c in zip(method_area, control_area)]
    n = len(diffs)
    mean = sum(diffs) / n if n else None
    ci = bootstrap_ci(diffs)
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1)) if n >= 2 and mean is not None else None
    return AreaTest(tuple(map(float, method_area)), tuple(map(float, control_area)), mean,
                    None if ci is None else ci[0], None if ci is None else ci[1],
                    sum(d > 0 for d in diffs), sum(d < 0 for d in diffs), sum(d == 0 for d in diffs),
                    p_value(diffs), tost(diffs, margin) if n >= 2 else None, mde(sd, n), margin)


def verdict(test: AreaTest, holm_p: float | None, holm_tost_p: float | None) -> str:
    """The verdict of one test given its Holm-adjusted p-values (module docstring)."""
    if test.ci_low is None or test.ci_high is None or holm_p is None:
        return f"{UNKNOWN}: a bootstrap CI needs at least 2 paired seeds"
    off_zero = test.ci_low > 0 or test.ci_high < 0
    if holm_p < ALPHA and off_zero:
        return OUTWARD if test.ci_low > 0 else INWARD
    if holm_tost_p is not None and holm_tost_p < ALPHA:
        return f"{ALONG} (equivalent within ±{test.margin:.0%} of the box)"
    detect = "" if test.mde is None else f"; these {len(test.diffs)} seeds detect ±{test.mde:.3f} with 80% power"
    why = (f" (the bootstrap CI excludes 0, but the Holm-adjusted p = {holm_p:.3f} is not below {ALPHA}: with few "
           "seeds a percentile bootstrap CI is too narrow to trust alone)") if off_zero else ""
    return f"{UNKNOWN}{why}{detect}"


def family_verdicts(tests: Sequence[AreaTest]) -> list[AreaTest]:
    """Every test with Holm-adjusted p-values (both the difference and the equivalence tests, each over the
    family) and its verdict."""
    adjusted, adjusted_tost = holm([t.p_value for t in tests]), holm([t.tost_p for t in tests])
    return [replace(t, holm_p=p, holm_tost_p=q, verdict=verdict(t, p, q))
            for t, p, q in zip(tests, adjusted, adjusted_tost)]
