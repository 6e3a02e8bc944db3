"""The effect of T on each method's verdict (issue 29 item 4): ASA, TRT and TTFS re-judged at several T.

Every verdict elsewhere in the report sits at one T, while each paper's effect plausibly depends on it (ASA's paper
trains at T = 60, TRT's headline is large gains at low T). Here each method's comparison, with the arms of its own
section, is repeated at several T (``experiments.t_effect``): at every T each arm is tuned with the report's
budget (``budget.trials`` per arm, tuning seed apart from the reported ones, validation accuracy), the control is
chosen on validation, and control and variant train on the same paired seeds. Per T the table gives the accuracy
difference, the energy-per-sample ratio (``metrics.cost``: accumulates at e_AC, dense MACs at e_MAC) and the SOP
ratio, each with its 95% CI; p-values are Holm-adjusted within the method's family (each T's accuracy and energy
test and the two trends over T); a "no evidence" carries its minimum detectable effect, and "equivalent" needs a
TOST within the method section's own margin.

- ASA: clean ASA against its best control (``report.asa``: off tuned, the learned gate, the random gate);
- TRT: TRT against the compute-matched baseline without it (``experiments.trt_table``, 2× the epochs);
- TTFS: relaxed (K unlimited) against TTFS (K = 1) on ``report.ttfs``'s space, at two latency windows with
  T = 2 × the window (the input spikes fill the first half of T, as in the TTFS preset).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from ..config.run_config import RunConfig
from ..experiments import trt_table
from ..experiments.batch import RunCache
from ..experiments.t_effect import (
    TREND_ACCURACY,
    TComparison,
    TEffect,
    TPoint,
    TStudy,
    accuracy_key,
    run_study,
)
from ..experiments.tuning import TUNE_SEEDS
from ..metrics.cost import DEFAULT_ENERGY
from . import asa, ttfs
from .asa_tables import EQUIVALENCE_MARGIN as ASA_MARGIN
from .budget import FULL, Budget
from .parts import RunCounter, topped_up
from .t_effect_tables import (
    accuracy_reading,
    changes_with_t,
    moves,
    points_ci,
    ratio_ci,
    table,
    trend_lines,
    trend_reading,
    tuning_rows,
)
from .trt import EQUIVALENCE_MARGIN as TRT_MARGIN
from .ttfs_claims import ACCURACY_MARGIN as TTFS_MARGIN
from .verdict import holm_family

if TYPE_CHECKING:
    from ..experiments.executors import Executor

# ASA's section network made smaller (8-16 channels, 400 clips, 8 epochs) so that four T fit the section on one core
ASA_T_BASE = asa.ASA_BASE.with_values({"channels": "8,16", "hidden": "64", "train-samples": 400, "test-samples": 200,
                                       "batch-size": 16, "epochs": 8})
ASA_TIME_STEPS = (4, 8, 16, 32)
TRT_T_BASE = trt_table.EVENTS.with_values({"epochs": 6, "batch-size": 16, "test-samples": 200})
TRT_TIME_STEPS = (1, 2, 4, 8)
TRT_AT_ONE = ("At T = 1 TRT runs (no rule refuses it) but the reversal of one step is the identity: the perturbed "
              "branch equals the original, the KL term is 0, and TRT reduces to its cross-entropy counted twice plus "
              "the star head on r ⊙ r, a control for what TRT adds without any reversal")
TTFS_T_BASE = ttfs.TTFS_BASE.with_values({"train-samples": 600, "test-samples": 300, "epochs": 5, "batch-size": 32})
TTFS_WINDOWS = (8, 16)


class MethodT(NamedTuple):
    """One method's part of the section: its study, its margin of "equivalent" accuracy, what was run, and the
    sentence that sets the measured trend against the paper's setting."""
    title: str
    study: TStudy
    margin: float
    setting: str
    paper: Callable[[TEffect, Mapping[str, float | None]], str]


def asa_study(base: RunConfig = ASA_T_BASE, steps: Sequence[int] = ASA_TIME_STEPS) -> TStudy:
    """Clean ASA and the ASA section's three controls (``asa.asa_arms``) at each T."""
    arms = tuple(asa.asa_arms(("clean",)))
    return TStudy("ASA", "clean ASA", asa.CONTROLS,
                  tuple(TPoint(t, f"T = {t}", base.with_values({"T": t}), arms) for t in steps))


