"""The effect-of-T section: its plan (paired seeds, equal trials per arm at every T, the T values, the Holm family),
its readings on constructed comparisons with known answers, and one tiny end-to-end run."""
from __future__ import annotations

import math

import pytest

from snn_core.config.run_config import RunConfig
from snn_core.experiments import t_effect
from snn_core.experiments.batch import RunCache
from snn_core.experiments.compare import compare_result
from snn_core.experiments.tuning import TUNE_SEEDS, Arm, Trial, TunedArm
from snn_core.metrics.cost import CostMetrics, LayerCost
from snn_core.report import asa as report_asa
from snn_core.report import t_effect as report_t
from snn_core.report import t_effect_tables as tables
from snn_core.report.budget import BUDGETS, Budget
from snn_core.report.parts import RunCounter
from snn_core.report.verdict import holm_family
from snn_core.results import PairedStat
from snn_core.results.run_result import LayerActivity, Metrics, RunResult


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_every_arm_gets_the_same_trials_at_every_t_on_tuning_seeds_apart_from_the_reported(profile):
    budget, reported = BUDGETS[profile], list(range(BUDGETS[profile].min_seeds))
    for part in report_t.methods():
        for point, plan in zip(part.study.points, part.study.plans(budget.trials, reported)):
            assert {len(points) for points in plan.points.values()} == {budget.trials}       # equal budget per arm
            assert plan.seeds == TUNE_SEEDS and not set(plan.seeds) & set(reported)
            assert {cfg.data.time_steps for cfg in plan.configs} == {point.time_steps}
            assert len(plan.configs) == budget.trials * len(point.arms) * len(TUNE_SEEDS)


def test_the_t_values_and_the_arms_of_each_method():
    asa, trt, ttfs = (part.study for part in report_t.methods())
    assert [p.time_steps for p in asa.points] == [4, 8, 16, 32]
    assert [p.time_steps for p in trt.points] == [1, 2, 4, 8]
    assert [(p.base.data.latency_window, p.time_steps) for p in ttfs.points] == [(8, 16), (16, 32)]
    assert asa.variant == "clean ASA" and asa.controls == report_asa.CONTROLS
    assert [arm.name for arm in asa.points[0].arms] == ["off, tuned", "clean ASA", "learned gate", "random gate"]
    assert trt.variant == "TRT" and trt.controls == ("no TRT, 2× epochs",)
    base_arm = trt.points[0].arms[0]
    assert base_arm.changes["epochs"] == 2 * trt.points[0].base.training.epochs            # compute-matched
    assert (ttfs.variant, ttfs.controls) == ("relaxed", ("TTFS",))
    for study in (asa, trt, ttfs):          # only T (and TTFS's window) changes between points
        first = study.points[0].base.with_values({"T": 8, "latency-window": 0})
        assert all(p.base.with_values({"T": 8, "latency-window": 0}) == first for p in study.points)


def test_a_study_refuses_repeated_t_and_a_variant_that_is_not_an_arm():
    arms = (Arm("a"), Arm("b"))
    point = t_effect.TPoint(4, "T = 4", RunConfig(), arms)
    with pytest.raises(ValueError, match="distinct T"):
        t_effect.TStudy("m", "b", ("a",), (point, point))
    with pytest.raises(ValueError, match="missing: \\['c'\\]"):
        t_effect.TStudy("m", "c", ("a",), (point,))


def tuned_arm(name: str, score: float | None) -> TunedArm:
    run = RunResult(RunConfig(), metrics=None if score is None else metrics(0.5, score))
    return TunedArm(Arm(name), RunConfig(), {}, (Trial({}, (run,)),))


def test_the_control_is_the_best_on_validation_as_the_asa_section_chooses_it():
    for scores in ((0.5, 0.7, 0.6), (0.7, 0.7, 0.2), (None, 0.1, 0.1), (0.3, None, 0.9)):
        tuned = {name: tuned_arm(name, score) for name, score in zip(report_asa.CONTROLS, scores)}
        assert t_effect.choose_control(tuned, report_asa.CONTROLS) == report_asa.best_control(tuned)
    assert t_effect.choose_control({"x": tuned_arm("x", 0.1)}, ("x",)) == "x"


