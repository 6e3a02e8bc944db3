"""Pareto fronts (issue 29): the dominated area against hand-computed fronts, the seeded bootstrap, the verdicts on
constructed per-seed areas, the plan's paired seeds and equal budgets, and one tiny ``pareto`` command end to end."""
import json
import math

import pytest

from snn_core.cli import main
from snn_core.experiments import fronts
from snn_core.experiments.fronts import Box, area_test, bootstrap_ci, dominated_area, family_verdicts, shared_box
from snn_core.experiments.pareto import FAMILIES, arm_name, pareto_result, plan_pareto

BOX = Box(0.0, 2.0, 0.0, 1.0)       # log10 cost 0..2, accuracy 0..1: area 2


def test_dominated_area_of_hand_computed_fronts():
    # one point (1, 0.5): it dominates x in [1, 2], y in [0, 0.5] -> 0.5 of the box's 2
    assert dominated_area([(1.0, 0.5)], BOX) == pytest.approx(0.25)
    # a staircase: (0.5, 0.4) over [0.5, 1.5), then (1.5, 0.8) over [1.5, 2] -> 0.4 + 0.4 = 0.8 of 2
    assert dominated_area([(0.5, 0.4), (1.5, 0.8)], BOX) == pytest.approx(0.4)
    # the whole box from its cheapest corner; a point beyond the box's cost adds nothing
    assert dominated_area([(0.0, 1.0)], BOX) == pytest.approx(1.0)
    assert dominated_area([(2.5, 0.9)], BOX) == 0.0
    assert dominated_area([], BOX) == 0.0
    # accuracy above the box is clipped at its top, below its bottom (chance) adds nothing
    assert dominated_area([(1.0, 1.3)], BOX) == pytest.approx(0.5)
    assert dominated_area([(1.0, -0.2)], Box(0.0, 2.0, 0.0, 1.0)) == 0.0


def test_a_dominated_point_adds_nothing_and_a_dominating_front_is_larger():
    front = [(0.5, 0.4), (1.5, 0.8)]
    assert dominated_area(front + [(1.0, 0.3), (1.6, 0.7)], BOX) == dominated_area(front, BOX)
    better = [(0.4, 0.5), (1.4, 0.85)]              # every point cheaper and more accurate
    assert dominated_area(better, BOX) > dominated_area(front, BOX)
    test = area_test([dominated_area(front, BOX)] * 3, [dominated_area(front, BOX)] * 3)
    assert test.mean == 0.0 and (test.ci_low, test.ci_high) == (0.0, 0.0) and test.ties == 3


def test_shared_box_spans_every_point_with_a_pad():
    box = shared_box([(1.0, 0.5), (3.0, 0.9), (2.0, 0.2)], chance=0.1)
    assert (box.x_lo, box.x_hi, box.y_lo, box.y_hi) == (1.0, pytest.approx(3.0 + fronts.PAD_DECADES), 0.1, 1.0)
    with pytest.raises(ValueError, match="no points"):
        shared_box([], 0.1)
    with pytest.raises(ValueError, match="x_lo < x_hi"):
        Box(1.0, 1.0, 0.0, 1.0)
    assert fronts.log_cost(0.0) == math.log10(fronts.COST_FLOOR) and fronts.log_cost(1000.0) == 3.0


def test_bootstrap_ci_is_reproducible_with_a_seed():
    diffs = [0.031, -0.012, 0.054, 0.023, 0.041, 0.007, -0.003, 0.065, 0.018, 0.029]
    first, again = bootstrap_ci(diffs), bootstrap_ci(diffs)
    assert first == again
    assert first[0] < sum(diffs) / len(diffs) < first[1]
    assert bootstrap_ci(diffs, seed=1) != first          # another seed resamples differently
    assert bootstrap_ci([0.1]) is None and bootstrap_ci([0.2, 0.2]) == (0.2, 0.2)


def test_verdicts_on_constructed_areas_and_holm():
    outward = area_test([0.60, 0.62, 0.61, 0.63, 0.64], [0.50, 0.51, 0.50, 0.52, 0.51])
    inward = area_test([0.40, 0.41, 0.42, 0.40, 0.41], [0.50, 0.51, 0.50, 0.52, 0.51])
    along = area_test([0.500, 0.502, 0.499, 0.501, 0.500], [0.500, 0.501, 0.500, 0.500, 0.501])
    unclear = area_test([0.60, 0.40, 0.55, 0.45, 0.52], [0.50, 0.50, 0.50, 0.50, 0.50])
    judged = family_verdicts([outward, inward, along, unclear])
    assert judged[0].verdict == fronts.OUTWARD and judged[0].wins == 5
    assert judged[1].verdict == fronts.INWARD and judged[1].losses == 5
    assert judged[2].verdict.startswith(fronts.ALONG)
    assert judged[3].verdict.startswith(fronts.UNKNOWN) and "detect ±" in judged[3].verdict
    assert all(t.holm_p >= t.p_value for t in judged)          # Holm never lowers a p-value
    assert family_verdicts([area_test([0.5], [0.4])])[0].verdict.startswith(fronts.UNKNOWN + ": a bootstrap")
    with pytest.raises(ValueError, match="one of each per paired seed"):
        area_test([0.1, 0.2], [0.1])