def trt_study(start: RunConfig = TRT_T_BASE, steps: Sequence[int] = TRT_TIME_STEPS) -> TStudy:
    """TRT and its compute-matched baseline (``trt_table.tuning_arms``) on events-shape at each T."""
    points = []
    for t in steps:
        base, arms = trt_table.tuning_arms(start, "events-shape", t)
        points.append(TPoint(t, f"T = {t}", base, arms))
    return TStudy("TRT", trt_table.ARM_NAMES[1], (trt_table.ARM_NAMES[0],), tuple(points))


def ttfs_study(base: RunConfig = TTFS_T_BASE, windows: Sequence[int] = TTFS_WINDOWS) -> TStudy:
    """Relaxed against TTFS (``ttfs.ARMS``) at each latency window W, with T = 2W."""
    relaxed, capped = (arm.name for arm in reversed(ttfs.ARMS))
    return TStudy("TTFS", relaxed, (capped,), tuple(
        TPoint(2 * w, f"window {w}, T = {2 * w}", base.with_values({"T": 2 * w, "latency-window": w}), ttfs.ARMS)
        for w in windows))


def _setting(cfg: RunConfig, network: str) -> str:
    d, t = cfg.data, cfg.training
    noise = f" (noise {d.noise_level:g} events per pixel)" if d.dataset.startswith("events") else ""
    return (f"{d.dataset}{noise}, {network}, {d.train_samples} training samples ({d.validation:.0%} held out for "
            f"validation), {d.test_samples} test samples, {t.epochs} epochs, batch {t.batch_size}")


def _conv(cfg: RunConfig) -> str:
    return f"conv {'-'.join(map(str, cfg.model.channels))} + fc {'-'.join(map(str, cfg.model.hidden))}"


def methods() -> list[MethodT]:
    """The section's three parts, in report order."""
    a, r, f = ASA_T_BASE, TRT_T_BASE, TTFS_T_BASE
    return [
        MethodT("ASA: clean ASA against its best tuned control", asa_study(), ASA_MARGIN,
                f"{_setting(a, _conv(a))}: the ASA section's network made smaller (there 16-32 channels, 800 clips, "
                "16 epochs) so that T = 4 to 32 fit this section's budget on one core; the ASA paper's neuron; the "
                "control at each T is the best of off (tuned), the learned gate and the random gate on validation, "
                "as in the ASA section.", paper_asa),
        MethodT("TRT: TRT against the compute-matched baseline", trt_study(), TRT_MARGIN,
                f"{_setting(r, _conv(r))} for TRT; the baseline trains {trt_table.COMPUTE_FACTOR}x the epochs; the "
                f"TRT group's neuron. {TRT_AT_ONE}.", paper_trt),
        MethodT("TTFS: relaxed (K unlimited) against TTFS (K = 1)", ttfs_study(), TTFS_MARGIN,
                f"{_setting(f, 'MLP ' + '-'.join(map(str, f.model.hidden)))}, latency code in the first W steps of "
                "T = 2W, first-spike readout, the TTFS preset's CUBA neuron.", paper_ttfs),
    ]


def _extremes(effect: TEffect) -> tuple[TComparison, TComparison]:
    return effect.rows[0], effect.rows[-1]


def paper_asa(effect: TEffect, adjusted: Mapping[str, float | None]) -> str:
    low, high = _extremes(effect)
    trend = effect.accuracy_trend
    reading = "" if trend is None else trend_reading(trend, adjusted.get(TREND_ACCURACY), "points")
    return (f"Against the paper: ASA's results are at T = 60 (DVS128 Gesture, 128×128 input); the largest T run "
            f"here is {high.point.time_steps}, so the paper's regime is extrapolated, not measured. From "
            f"{low.point.label} to {high.point.label} clean ASA − {high.control}: Δ accuracy {points_ci(low.accuracy)} "
            f"→ {points_ci(high.accuracy)} points, energy ratio {ratio_ci(low.energy)} → {ratio_ci(high.energy)} (its "
            f"dense gate MACs included); accuracy over T: {reading or 'not measured'}.")


