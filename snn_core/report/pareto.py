"""The Pareto section of the reproduction report (issue 29): accuracy against energy per sample for every family of
operating points, each point tuned with the same budget, and whether a method shifts its control's front.

Single operating points cannot tell "ASA moves along the same accuracy–cost front as plain attenuation" from "ASA
shifts the front": a family of points can. The families, their bases and the test are ``experiments.pareto`` and
``experiments.fronts``; this module runs them at the report's budget (``budget.trials`` per point, at least
``budget.min_seeds`` paired seeds) and writes the tables.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..experiments.batch import RunCache
from ..experiments.fronts import BOOTSTRAP_RESAMPLES, EQUIVALENCE_MARGIN, PAD_DECADES
from ..experiments.pareto import (
    AXES,
    FAMILIES,
    PRIMARY_AXIS,
    Front,
    FrontComparison,
    ParetoStudy,
    plan_pareto,
    run_pareto,
)
from ..experiments.stats import ALPHA
from ..experiments.tuning import TUNE_SEEDS
from ..results.comparison import MeanCI
from .budget import FULL, Budget
from .parts import RunCounter, p_text, topped_up

if TYPE_CHECKING:
    from ..experiments.executors import Executor

LEFT_OUT = ("What the energy model leaves out: memory access and data movement (reading weights and membrane "
            "states, moving spikes between cores), which often dominate the energy of real neuromorphic and GPU "
            "chips and can reverse a ranking by operations; the neurons' own updates (leak, threshold, reset) at "
            "every step; biases; and the cost of control logic. The numbers below are operation counts priced at "
            "fixed per-operation energies, not measurements of a chip.")


def _interval(stats: MeanCI, scale: float = 1.0, digits: int = 1) -> str:
    """``12.3 [10.1, 14.5]`` (the mean alone with fewer than 2 runs, — with none)."""
    if stats.mean is None:
        return "—"
    if stats.ci_low is None or stats.ci_high is None:
        return f"{stats.mean * scale:.{digits}f}"
    return f"{stats.mean * scale:.{digits}f} [{stats.ci_low * scale:.{digits}f}, {stats.ci_high * scale:.{digits}f}]"


def front_tables(study: ParetoStudy) -> list[str]:
    """One row per operating point: what it sweeps, the tuned lr and its validation score, and the mean [95% CI]
    over seeds of test accuracy, energy and synaptic operations; ✓ marks the points on the front of the means."""
    lines = ["| family | point | chosen (tuning) | validation | test accuracy % | energy nJ/sample | "
             "SOPs/sample (k) | on the energy front |", "|---|---|---|---|---|---|---|---|"]
    for front in study.fronts:
        efficient = {id(point) for point in front.efficient(PRIMARY_AXIS)}
        for point in front.points:
            chosen = ", ".join(f"{name} {value:g}" for name, value in point.chosen.items()) or "—"
            score = "failed" if point.validation is None else f"{point.validation:.1%}"
            lines.append(f"| {front.family} | {front.setting} {point.value:g} | {chosen} | {score} | "
                         f"{_interval(point.stat('accuracy'), 100)} | {_interval(point.stat('energy_pj'), 1e-3)} | "
                         f"{_interval(point.stat('synaptic_ops'), 1e-3)} | {'✓' if id(point) in efficient else ''} |")
    return lines


def comparison_table(comparisons: list[FrontComparison]) -> list[str]:
    """One row per method − control test on one axis: the areas, their paired difference with its bootstrap CI,
    wins, the t-test and TOST p-values (raw and Holm-adjusted) and the verdict."""
    unit = "nJ" if comparisons and comparisons[0].axis == "energy" else "k SOPs"      # both shown in thousands
    lines = [f"| method − control | seeds | box ({unit}) | area, method | area, control | difference [95% bootstrap "
             "CI] | wins/losses | p (Holm) | TOST p (Holm) | verdict |", "|---|---|---|---|---|---|---|---|---|---|"]
    for c in comparisons:
        t, n = c.test, len(c.seeds)
        box = "—" if c.box is None else f"{10 ** c.box.x_lo / 1e3:.3g}–{10 ** c.box.x_hi / 1e3:.3g}"
        mean = lambda values: f"{sum(values) / len(values):.3f}" if values else "—"      # noqa: E731
        diff = "—" if t.mean is None else f"{t.mean:+.3f}" + (
            "" if t.ci_low is None else f" [{t.ci_low:+.3f}, {t.ci_high:+.3f}]")
        lines.append(f"| {c.method} − {c.control} | {n} | {box} | {mean(t.method_area)} | {mean(t.control_area)} | "
                     f"{diff} | "
                     f"{t.wins}/{t.losses} | {p_text(t.p_value)} ({p_text(t.holm_p)}) | {p_text(t.tost_p)} "
                     f"({p_text(t.holm_tost_p)}) | {t.verdict} |")
    return lines


NARROW_SWEEP = 0.5          # a method whose points span less than half the control's cost range (in decades)


def cost_span(front: Front, axis: str) -> float:
    """Decades of cost between the family's cheapest and costliest point (means over seeds) on ``axis``."""
    what = "energy_pj" if axis == "energy" else "synaptic_ops"
    costs = [point.stat(what).mean for point in front.points if point.runs]
    positive = [cost for cost in costs if cost is not None and cost > 0]
    return math.log10(max(positive) / min(positive)) if positive else 0.0