def metrics(accuracy: float, validation: float = 0.5, sops: float = 1000.0, macs: float = 0.0) -> Metrics:
    return Metrics(accuracy, 1.0, validation, 0.1, 10.0, 0.0, 1.0, LayerActivity({}, {}, {}, {}, {}),
                   cost=CostMetrics({"fc1": LayerCost(sops, macs, 5000.0)}))


def comparison(accuracy_diffs, energy_ratio: float, t: int):
    """Three paired seeds: base accuracy 0.5, variant 0.5 + diff; variant energy ``energy_ratio`` × the base's."""
    base, variant = RunConfig().with_values({"T": t}), RunConfig().with_values({"T": t, "lr": 0.01})
    slots = []
    for seed, diff in enumerate(accuracy_diffs):
        slots += [RunResult(base.with_values({"seed": seed}), metrics=metrics(0.5)),
                  RunResult(variant.with_values({"seed": seed}), metrics=metrics(0.5 + diff, sops=1000 * energy_ratio))]
    return compare_result(base, variant, range(len(accuracy_diffs)), slots)


def effect():
    """T = 2, 4, 8: every seed's accuracy difference falls by 5 points per doubling; energy halves at every T."""
    diffs = {2: (0.10, 0.12, 0.08), 4: (0.05, 0.07, 0.03), 8: (0.0, 0.02, -0.02)}
    points = tuple(t_effect.TPoint(t, f"T = {t}", RunConfig(), (Arm("base"), Arm("variant"))) for t in diffs)
    study = t_effect.TStudy("demo", "variant", ("base",), points)
    rows = tuple(t_effect.TComparison(p, {}, "base", comparison(diffs[p.time_steps], 0.5, p.time_steps))
                 for p in points)
    return t_effect.TEffect(study, rows, (0, 1, 2), 2)


def test_the_family_for_holm_is_each_t_accuracy_and_energy_plus_two_trends_with_known_values():
    found = effect()
    family = found.family()
    assert list(family) == ["T = 2: accuracy", "T = 2: energy", "T = 4: accuracy", "T = 4: energy",
                            "T = 8: accuracy", "T = 8: energy", "trend over T: accuracy", "trend over T: energy"]
    assert family["T = 2: accuracy"].mean == pytest.approx(0.10)
    assert family["T = 4: energy"].mean == pytest.approx(math.log(0.5)) and family["T = 4: energy"].sd == 0
    slope = found.accuracy_trend
    assert slope is not None and slope.mean == pytest.approx(-0.05) and slope.sd == pytest.approx(0, abs=1e-12)
    assert found.energy_trend is not None and found.energy_trend.mean == pytest.approx(0)
    single = t_effect.TEffect(found.study, found.rows[:1], (0, 1, 2), 2)
    assert single.accuracy_trend is None and len(single.family()) == 2     # one T: no trend, two tests


def test_the_table_reads_holm_adjusted_verdicts_and_says_whether_they_change_with_t():
    found = effect()
    adjusted = holm_family(found.family())
    # T = 2: raw p 0.013, but 4 tests of the 8 have p = 0, so Holm multiplies it by 4: 0.05 or more
    assert found.rows[0].accuracy.p_value == pytest.approx(0.0132, abs=1e-3) and adjusted["T = 2: accuracy"] >= 0.05
    lines = tables.table(found, adjusted, margin=0.01)
    assert len(lines) == 2 + 3 and lines[2].startswith("| T = 2 | base | 50.0 → 60.0 | +10.0 [+5.0, +15.0] |")
    assert "no evidence of a difference after Holm's correction (MDE ±" in lines[2]
    assert "×0.50 [0.50, 0.50]" in lines[2] and "energy lower, ×0.50" in lines[2] and "| 0.9 → 0.5 |" in lines[2]
    assert "3/3" in lines[2] and "| 1/3 |" in lines[4]
    trend = tables.trend_lines(found, adjusted)
    assert trend[0].startswith("- Δ accuracy per doubling of T: -5.0 [-5.0, -5.0] points")
    assert "the difference (variant − control) falls as T grows" in trend[0]
    assert "no evidence that it depends on T" in trend[1]
    assert tables.changes_with_t(found, adjusted, 0.01).startswith(
        "The verdict does not change with T: at every T measured, accuracy reads \"no evidence\" and energy per "
        "sample \"lower\"")
    # with a margin of 5 points, T = 8 (mean 0, sd 2 points) is shown equivalent: the verdict then changes
    assert tables.changes_with_t(found, adjusted, 0.05).startswith(
        "The verdict changes with T (T = 2: accuracy no evidence, energy lower; T = 4: accuracy no evidence, energy "
        "lower; T = 8: accuracy equivalent, energy lower)")
    assert "The size of the effect does move: the accuracy difference falls as T grows." in \
        tables.changes_with_t(found, adjusted, 0.01)
    assert ("on the headline: not shown either way: at the lowest T, no evidence of a difference after Holm's "
            "correction") in report_t.paper_trt(found, adjusted)
    # without the correction (raw p), T = 2 is higher and the slope falls: the paper's pattern
    assert "on the headline: agrees: a gain at low T that shrinks as T grows" in \
        report_t.paper_trt(found, {})