def paper_trt(effect: TEffect, adjusted: Mapping[str, float | None]) -> str:
    """The headline "large gains at low T" holds here when TRT's accuracy is higher at the lowest T (CI and Holm)
    and the gain falls as T grows (``moves`` on the trend); the lowest T's reading and the trend say which part
    fails otherwise."""
    low, high = _extremes(effect)
    at_low, said = accuracy_reading(low.accuracy, adjusted.get(accuracy_key(low.point)), TRT_MARGIN)
    direction = moves(effect.accuracy_trend, adjusted.get(TREND_ACCURACY))
    if at_low == "higher":
        verdict = ("agrees: a gain at low T that shrinks as T grows" if direction < 0 else
                   "partly: a gain at low T, but it grows with T, the opposite of the paper's pattern"
                   if direction > 0 else "partly: a gain at low T, but no evidence here that it shrinks as T grows")
    elif at_low in ("lower", "equivalent", "no change"):
        verdict = f"contradicts it: no gain at the lowest T (accuracy {at_low})"
    else:
        verdict = f"not shown either way: at the lowest T, {said}"
    return (f"Against the paper: TRT's headline is large gains at low T (its results are at T = 2). Measured: "
            f"Δ accuracy {points_ci(low.accuracy)} points at {low.point.label} and {points_ci(high.accuracy)} at "
            f"{high.point.label}; on the headline: {verdict}.")


def paper_ttfs(effect: TEffect, adjusted: Mapping[str, float | None]) -> str:
    def reads(row: TComparison) -> str:
        return accuracy_reading(row.accuracy, adjusted.get(accuracy_key(row.point)), TTFS_MARGIN)[0]

    low, high = _extremes(effect)
    return (f"Against the paper: Bacho & Chu compare the two at one input window each; their claim \"relaxed is "
            f"more accurate\" reads \"{reads(low)}\" at {low.point.label} and \"{reads(high)}\" at "
            f"{high.point.label} here, and relaxed's energy ratio is {ratio_ci(low.energy)} and "
            f"{ratio_ci(high.energy)}.")


def method_lines(part: MethodT, effect: TEffect) -> list[str]:
    """A method's subsection: what was run, tuning, the table per T, the trend, and the two sentences."""
    adjusted = holm_family(effect.family())
    spaces = "; ".join(f"{arm.name} over {', '.join(arm.space) or 'nothing'}" for arm in part.study.points[0].arms)
    return [f"### {part.title}", "",
            f"{part.setting} Points: {'; '.join(row.point.label for row in effect.rows)}. At each point every arm "
            f"is tuned with {effect.trials} trials ({spaces}) on tuning seed {', '.join(map(str, TUNE_SEEDS))}, then "
            f"{len(effect.seeds)} paired seeds ({', '.join(map(str, effect.seeds))}). Holm family: "
            f"{len(effect.family())} tests (each T's accuracy and energy, and the two trends).", "",
            *tuning_rows(effect), "", *table(effect, adjusted, part.margin), "", *trend_lines(effect, adjusted), "",
            changes_with_t(effect, adjusted, part.margin), "", part.paper(effect, adjusted)]


def t_effect_section(seeds: list[int], workers: int | Executor, cache: RunCache | None, log: Callable[[str], None],
                     counter: RunCounter, budget: Budget = FULL, parts: Sequence[MethodT] | None = None) -> str:
    """Each method's comparison at several T on at least ``budget.min_seeds`` paired seeds (``methods()``)."""
    seeds = topped_up(seeds, budget.min_seeds)
    measured = []
    for part in methods() if parts is None else parts:
        log(f"effect of T, {part.study.method}: {len(part.study.points)} T x {budget.trials} trials per arm, "
            f"then {len(seeds)} seeds")
        measured.append((part, run_study(part.study, seeds, budget.trials, workers=workers, cache=cache,
                                         progress=counter)))
    energy = DEFAULT_ENERGY
    lines = ["## The effect of T on each method's verdict (issue 29)", "",
             f"Profile {budget.name}: {budget.trials} tuning trials per arm at every T, {len(seeds)} paired seeds "
             "(a seed fixes the shared layers' initial weights and the batch order in both arms; only the arms' own "
             "tuned settings differ). Differences are variant − control; the energy "
             f"ratio is variant / control of the energy per sample, counted (`metrics.cost`): e_AC = "
             f"{energy.e_ac_pj:g} pJ per spike-driven accumulate (SOP) and e_MAC = {energy.e_mac_pj:g} pJ per dense "
             "multiply-accumulate (analog input, ASA's gates), Horowitz 2014, 45 nm. The model leaves out memory "
             "access and data movement, which often dominate on real chips, and the neurons' own updates, so it "
             "ranks operation counts, not chips. p: paired t-test, Holm-adjusted within each method's family (in "
             "brackets); MDE: the difference these seeds find with 80% power; a ratio's CI is that of the mean "
             "log ratio. Each method's reported epoch is the one its validation accuracy selects."]
    for part, effect in measured:
        lines += ["", *method_lines(part, effect)]
    return "\n".join(lines)
