"""The exact-engine TTFS part: each arm tuned over its own settings with the same budget, Fast & Deep's point
tried under the full profile, and the tuning table read back."""
from __future__ import annotations

import pytest

from snn_core.experiments.tuning import plan_tuning, tune
from snn_core.report import ttfs, ttfs_exact
from snn_core.report.budget import BUDGETS


@pytest.mark.parametrize("budget", list(BUDGETS.values()), ids=list(BUDGETS))
def test_every_profile_gives_both_arms_of_both_tables_the_same_number_of_trials(budget):
    for base, arms in ((ttfs_exact.EXACT_BASE, list(ttfs_exact.ARMS)),
                       (ttfs.TTFS_BASE, list(ttfs.ARMS))):
        plan = plan_tuning(base, arms, budget.trials, report_seeds=range(budget.min_seeds))
        assert [len(points) for points in plan.points.values()] == [budget.trials] * 2


def test_every_profile_tries_fast_and_deeps_point_first_and_each_arm_its_preset():
    for budget in BUDGETS.values():
        plan = plan_tuning(ttfs_exact.EXACT_BASE, list(ttfs_exact.ARMS), budget.trials,
                           report_seeds=range(budget.min_seeds))
        assert ttfs_exact.FAST_AND_DEEP_POINT == {"lr": 3e-3, "threshold": 0.5, "tau-loss": 0.8,
                                                  "first-spike-reg": 0.005}
        assert plan.points["TTFS"][0] == ttfs_exact.FAST_AND_DEEP_POINT
        assert plan.points["relaxed"][0] == {"lr": 3e-3, "threshold": 0.5}
        discrete = plan_tuning(ttfs.TTFS_BASE, list(ttfs.ARMS), budget.trials).points
        preset = {"lr": 1e-2, "threshold": 1.0, "tau-loss": 4.0, "first-spike-reg": 0.0}     # TTFS_PRESET
        assert discrete["TTFS"][0] == discrete["relaxed"][0] == preset


def test_relaxed_reads_spike_counts_without_the_first_spike_knobs():
    assert not {"tau-loss", "first-spike-reg"} & set(ttfs_exact.RELAXED_ARM.space)
    cfg = ttfs_exact.EXACT_BASE.with_values({**ttfs_exact.RELAXED_ARM.changes})
    assert cfg.model.readout == "count" and cfg.model.first_spike_reg == 0 and cfg.neuron.max_spikes == 10


def test_tuning_lines_list_every_trial_and_say_whether_fast_and_deep_was_tried():
    tiny = ttfs_exact.EXACT_BASE.with_values({"T": 6, "latency-window": 4, "hidden": "8", "epochs": 1,
                                              "train-samples": 60, "test-samples": 30, "tau-syn": 2})
    tuned = tune(tiny, list(ttfs_exact.ARMS), 1, report_seeds=[0])
    lines = ttfs_exact.tuning_lines(tuned)
    assert sum(line.startswith("| TTFS | lr 0") for line in lines) == 1
    assert sum(line.startswith("| relaxed | lr 0") for line in lines) == 1
    point = tuned["TTFS"].point
    assert lines[-1].endswith("one of TTFS's trials." if point == ttfs_exact.FAST_AND_DEEP_POINT
                              else "**not** among TTFS's trials at this budget.")
    assert tuned["TTFS"].config.training.seed == tiny.training.seed and tuned["TTFS"].config.model.engine == "exact"
