"""Paired-seed statistics: mean, standard deviation, Student-t confidence interval, win counts, p-value, the
minimum detectable effect, Holm's correction and an equivalence test (TOST).

The t quantiles and tail probabilities are SciPy's (``scipy.stats.t``): one well-tested implementation, instead of
a series of our own to keep correct. With n paired differences of mean d̄ and sd s (n - 1 in the denominator)::

    t = d̄ / (s / √n),  p = 2 P(T_{n-1} > |t|)                               (paired t-test, two-sided)
    MDE = (t_{1-α/2, n-1} + t_{power, n-1}) · s / √n                          (smallest |effect| found with `power`)
    TOST: p = max(P(T_{n-1} > (d̄ + m) / (s/√n)), P(T_{n-1} < (d̄ - m) / (s/√n)))   (equivalent within ±m if p < α,
          that is when the (1 - 2α) interval d̄ ± t_{1-α, n-1} s/√n lies inside ±m)
    Holm: sort the family's k p-values ascending, p'_(i) = max_{j<=i} min(1, (k - j + 1) p_(j))

A zero-variance sample (every difference equal) has no t: its p is 0 when the differences are not 0 and 1 when
they are, its MDE 0, and TOST says equivalent exactly when |d̄| < m.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from scipy.stats import t as student_t

CI_LATEX = r"\bar d \pm t_{1-\alpha/2,\,n-1}\, s_d / \sqrt{n}"
MDE_LATEX = r"\mathrm{MDE} = (t_{1-\alpha/2,\,n-1} + t_{0.8,\,n-1})\, s_d / \sqrt{n}"
ALPHA = 0.05
POWER = 0.80


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> dict:
    r"""``{mean, ci_low, ci_high, sd, n, note}`` of a sample; CI = mean ± t_{(1+c)/2, n-1} sd / sqrt(n) (``CI_LATEX``).

    sd uses n - 1. With n = 1 the sd and CI are None and ``note`` says why; with n = 0 all are None. ValueError for
    a ``confidence`` outside [0, 1) with n >= 2, where SciPy would give a NaN interval instead.
    """
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "sd": None, "n": 0,
                "note": "no successful runs"}
    mean = sum(values) / n
    if n == 1:
        return {"mean": mean, "ci_low": None, "ci_high": None, "sd": None, "n": 1,
                "note": "a confidence interval needs at least 2 seeds"}
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    if not 0 <= confidence < 1:
        raise ValueError(f"confidence={confidence!r} is not valid; allowed: 0 <= confidence < 1")
    half = float(student_t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / math.sqrt(n)
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "sd": sd, "n": n, "note": None}


def paired(base: Sequence[float], variant: Sequence[float], confidence: float = 0.95) -> dict:
    """``mean_ci`` of the per-seed differences d_i = variant_i - base_i, plus win counts.

    ``wins`` counts seeds with d_i > 0 (variant larger: better for accuracy, worse for a loss),
    ``losses`` those with d_i < 0 and ``ties`` those with d_i = 0 exactly.
    """
    if len(base) != len(variant):
        raise ValueError(f"paired samples differ in length: {len(base)} base vs {len(variant)} variant")
    diffs = [float(v) - float(b) for b, v in zip(base, variant)]
    summary = mean_ci(diffs, confidence)
    return {**summary, "wins": sum(d > 0 for d in diffs),
            "losses": sum(d < 0 for d in diffs), "ties": sum(d == 0 for d in diffs),
            "p_value": p_value(diffs), "mde": mde(summary["sd"], summary["n"])}


def _moments(values: Sequence[float]) -> tuple[int, float, float]:
    values = [float(v) for v in values]
    n = len(values)
    mean = sum(values) / n
    return n, mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def p_value(diffs: Sequence[float]) -> float | None:
    """Two-sided paired t-test of mean(diffs) = 0 (module docstring); None with fewer than 2 differences."""
    if len(diffs) < 2:
        return None
    n, mean, sd = _moments(diffs)
    if sd == 0:
        return 1.0 if mean == 0 else 0.0
    return float(2.0 * student_t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1))


def mde(sd: float | None, n: int, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """The smallest |mean difference| a paired t-test at ``alpha`` finds with probability ``power`` for n pairs of
    spread ``sd`` (module docstring); None with fewer than 2 pairs."""
    if sd is None or n < 2:
        return None
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError(f"alpha={alpha!r}, power={power!r} are not valid; allowed: both in (0, 1)")
    return float((student_t.ppf(1 - alpha / 2, n - 1) + student_t.ppf(power, n - 1)) * sd / math.sqrt(n))


class Tost(NamedTuple):
    """An equivalence test's p-value and the (1 - 2 alpha) interval of the mean difference it amounts to (the two
    arms are equivalent within ±m exactly when that interval lies inside ±m); all None with fewer than 2 pairs."""
    p: float | None
    low: float | None
    high: float | None


def tost_summary(mean: float, sd: float | None, n: int, margin: float) -> Tost:
    """TOST (module docstring) from a paired sample's summary: mean difference, its sd and n."""
    if not (math.isfinite(margin) and margin > 0):
        raise ValueError(f"margin={margin!r} is not valid; allowed: a positive number")
    if n < 2 or sd is None:
        return Tost(None, None, None)
    if sd == 0:
        return Tost(0.0 if abs(mean) < margin else 1.0, mean, mean)
    se = sd / math.sqrt(n)
    p = max(student_t.sf((mean + margin) / se, n - 1), student_t.cdf((mean - margin) / se, n - 1))
    half = float(student_t.ppf(1 - ALPHA, n - 1)) * se
    return Tost(float(p), mean - half, mean + half)


def tost(diffs: Sequence[float], margin: float) -> float | None:
    """p-value of the two one-sided tests that the mean difference lies within ±``margin`` (module docstring):
    below ``ALPHA`` the two arms are equivalent within the margin. None with fewer than 2 differences."""
    if len(diffs) < 2:
        return tost_summary(0.0, None, len(diffs), margin).p
    n, mean, sd = _moments(diffs)
    return tost_summary(mean, sd, n, margin).p


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values of one family of tests (module docstring), in the input order; a None
    (a test that could not be made) stays None and does not count in the family."""
    present = sorted((p, index) for index, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(present):
        running = max(running, min(1.0, (len(present) - rank) * p))
        adjusted[index] = running
    return adjusted
