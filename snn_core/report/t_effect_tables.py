"""Tables and readings of the effect-of-T section (``report.t_effect``), from studies already measured.

Each T's accuracy difference is read as "higher"/"lower" (95% CI excludes 0 and Holm-adjusted p < 0.05),
"equivalent" (TOST within the method's margin), "no change" (every pair equal) or "no evidence" with the minimum
detectable effect; an energy or SOP ratio is read on the log scale the same way, its MDE given as a factor
(ratios beyond ×/÷ exp(MDE) are found with 80% power); the slope over log2 T (``experiments.t_effect.trend``) as
"rises"/"falls as T grows" or "no evidence that it depends on T" with the slope these seeds would detect.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

from ..experiments.stats import ALPHA, tost_summary
from ..experiments.t_effect import (
    TREND_ACCURACY,
    TREND_ENERGY,
    TComparison,
    TEffect,
    accuracy_key,
    energy_key,
)
from ..results.comparison import PairedStat
from .parts import ACCURACY, bounds, mean_of, p_text

ENERGY = "cost.energy_pj"         # energy per sample, pJ: its column in a comparison's summaries


def accuracy_reading(stats: PairedStat, adjusted_p: float | None, margin: float) -> tuple[str, str]:
    """(class, text) of an accuracy difference: "higher"/"lower" (95% CI excludes 0 and Holm p < 0.05),
    "equivalent" (TOST within ±``margin``), "no change" (every pair equal) or "no evidence" (with the MDE)."""
    found = bounds(stats)
    if found is None:
        return "too few pairs", f"{stats.n} pair(s), too few for a CI"
    if stats.ties == stats.n:
        return "no change", f"no change in any of {stats.n} runs"
    mean, low, high = found
    excludes = low > 0 or high < 0
    if excludes and (adjusted_p is None or adjusted_p < ALPHA):
        word = "higher" if low > 0 else "lower"
        return word, f"{word} by {100 * abs(mean):.1f} points"
    tost = tost_summary(mean, stats.sd, stats.n, margin).p
    if tost is not None and tost < ALPHA:
        return "equivalent", f"equivalent within ±{100 * margin:g} point{'s' * (margin != 0.01)} (TOST p = {tost:.3f})"
    why = " after Holm's correction" if excludes else ""
    mde = "" if stats.mde is None else f" (MDE ±{100 * stats.mde:.1f} points)"
    return "no evidence", f"no evidence of a difference{why}{mde}"


def ratio_reading(stats: PairedStat, adjusted_p: float | None) -> tuple[str, str]:
    """(class, text) of a log ratio: "lower"/"higher" (×ratio; CI excludes 0 and Holm p < 0.05), "same" (every
    pair equal) or "no evidence" (with the MDE as a factor: ratios beyond ×/÷ exp(MDE) are found with 80% power)."""
    found = bounds(stats)
    if found is None:
        return "too few pairs", f"{stats.n} pair(s), too few for a CI"
    if stats.ties == stats.n:
        return "same", f"the same in every one of {stats.n} runs"
    mean, low, high = found
    excludes = low > 0 or high < 0
    if excludes and (adjusted_p is None or adjusted_p < ALPHA):
        word = "lower" if high < 0 else "higher"
        return word, f"{word}, ×{math.exp(mean):.2f}"
    why = " after Holm's correction" if excludes else ""
    mde = "" if stats.mde is None else f" (MDE ×/÷{math.exp(stats.mde):.2f})"
    return "no evidence", f"no evidence of a difference{why}{mde}"


def ratio_ci(stats: PairedStat) -> str:
    found = bounds(stats)
    if found is None:
        return "—" if stats.mean is None else f"×{math.exp(stats.mean):.2f} (one pair)"
    return "×{:.2f} [{:.2f}, {:.2f}]".format(*(math.exp(value) for value in found))


def points_ci(stats: PairedStat) -> str:
    found = bounds(stats)
    if found is None:
        return "—" if stats.mean is None else f"{100 * stats.mean:+.1f} (one pair)"
    return "{:+.1f} [{:+.1f}, {:+.1f}]".format(*(100 * value for value in found))


def _p(p: float | None, adjusted: float | None) -> str:
    return f"{p_text(p)} ({p_text(adjusted)})"


def _levels(row: TComparison, metric: str, scale: float, digits: int) -> str:
    """"control → variant" means of ``metric`` (× ``scale``); "—" for an arm with no successful run."""
    return " → ".join("—" if metric not in summary else
                      f"{scale * mean_of(summary[metric], f'{row.point.label}: {metric}'):.{digits}f}"
                      for summary in (row.result.base_summary, row.result.variant_summary))


def table(effect: TEffect, adjusted: Mapping[str, float | None], margin: float) -> list[str]:
    """One row per T: control, accuracy and energy of both arms, the paired accuracy difference and energy and
    SOP ratios with CIs, raw and Holm-adjusted p, wins, and the verdict."""
    lines = ["| T | control (chosen on validation) | accuracy %, control → variant | Δ accuracy, points [95% CI] | "
             "p (Holm) | wins | energy per sample, nJ, control → variant | energy ratio [95% CI] | p (Holm) | "
             "SOP ratio [95% CI] | verdict |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in effect.rows:
        accuracy, energy = row.accuracy, row.energy
        p_accuracy, p_energy = adjusted.get(accuracy_key(row.point)), adjusted.get(energy_key(row.point))
        failed = f" ({row.result.failed_runs} runs failed)" if row.result.failed_runs else ""
        lines.append(
            f"| {row.point.label}{failed} | {row.control} | {_levels(row, ACCURACY, 100, 1)} | {points_ci(accuracy)} | "
            f"{_p(accuracy.p_value, p_accuracy)} | {accuracy.wins}/{accuracy.n} | "
            f"{_levels(row, ENERGY, 1e-3, 1)} | {ratio_ci(energy)} | "
            f"{_p(energy.p_value, p_energy)} | {ratio_ci(row.sops)} | accuracy "
            f"{accuracy_reading(accuracy, p_accuracy, margin)[1]}; energy {ratio_reading(energy, p_energy)[1]} |")
    return lines


def trend_lines(effect: TEffect, adjusted: Mapping[str, float | None]) -> list[str]:
    """The per-seed slopes over log2 T: Δ accuracy per doubling of T and the energy ratio's factor per doubling."""
    lines = []
    accuracy, energy = effect.accuracy_trend, effect.energy_trend
    if accuracy is not None:
        p = adjusted.get(TREND_ACCURACY)
        lines.append(f"- Δ accuracy per doubling of T: {points_ci(accuracy)} points, p {_p(accuracy.p_value, p)}, "
                     f"{accuracy.n} seeds: {trend_reading(accuracy, p, 'points')}.")
    if energy is not None:
        p = adjusted.get(TREND_ENERGY)
        lines.append(f"- energy ratio's factor per doubling of T: {ratio_ci(energy)}, p {_p(energy.p_value, p)}: "
                     f"{trend_reading(energy, p, 'factor')}.")
    return lines


