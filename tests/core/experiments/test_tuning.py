"""Choosing settings reads validation accuracy, never test accuracy, with the same budget for every arm; and the
convergence test of a run's validation history."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from snn_core.config.run_config import RunConfig
from snn_core.experiments.convergence import converged, convergence_note
from snn_core.experiments.tuning import (
    TUNE_SEED,
    Arm,
    budget_points,
    pick_by_validation,
    pick_for_all,
    plan_tuning,
    tune,
    tuning_table,
    validation_scores,
)
from snn_core.results import RunResult

STORED = RunResult.from_json(json.loads(
    (Path(__file__).parents[1] / "results" / "current" / "train_digits.json").read_text()))


def slot(validation: float | None, test: float, error: str | None = None) -> RunResult:
    if error:
        return RunResult(STORED.config, cached=False, error=error)
    return replace(STORED, metrics=replace(STORED.metrics, validation_accuracy=validation, test_accuracy=test),
                   cached=False)


def test_pick_reads_validation_never_test():
    slots = [slot(0.80, 0.95), slot(0.90, 0.70), slot(0.90, 0.99), slot(None, 1.0, "ValueError: boom")]
    assert validation_scores(slots) == [0.80, 0.90, 0.90, None]
    assert pick_by_validation(slots) == 1                         # best validation, first of a tie; test ignored
    with pytest.raises(ValueError, match="no tuning run reported a validation accuracy; allowed: .*--validation"):
        pick_by_validation([slot(None, 0.9), slot(None, 0.5, "RuntimeError: x")])


def test_a_shared_point_is_the_one_whose_worst_arm_is_best():
    first = [slot(0.95, 0.5), slot(0.90, 0.5), slot(0.99, 0.99)]
    second = [slot(0.60, 0.99), slot(0.88, 0.5), slot(None, 0.99, "RuntimeError: diverged")]
    assert pick_for_all([first, second]) == 1          # min 0.60, 0.88, out (failed): point 1
    assert pick_for_all([first]) == 2


def test_the_ttfs_preset_search_marks_the_point_its_worse_arm_validates_best(monkeypatch, tiny):
    from snn_core.experiments import ttfs_preset_search as search_module
    small = tiny(encoding="latency", T=6, **{"latency-window": 4, "neuron": "cuba", "readout": "first-spike",
                                            "train-samples": 80})
    monkeypatch.setattr(search_module, "ttfs_config", lambda **changes: small.with_values(changes))
    grid = ({"tau-syn": 2.0, "lr": 1e-3}, {"tau-syn": 4.0, "lr": 3e-2})
    monkeypatch.setattr(search_module, "GRID", grid)
    chosen, lines = search_module.search()
    rows = [line for line in lines if line.startswith("| 2 ") or line.startswith("| 4 ")]
    assert len(rows) == 2 and sum(row.endswith("| yes |") for row in rows) == 1
    worse = [min(float(cell.rstrip("%")) for cell in row.split(" | ")[2:4]) for row in rows]
    assert chosen == grid[max(range(2), key=lambda i: (worse[i], -i))]


# ---- the tuner with an equal budget per arm (Arm, plan_tuning, tune, tuning_table) ------------------------------

OFF = Arm("off", {}, {"lr": [1e-3, 3e-3], "threshold": [0.5, 1.0]})                     # a grid of 4
ON = Arm("on", {"max-spikes": 1}, {"lr": [1e-3, 3e-3, 1e-2], "threshold": [0.5, 1.0]})  # a grid of 6


def test_every_arm_gets_the_same_number_of_trials_whatever_its_grid():
    assert budget_points(OFF, 4) == [{"lr": 1e-3, "threshold": 0.5}, {"lr": 1e-3, "threshold": 1.0},
                                     {"lr": 3e-3, "threshold": 0.5}, {"lr": 3e-3, "threshold": 1.0}]   # whole grid
    drawn = budget_points(ON, 4)
    assert len(drawn) == 4 and len({tuple(point.items()) for point in drawn}) == 4
    assert drawn == budget_points(ON, 4)                               # the same draw every time (sample_seed 0)
    plan = plan_tuning(RunConfig(), [OFF, ON], 3, seeds=(100, 101), report_seeds=range(10))
    assert {name: len(points) for name, points in plan.points.items()} == {"off": 3, "on": 3}
    assert len(plan.configs) == 2 * 3 * 2                              # arms x trials x tuning seeds
    assert [cfg.training.seed for cfg in plan.configs[:2]] == [100, 101]
    assert {cfg.neuron.max_spikes for cfg in plan.configs[6:]} == {1}   # the arm's own change on each of its points
    assert plan.configs[0].training.lr == plan.points["off"][0]["lr"]


def test_an_arms_starting_point_is_always_one_of_its_trials():
    start = {"lr": 1e-2, "threshold": 1.0}
    for trials in (1, 2, 3):
        points = budget_points(ON, trials, start=start)
        assert points[0] == start and len(points) == trials and start not in points[1:]
    assert budget_points(ON, 2, start={"lr": 5.0, "threshold": 1.0})[0] != {"lr": 5.0, "threshold": 1.0}   # off grid
    base = RunConfig().with_values({"lr": 1e-2})
    plan = plan_tuning(base, [ON], 2, report_seeds=range(3))            # the base's lr and threshold (1.0) come first
    assert plan.points["on"][0] == {"lr": 1e-2, "threshold": 1.0}


def test_a_budget_the_smaller_space_cannot_fill_is_refused_for_every_arm():
    with pytest.raises(ValueError, match=r"arm 'off' has 4 setting\(s\) to try \(lr in \{0.001, 0.003\}; threshold "
                                         r"in \{0.5, 1\}\) but the budget is 5 trials per arm"):
        plan_tuning(RunConfig(), [OFF, ON], 5)
    for trials in (0, 1.5, True):
        with pytest.raises(ValueError, match="allowed: an integer >= 1 \\(the same for every arm\\)"):
            budget_points(OFF, trials)


@pytest.mark.parametrize("kwargs,message", [
    ({"seeds": (0,), "report_seeds": range(5)}, r"tuning seed\(s\) \[0\] also report; allowed: tuning seeds apart"),
    ({"seeds": ()}, r"tuning seeds=\[\] are not valid; allowed: 1 or more distinct integers"),
    ({"seeds": (100, 100)}, "allowed: 1 or more distinct integers"),
])
def test_tuning_seeds_must_be_apart_from_the_reported_ones(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plan_tuning(RunConfig(), [OFF], 2, **kwargs)


def test_arms_and_their_points_are_checked_before_anything_trains():
    with pytest.raises(ValueError, match=r"arms \['off', 'off'\] are not valid; allowed: 1 or more arms with distinct"):
        plan_tuning(RunConfig(), [OFF, OFF], 2)
    with pytest.raises(ValueError, match=r"arm 'x' tunes unknown setting\(s\) \['colour'\]; allowed: CLI option"):
        plan_tuning(RunConfig(), [Arm("x", space={"colour": ["red", "blue"]})], 2)
    with pytest.raises(ValueError, match=r"arm 'conv' at \{'lr': 0.001\}: .*asa"):
        plan_tuning(RunConfig(), [Arm("conv", {"asa": "clean"}, {"lr": [1e-3, 3e-3]})], 2)    # asa needs conv layers


def test_each_arm_keeps_the_point_with_the_best_mean_validation_never_test():
    plan = plan_tuning(RunConfig(), [OFF, ON], 2, seeds=(100, 101))
    slots = [slot(0.8, 0.99), slot(0.8, 0.99), slot(0.9, 0.1), slot(0.7, 0.1),        # off: means 0.80, 0.80
             slot(0.6, 0.9), slot(None, 0.9, "RuntimeError: diverged"), slot(0.5, 0.1), slot(0.55, 0.1)]  # on
    tuned = plan.result(slots)
    assert tuned["off"].point == plan.points["off"][0] and tuned["off"].score == pytest.approx(0.8)   # first of a tie
    assert tuned["on"].point == plan.points["on"][1] and tuned["on"].score == pytest.approx(0.525)    # a failed run
    assert tuned["on"].trials[0].score is None                                         # leaves its point out
    assert tuned["on"].config == RunConfig().with_values({"max-spikes": 1, **plan.points["on"][1]})
    table = tuning_table(tuned)
    assert table[:2] == ["| arm | tuned over | trials | chosen | validation accuracy (tuning seeds) |",
                         "|---|---|---|---|---|"]
    point = plan.points["off"][0]
    assert table[2] == (f"| off | lr in {{0.001, 0.003}}; threshold in {{0.5, 1}} | 2 | lr {point['lr']:g}, "
                        f"threshold {point['threshold']:g} | 80.0% |")
    with pytest.raises(ValueError, match=r"3 slots for 8 tuning runs; allowed: one per run"):
        plan.result(slots[:3])
    with pytest.raises(ValueError, match=r"arm 'on': no tuning run reported a validation accuracy"):
        plan.result(slots[:4] + [slot(None, 0.9)] * 4)


def test_tune_trains_every_arm_on_the_tuning_seed_and_reads_validation(tiny):
    base = tiny(**{"train-samples": 80})
    arms = [Arm("slow", {}, {"lr": [1e-4, 3e-3]}), Arm("one spike", {"max-spikes": 1}, {"lr": [1e-4, 3e-3]})]
    seen = []
    tuned = tune(base, arms, 2, report_seeds=[0, 1], progress=lambda done, total, run: seen.append(run.config))
    assert len(seen) == 4 and {cfg.training.seed for cfg in seen} == {TUNE_SEED}
    for arm in tuned.values():
        scores = [trial.score for trial in arm.trials]
        assert arm.score == max(scores) and arm.point == arm.trials[scores.index(max(scores))].point
        assert arm.config.training.seed == base.training.seed          # the chosen config reports on its own seeds
    assert tuned["one spike"].config.neuron.max_spikes == 1


# ---- convergence: validation flat over the last k epochs ---------------------------------------------------------

def history_of(validations: list[float | None]) -> RunResult:
    records = [replace(STORED.history[0], epoch=epoch, validation_accuracy=value)
               for epoch, value in enumerate(validations, 1)]
    return replace(STORED, history=tuple(records))


def test_a_run_converged_when_its_last_epochs_add_at_most_the_tolerance():
    assert converged(history_of([0.5, 0.8, 0.85, 0.855, 0.858, 0.852])) is True    # +0.008 over the last 3
    assert converged(history_of([0.5, 0.6, 0.7, 0.8, 0.85, 0.9])) is False          # +0.2: still climbing
    assert converged(history_of([0.5, 0.6, 0.7, 0.8]), window=2, tolerance=0.25) is True
    assert converged(history_of([0.5, 0.6, 0.7])) is None                           # nothing before the window
    assert converged(history_of([0.5, None, 0.7, 0.7, 0.7])) is None                # no validation split
    assert converged(RunResult(STORED.config, cached=False, error="RuntimeError: x")) is None
    with pytest.raises(ValueError, match="allowed: window >= 1, tolerance >= 0"):
        converged(STORED, window=0)


def test_the_convergence_note_counts_the_runs_it_could_judge():
    runs = [history_of([0.5, 0.8, 0.8, 0.8, 0.8]), history_of([0.1, 0.2, 0.3, 0.4, 0.5]), history_of([0.5])]
    assert convergence_note(runs) == "converged in 1 of 2 runs"
    assert convergence_note(runs[2:]) == "convergence not judged (no validation history)"