def stat(mean, low, high, p, mde=0.02, n=5, ties=0):
    return PairedStat(mean, low, high, 0.01, n, None, 3, 2 - ties, ties, p, mde)


def test_readings_of_single_statistics():
    assert tables.accuracy_reading(stat(0.03, 0.01, 0.05, 0.01), 0.02, 0.01) == ("higher", "higher by 3.0 points")
    assert tables.accuracy_reading(stat(-0.03, -0.05, -0.01, 0.01), None, 0.01)[0] == "lower"
    assert tables.accuracy_reading(stat(0.0, -0.001, 0.001, 0.9), 1.0, 0.01)[0] == "equivalent"
    assert tables.accuracy_reading(stat(0.0, 0.0, 0.0, 1.0, n=3, ties=3), 1.0, 0.01) == (
        "no change", "no change in any of 3 runs")
    assert tables.accuracy_reading(stat(0.01, -0.04, 0.06, 0.6, mde=0.05), 1.0, 0.01) == (
        "no evidence", "no evidence of a difference (MDE ±5.0 points)")
    assert tables.ratio_reading(stat(math.log(0.5), -0.8, -0.6, 0.001), 0.004) == ("lower", "lower, ×0.50")
    assert tables.ratio_reading(stat(0.1, -0.1, 0.3, 0.3, mde=math.log(1.5)), 0.6) == (
        "no evidence", "no evidence of a difference (MDE ×/÷1.50)")


def test_a_ratio_of_a_zero_energy_is_refused():
    result = comparison((0.0, 0.0), 0.0, 4)
    with pytest.raises(ValueError, match="has no ratio"):
        t_effect.log_ratio(result, t_effect.energy_pj)



def test_the_section_runs_end_to_end_on_tiny_configs_with_paired_seeds(tmp_path):
    tiny = report_t.TRT_T_BASE.with_values({"train-samples": 40, "test-samples": 20, "epochs": 1, "channels": "2",
                                            "hidden": "4"})
    parts = [report_t.MethodT("TRT tiny", report_t.trt_study(tiny, (1, 2)), 0.01, "Tiny.", report_t.paper_trt)]
    counter, logged, cache = RunCounter(), [], RunCache(tmp_path)
    text = report_t.t_effect_section([0], 1, cache, logged.append, counter, Budget("test", 1, 2), parts=parts)
    assert counter.runs == 2 * (2 + 2 * 2)                 # per T: 1 trial per arm, then 2 arms x 2 seeds
    assert len(logged) == 1 and "2 paired seeds (0, 1)" in text and "Holm family: 6 tests" in text
    assert "| T = 1 | no TRT, 2× epochs | " in text and "| T = 2 | no TRT, 2× epochs | " in text
    assert "memory access" in text and "e_AC = 0.9 pJ" in text and "Against the paper: TRT's headline" in text
    assert "- Δ accuracy per doubling of T: " in text and "The verdict " in text
    again = RunCounter()
    measured = t_effect.run_study(parts[0].study, [0, 1], 1, cache=cache, progress=again)
    assert again.cached == again.runs == counter.runs                                # the section's runs, reread
    for row in measured.rows:                                                        # the pairs share their seed
        assert [pair.seed for pair in row.result.per_seed] == [0, 1]
        assert all(pair.base.seed == pair.variant.seed for pair in row.result.per_seed)
        assert row.result.base == row.tuned[row.control].config and row.control == "no TRT, 2× epochs"
        assert row.result.variant.methods.trt == "on" and row.energy.n == 2
