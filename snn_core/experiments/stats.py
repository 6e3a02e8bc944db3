"""Paired-seed statistics: mean, standard deviation, Student-t confidence interval and win counts.

The t quantile is computed here, without SciPy: for an integer number of degrees of
freedom the two-sided t distribution function has a finite closed form (Abramowitz &
Stegun 26.7.3-4), which ``t_quantile`` inverts by bisection.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

T_CDF_LATEX = (r"P(|T_\nu| \le t) = \frac{2}{\pi}\Big[\theta + \sin\theta\cos\theta \sum_{k=0}^{(\nu-3)/2}"
               r" a_k \cos^{2k}\theta\Big]\ (\nu\ \text{odd}),\quad \sin\theta \sum_{k=0}^{(\nu-2)/2}"
               r" b_k \cos^{2k}\theta\ (\nu\ \text{even}),\quad \theta = \arctan(t/\sqrt{\nu})")
CI_LATEX = r"\bar d \pm t_{1-\alpha/2,\,n-1}\, s_d / \sqrt{n}"


def t_two_sided_cdf(t: float, df: int) -> float:
    r"""P(|T| <= t) for Student's t with ``df`` degrees of freedom (``T_CDF_LATEX``).

    a_0 = b_0 = 1, a_k = a_{k-1} 2k / (2k + 1), b_k = b_{k-1} (2k - 1) / (2k); df = 1 is 2 theta / pi.
    """
    if df < 1 or int(df) != df:
        raise ValueError(f"df={df!r} is not valid; allowed: a positive integer")
    theta = math.atan(abs(t) / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2 == 1:
        total, term = 0.0, 1.0
        for k in range((df - 1) // 2):       # (df - 3) / 2 + 1 terms; none for df = 1
            total += term
            term *= cos2 * (2 * k + 2) / (2 * k + 3)
        return 2.0 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
    total, term = 0.0, 1.0
    for k in range(df // 2):                 # (df - 2) / 2 + 1 terms
        total += term
        term *= cos2 * (2 * k + 1) / (2 * k + 2)
    return math.sin(theta) * total


def t_quantile(p: float, df: int) -> float:
    """The t with P(T <= t) = p, i.e. t_{p, df}, for 0.5 <= p < 1 (t_{0.975, 9} = 2.262).

    Solves ``t_two_sided_cdf(t, df) = 2p - 1`` by bisection: the left side rises from 0 to 1.
    """
    if not 0.5 <= p < 1.0:
        raise ValueError(f"p={p!r} is not valid; allowed: 0.5 <= p < 1")
    target = 2.0 * p - 1.0
    lo, hi = 0.0, 1.0
    while t_two_sided_cdf(hi, df) < target:
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if t_two_sided_cdf(mid, df) < target else (lo, mid)
    return 0.5 * (lo + hi)


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> dict:
    r"""``{mean, ci_low, ci_high, sd, n, note}`` of a sample; CI = mean ± t_{(1+c)/2, n-1} sd / sqrt(n) (``CI_LATEX``).

    sd uses n - 1. With n = 1 the sd and CI are None and ``note`` says why; with n = 0 all are None.
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
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * sd / math.sqrt(n)
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