def moves(stats: PairedStat | None, adjusted_p: float | None) -> int:
    """+1 / -1 when a slope's 95% CI lies above / below 0 and its Holm-adjusted p is below 0.05, else 0."""
    found = None if stats is None else bounds(stats)
    if found is None or not (adjusted_p is None or adjusted_p < ALPHA):
        return 0
    return 1 if found[1] > 0 else -1 if found[2] < 0 else 0


def trend_reading(stats: PairedStat, adjusted_p: float | None, unit: str) -> str:
    """"rises"/"falls as T grows" (``moves``) or "no evidence that it depends on T" with the slope these seeds
    would detect (``unit``: "points" for an accuracy difference, "factor" for a log ratio)."""
    if bounds(stats) is None:
        return "too few seeds for a CI"
    direction = moves(stats, adjusted_p)
    if direction:
        what = "the difference (variant − control)" if unit == "points" else "the ratio (variant / control)"
        return f"{what} {'rises' if direction > 0 else 'falls'} as T grows"
    if stats.mde is None:
        return "no evidence that it depends on T"
    size = f"±{100 * stats.mde:.1f} points" if unit == "points" else f"×/÷{math.exp(stats.mde):.2f}"
    return f"no evidence that it depends on T (these seeds detect a slope of {size} per doubling with 80% power)"


def changes_with_t(effect: TEffect, adjusted: Mapping[str, float | None], margin: float) -> str:
    """Whether the per-T verdicts (accuracy class, energy class) are the same at every T, and whether the size of
    the effect moves with T all the same (a trend whose CI excludes 0 after Holm's correction)."""
    classes = [(accuracy_reading(row.accuracy, adjusted.get(accuracy_key(row.point)), margin)[0],
                ratio_reading(row.energy, adjusted.get(energy_key(row.point)))[0]) for row in effect.rows]
    trends = [f"{what} {'rises' if direction > 0 else 'falls'} as T grows" for what, direction in (
        ("the accuracy difference", moves(effect.accuracy_trend, adjusted.get(TREND_ACCURACY))),
        ("the energy ratio", moves(effect.energy_trend, adjusted.get(TREND_ENERGY)))) if direction]
    moving = f" The size of the effect does move: {' and '.join(trends)}." if trends else ""
    if len(set(classes)) == 1:
        a, e = classes[0]
        return (f"The verdict does not change with T: at every T measured, accuracy reads \"{a}\" and energy per "
                f"sample \"{e}\".{moving}")
    per_t = "; ".join(f"{row.point.label}: accuracy {a}, energy {e}" for row, (a, e) in zip(effect.rows, classes))
    return (f"The verdict changes with T ({per_t}); a change between a finding and \"no evidence\" may be power "
            f"alone, so read it with the MDEs and the trend above.{moving}")


def tuning_rows(effect: TEffect) -> list[str]:
    """Per T and arm: the point chosen on validation and its tuning score; the chosen control in bold."""
    lines = ["| T | arm | chosen | validation accuracy (tuning seed) |", "|---|---|---|---|"]
    for row in effect.rows:
        for name, arm in row.tuned.items():
            chosen = ", ".join(f"{key} {value:g}" if isinstance(value, float) else f"{key} {value}"
                               for key, value in arm.point.items()) or "—"
            score = "failed" if arm.score is None else f"{arm.score:.1%}"
            label = f"**{name}** (control)" if name == row.control else name
            lines.append(f"| {row.point.label} | {label} | {chosen} | {score} |")
    return lines