def test_holm_can_withhold_a_shift_that_one_test_alone_would_call():
    # differences 0.03, 0.05, 0.04: t-test p = 0.020 alone, 8 x 0.020 = 0.16 as the first of 8 (Holm)
    shift = area_test([0.53, 0.55, 0.54], [0.50, 0.50, 0.50])
    alone, crowd = family_verdicts([shift])[0], family_verdicts([shift] * 8)[0]
    assert shift.p_value == pytest.approx(0.0202, abs=1e-4) and shift.ci_low > 0
    assert alone.verdict == fronts.OUTWARD
    assert crowd.holm_p == pytest.approx(8 * shift.p_value) and crowd.verdict.startswith(fronts.UNKNOWN)


def test_plan_has_paired_seeds_and_equal_trials_per_point():
    plan = plan_pareto(["asa-lambda", "threshold"], [0, 1, 2], 2, {"epochs": 1})
    points = plan.points
    assert len(points) == len(FAMILIES["asa-lambda"].values) + len(FAMILIES["threshold"].values)
    assert {len(plan.tuning.points[arm.name]) for arm in plan.tuning.arms} == {2}
    assert not set(plan.tuning.seeds) & {0, 1, 2}
    tuned = plan.tuning.result(_fake_slots(plan.tuning.configs))
    configs = plan.report_configs(tuned)
    assert len(configs) == len(points) * 3
    for index, seed in enumerate([0, 1, 2] * len(points)):
        assert configs[index].training.seed == seed and configs[index].training.epochs == 1
    family, value = points[0]
    assert configs[0].methods.asa_lambda == value and configs[0].methods.asa == "clean"
    assert tuned[arm_name(family, value)].point["lr"] in FAMILIES["asa-lambda"].space["lr"]
    with pytest.raises(ValueError, match="families \\['nope'\\] are not valid; allowed"):
        plan_pareto(["nope"], [0], 1)
    with pytest.raises(ValueError, match="also report"):
        plan_pareto(["threshold"], [100], 1)


def _fake_slots(configs, accuracy=lambda cfg: 0.5, energy=lambda cfg: 1000.0):
    """Finished slots (no training: the bookkeeping only): validation accuracy = lr, so the tuner picks the
    largest; test accuracy and energy (all of it synaptic operations at 1 pJ each) as the callables say."""
    from snn_core.metrics.cost import CostMetrics, EnergyModel, LayerCost
    from snn_core.results.run_result import Metrics, RunResult

    def metrics(cfg):
        cost = CostMetrics({"fc1": LayerCost(energy(cfg), 0.0, 1e6)}, EnergyModel(1.0, 4.6))
        return Metrics(accuracy(cfg), 1.0, cfg.training.lr, 0.1, 10.0, 0.0, 1.0, None,  # type: ignore[arg-type]
                       cost=cost)
    return [RunResult(cfg, (), metrics(cfg), cached=False) for cfg in configs]


def test_result_reads_fronts_and_tests_a_dominating_family_as_outward():
    plan = plan_pareto(["asa-gate", "threshold"], [0, 1, 2], 1)
    tuning = _fake_slots(plan.tuning.configs)
    configs = plan.report_configs(plan.tuning.result(tuning))

    def gated(cfg):
        return cfg.methods.asa == "constant"

    def accuracy(cfg):       # gate g: 0.69..0.87 at 300..900 pJ; threshold V: 0.49..0.62 at 833..3333 pJ
        knob = cfg.methods.asa_constant_gate if gated(cfg) else 1 / cfg.neuron.threshold
        return 0.01 * cfg.training.seed + (0.6 + 0.3 * knob if gated(cfg) else 0.45 + 0.05 * knob)

    def energy(cfg):
        return 1000.0 * (cfg.methods.asa_constant_gate if gated(cfg) else 1 / cfg.neuron.threshold)
    slots = _fake_slots(configs, accuracy, energy)
    slots[0] = None                                   # a run not finished yet
    study = pareto_result(plan, tuning, slots)
    gate = study.front("asa-gate")
    assert study.unfinished_runs == 1 and study.failed_runs == 0
    assert [run.seed for run in gate.points[0].runs] == [1, 2] and len(gate.points[1].runs) == 3
    assert gate.points[0].chosen == {"lr": 0.003}            # one trial: the point's own starting lr
    assert gate.points[1].stat("energy_pj").mean == pytest.approx(600.0)
    assert [p.value for p in gate.efficient("energy")] == [0.3, 0.6, 0.9]      # each costlier one more accurate
    energy_test = next(c for c in study.comparisons if c.axis == "energy")
    assert (energy_test.method, energy_test.control) == ("asa-gate", "threshold")
    assert energy_test.seeds == (0, 1, 2) and energy_test.test.wins == 3
    assert energy_test.test.ci_low > 0 and energy_test.test.verdict == fronts.OUTWARD
    assert json.loads(json.dumps(study.to_json()))["comparisons"][0]["box"]["y_lo"] == 0.1     # digits: chance 1/10


