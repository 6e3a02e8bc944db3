"""The factorial study's part of the TRT section (``report.trt``): its pairs under a budget, and its Markdown with
each cell's p beside its Holm-adjusted p (the section's family) and its minimum detectable effect.

The study (``experiments.trt_sign``) reports every cell, each against a compute-matched off arm, so no cell is
picked out; a cell reads "TRT ahead" or "TRT behind" only where its Holm-adjusted p is below 0.05.
"""
from __future__ import annotations

from collections.abc import Mapping

from ..experiments import trt_sign, trt_table
from ..methods.presets import describe_neuron
from ..results.comparison import MeanCI, PairedStat
from .budget import Budget
from .parts import bounds, p_text


def stat_cells(stats: PairedStat, adjusted: float | None, scale: float = 100) -> str:
    """"p (Holm) | MDE" cells: raw p, Holm-adjusted p, the minimum detectable effect at 80% power."""
    mde = "—" if stats.mde is None else f"±{stats.mde * scale:.2f}"
    return f"{p_text(stats.p_value)} ({p_text(adjusted)}) | {mde}"


def _points(stats: MeanCI) -> str:
    if stats.mean is None:
        return "—"
    found = bounds(stats)
    if found is None:
        return f"{stats.mean * 100:+.1f}"
    _, low, high = found
    return f"{stats.mean * 100:+.1f} [{low * 100:+.1f}, {high * 100:+.1f}]"


def sign_pairs(budget: Budget) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The study's seeds and data seeds under ``budget``: every seed, and as many data seeds as fit in
    ``budget.min_seeds`` pairs (at least one, at most ``trt_sign.DATA_SEEDS``)."""
    count = max(1, min(len(trt_sign.DATA_SEEDS), budget.min_seeds // len(trt_sign.SEEDS)))
    return tuple(trt_sign.SEEDS), tuple(trt_sign.DATA_SEEDS[:count])


def sign_study(study: trt_sign.SignStudy, adjusted: Mapping[str, float | None], row_seeds: int) -> list[str]:
    """The factorial study (``experiments.trt_sign``) as Markdown: a row per cell with its Holm-adjusted p (the
    section's family), then each factor's effect on Δ; ``row_seeds``: the pairs of the table above."""
    factors, cells = list(study.factors), study.cells
    cell_p = [adjusted.get(f"cell {index}") for index in range(len(cells))]
    readings = [trt_sign.reading(cell.delta, p) for cell, p in zip(cells, cell_p)]
    base = trt_sign.BASE
    crossed = " × ".join(f"{name} ({' / '.join(levels)})" for name, levels in study.factors.items())
    pairs = len(study.seeds) * len(study.data_seeds)
    lines = [
        "", "### What the size of TRT's effect depends on", "",
        f"A factorial study (`experiments.trt_sign`): {crossed}, each cell TRT against no TRT trained "
        f"{trt_table.COMPUTE_FACTOR}× TRT's epochs (compute-matched), on {base.data.dataset}, "
        f"T = {base.data.time_steps}, {base.data.train_samples} training and {base.data.test_samples} test clips, "
        f"{describe_neuron('trt')}, every arm at its defaults (untuned: the tuned comparison is the table above). "
        f"{len(study.seeds)} seeds × {len(study.data_seeds)} data seeds = {pairs} pairs per cell: a pair shares "
        "initial weights (seed) and generated clips (data seed), so the spread includes a new training set per "
        "data seed; the CI treats the pairs as independent. \"clean only\" keeps the perturbed branch out of "
        "BatchNorm's running statistics (`--trt-bn-stats clean`). The loss terms, a factor of the earlier study, "
        "are left to the ablation rows above "
        f"(tuned, {row_seeds} seeds). Every cell is reported; p is the paired t-test's, "
        "Holm-adjusted within the section.", "",
        f"| {' | '.join(factors)} | off % ({trt_table.COMPUTE_FACTOR}× epochs) | TRT % | Δ points [95% CI] | "
        "p (Holm) | MDE, points | wins | reading |",
        f"|{'---|' * (len(factors) + 7)}",
    ]
    for cell, p, found in zip(cells, cell_p, readings):
        levels = " | ".join(cell.levels[name] for name in factors)
        arms = " | ".join("—" if arm.mean is None else f"{arm.mean * 100:.1f}" for arm in (cell.off, cell.on))
        lines.append(f"| {levels} | {arms} | {_points(cell.delta)} | {stat_cells(cell.delta, p)} | "
                     f"{cell.delta.wins}/{cell.delta.n} | {found} |")
    ahead = readings.count("TRT ahead")
    lines += ["", f"After Holm's correction TRT is ahead of the compute-matched baseline in {ahead}"
                  f" of {len(cells)} cells and behind in {readings.count('TRT behind')}; in the others these "
                  f"{pairs} pairs show no evidence of a difference (each row's MDE says how large a difference they "
                  f"could have missed). Failed runs: {study.failed_runs}.", "",
              "Each factor's effect on TRT's Δ: per pair, the mean Δ of the cells at the second level minus that at "
              "the first (the other factors averaged), in points:", "",
              "| factor | levels (first → second) | effect on Δ [95% CI] |", "|---|---|---|"]
    lines += [f"| {name} | {' → '.join(effect.levels)} | {_points(effect.contrast)} |"
              for name, effect in study.effects.items()]
    return lines