def range_note(study: ParetoStudy, c: FrontComparison) -> str:
    """A caveat when the method's sweep spans much less cost than its control's: the dominated area rewards reaching
    cheap points as well as accuracy at a given cost, so part of such a difference is the sweep's reach."""
    method, control = cost_span(study.front(c.method), c.axis), cost_span(study.front(c.control), c.axis)
    if control <= 0 or method >= NARROW_SWEEP * control:
        return ""
    return (f" (its points span ×{10 ** method:.2f} in cost against the control's ×{10 ** control:.2f}: part of this "
            "difference is how far its setting moves the cost, not its accuracy at a given cost; compare the points "
            "of similar cost in the fronts above)")


def verdict_lines(study: ParetoStudy, comparisons: list[FrontComparison]) -> list[str]:
    """One sentence per test of the primary axis, naming the control, with ``range_note``'s caveat where it applies."""
    return [f"- **{c.method}** against its control **{c.control}** ({AXES[c.axis]}): {c.test.verdict}"
            f"{range_note(study, c)}." for c in comparisons]


def pareto_section(seeds: list[int], workers: int | Executor, cache: RunCache | None, log: Callable[[str], None],
                   counter: RunCounter, budget: Budget = FULL) -> str:
    """Every family tuned (``budget.trials`` per point) and run on at least ``budget.min_seeds`` paired seeds; the
    fronts, the tests on them and what the energy model leaves out."""
    seeds = topped_up(seeds, budget.min_seeds)
    plan = plan_pareto(list(FAMILIES), seeds, budget.trials)
    log(f"Pareto: {len(plan.points)} points x {budget.trials} trials, then {len(seeds)} seeds each")
    study = run_pareto(plan, workers=workers, cache=cache, progress=counter)
    conv, ttfs = (plan.tuning.point_config(plan.tuning.arms[0], {}), plan.tuning.point_config(
        next(arm for arm in plan.tuning.arms if arm.name.startswith("ttfs-k")), {}))
    energy = study.energy
    by_axis = {axis: [c for c in study.comparisons if c.axis == axis] for axis in AXES}
    families = "; ".join(f"**{f.name}**: {f.about} ({f.setting} ∈ {{{', '.join(f'{v:g}' for v in f.values)}}})"
                         for f in FAMILIES.values())
    lines = [
        "## Accuracy against cost: Pareto fronts (issue 29)", "",
        f"Families of operating points: {families}. The conv families train on {conv.data.dataset} "
        f"(direct encoding, so the first layer multiplies densely), conv {'-'.join(map(str, conv.model.channels))} + "
        f"fc {'-'.join(map(str, conv.model.hidden))}, T={conv.data.time_steps}, {conv.data.train_samples} training "
        f"images ({conv.data.validation:.0%} held out for validation), {conv.data.test_samples} test images, "
        f"{conv.training.epochs} epochs, the ASA paper's neuron; the TTFS families are the TTFS preset "
        f"({ttfs.data.dataset}, latency code, T={ttfs.data.time_steps}, CUBA, first-spike readout) at "
        f"{ttfs.training.epochs} epochs. The reported epoch of every run is chosen on validation accuracy.", "",
        f"Tuning: every point of every family gets the same {budget.trials} trial(s) over its own learning rate "
        f"(lr ∈ {{{', '.join(f'{v:g}' for v in FAMILIES['threshold'].space['lr'])}}}; the point's starting lr is "
        f"always one of them), on tuning seed {', '.join(map(str, TUNE_SEEDS))} (never a reported seed), chosen on "
        f"validation accuracy; the chosen config then trains on {len(seeds)} paired seeds "
        f"({', '.join(map(str, seeds))}: identical initial weights per seed in every point and family of one "
        f"network). Profile `{budget.name}`"
        + (": few trials and seeds, wide intervals, verdicts not to quote." if budget.name == "quick" else "."), "",
        f"Cost per sample (`metrics.cost`, counted from the test set's spikes): synaptic operations (a spike costs "
        f"its fan-out, {energy.e_ac_pj:g} pJ per accumulate) plus the dense multiply-accumulates no spike drives "
        f"(analog input to the first layer, ASA's gate convs and FC and its per-element multiply; "
        f"{energy.e_mac_pj:g} pJ each; Horowitz 2014, 45 nm). A constant gate folds into the weights and costs "
        f"nothing. {LEFT_OUT}", "",
        "### The fronts (mean [95% CI] over seeds)", "", *front_tables(study), "",
        "### Does a method shift its control's front?", "",
        f"Per seed, each front's dominated area in (log10 energy, test accuracy) inside a box shared by the two "
        f"fronts (cost from the cheapest point to {PAD_DECADES:g} decade beyond the costliest of either, accuracy "
        f"from chance to 1), as a fraction of the box; the paired difference method − control with a "
        f"{BOOTSTRAP_RESAMPLES}-resample percentile bootstrap CI (seeded); 'shifts the front' needs the CI off 0 "
        f"and the Holm-adjusted t-test p below {ALPHA} (Holm over this table's rows), 'moves along the same front' "
        f"needs the Holm-adjusted TOST p below {ALPHA} at a margin of ±{EQUIVALENCE_MARGIN:.0%} of the box; "
        "otherwise no evidence either way, with the difference these seeds would detect (80% power). The box spans "
        "only the costs both fronts reach (its column below): where that span is narrow (a fraction of a decade), "
        "a few percent of cost weigh as much as a wide sweep's factor of ten, so read an area difference together "
        "with the fronts above.", "",
        *comparison_table(by_axis[PRIMARY_AXIS]), "", *verdict_lines(study, by_axis[PRIMARY_AXIS]), "",
        "Second view, synaptic operations instead of energy (dense MACs not counted; its own Holm family):", "",
        *comparison_table(by_axis["sops"]), "",
        f"Runs: {study.failed_runs} failed, {study.unfinished_runs} did not finish.",
    ]
    return "\n".join(lines)