def test_efficient_keeps_only_the_front_of_the_means():
    plan = plan_pareto(["threshold"], [0, 1], 1)
    tuning = _fake_slots(plan.tuning.configs)
    configs = plan.report_configs(plan.tuning.result(tuning))
    # threshold 0.3: cheap and accurate; 0.6: costlier and worse (dominated); 1.2: cheapest, least accurate
    table = {0.3: (0.8, 500.0), 0.6: (0.7, 900.0), 1.2: (0.6, 100.0)}
    slots = _fake_slots(configs, lambda cfg: table[cfg.neuron.threshold][0], lambda cfg: table[cfg.neuron.threshold][1])
    front = pareto_result(plan, tuning, slots).front("threshold")
    assert [point.value for point in front.efficient("energy")] == [1.2, 0.3]


def test_pareto_command_end_to_end(tmp_path, capsys):
    out = tmp_path / "fronts.json"
    code = main(["pareto", "--family", "asa-gate,threshold", "--seeds", "2", "--trials", "1", "--base",
                 "train-samples=64 test-samples=40 epochs=1", "--cache", str(tmp_path / "cache"), "--out", str(out),
                 "--quiet"])
    assert code == 0
    study = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == study
    assert study["seeds"] == [0, 1] and study["trials_per_point"] == 1
    assert [front["family"] for front in study["fronts"]] == ["asa-gate", "threshold"]
    point = study["fronts"][0]["points"][0]
    assert [run["seed"] for run in point["runs"]] == [0, 1] and point["energy_pj"]["mean"] > 0
    assert {(c["method"], c["control"], c["axis"]) for c in study["comparisons"]} == {
        ("asa-gate", "threshold", "energy"), ("asa-gate", "threshold", "sops")}
    assert all(0 <= area <= 1 for c in study["comparisons"] for area in c["method_area"] + c["control_area"])
    assert all(c["verdict"] for c in study["comparisons"])


@pytest.mark.parametrize("args, needle", [
    (["--family", "nope"], "families ['nope'] are not valid"),
    (["--base", "nope=1"], "--base: unknown option 'nope'"),
    (["--trials", "0"], "--trials 0 is not valid"),
    (["--family", "asa-gate", "--trials", "9"], "budget is 9 trials"),
])
def test_pareto_command_refuses_bad_input_in_one_line(args, needle, capsys):
    assert main(["pareto", *args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_report_tables_mark_the_front_and_state_each_verdict():
    from snn_core.report.pareto import LEFT_OUT, comparison_table, front_tables, verdict_lines

    plan = plan_pareto(["asa-gate", "threshold"], [0, 1], 1)
    tuning = _fake_slots(plan.tuning.configs)
    table = {0.3: (0.8, 500.0), 0.6: (0.7, 900.0), 1.2: (0.6, 100.0)}        # threshold 0.6 is dominated
    slots = _fake_slots(plan.report_configs(plan.tuning.result(tuning)),
                        lambda cfg: table[cfg.neuron.threshold][0] if cfg.methods.asa == "off" else 0.5,
                        lambda cfg: table[cfg.neuron.threshold][1] if cfg.methods.asa == "off" else 2000.0)
    study = pareto_result(plan, tuning, slots)
    rows = front_tables(study)
    threshold_rows = {row.split(" | ")[1]: row for row in rows if row.startswith("| threshold")}
    assert threshold_rows["threshold 0.6"].endswith("|  |") and threshold_rows["threshold 0.3"].endswith("| ✓ |")
    assert "| 80.0 [80.0, 80.0] | 0.5 [0.5, 0.5] |" in threshold_rows["threshold 0.3"]      # %, nJ
    energy = [c for c in study.comparisons if c.axis == "energy"]
    lines = comparison_table(energy)
    assert len(lines) == 3 and lines[2].startswith("| asa-gate − threshold | 2 |") and "0/2" in lines[2]
    sentence = verdict_lines(study, energy)[0]
    assert sentence.startswith("- **asa-gate** against its control **threshold**")
    assert "its points span ×1.00 in cost against the control's ×9.00" in sentence   # 2000 each; 100..900 pJ
    assert "memory access" in LEFT_OUT
