"""Paired-seed statistics: mean, standard deviation, Student-t confidence interval and win counts.

The t quantile is SciPy's (``scipy.stats.t.ppf``): one well-tested implementation, instead of a series of our own
to keep correct.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.stats import t as student_t

CI_LATEX = r"\bar d \pm t_{1-\alpha/2,\,n-1}\, s_d / \sqrt{n}"


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
    return {**mean_ci(diffs, confidence), "wins": sum(d > 0 for d in diffs),
            "losses": sum(d < 0 for d in diffs), "ties": sum(d == 0 for d in diffs)}
