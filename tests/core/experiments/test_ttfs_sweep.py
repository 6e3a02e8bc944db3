"""The TTFS page's K-sweep statistics (snn_core.experiments.ttfs_sweep): known answers on a hand-made sweep."""
import pytest

from snn_core.config.run_config import RunConfig
from snn_core.experiments.compare import summary_table
from snn_core.experiments.ttfs_sweep import k_label, k_sweep_stats, robustness_column
from snn_core.metrics.decisions import DecisionMetrics
from snn_core.results import LayerActivity, Metrics, RobustnessCurve, RunResult, Sweep, SweepPoint
from snn_core.training.trainer import EpochRecord

TRADEOFF = ("test_accuracy", "spikes_per_sample", "decision_step_mean")


def epoch(number, accuracy):
    return EpochRecord(epoch=number, steps=10 * number, train_loss=1.0, train_accuracy=accuracy, test_loss=1.0,
                       test_accuracy=accuracy, nasfr=0.1, spikes_per_sample=50.0, train_seconds=1.0,
                       layer_firing_rates={})


def run(k, seed, accuracy, *, silent=None, tcut=None, step=None, jitter=None, history=(0.5,), spikes=100.0):
    """A finished run at cap ``k``: decision metrics when ``tcut`` is given, a jitter curve when ``jitter`` is."""
    layers = LayerActivity(firing_rates={}, firing_rates_per_step={}, spikes_per_sample={},
                           silent_fraction=silent or {"fc1": 0.0}, neurons={})
    metrics = Metrics(test_accuracy=accuracy, test_loss=1.0, validation_accuracy=None, nasfr=0.1,
                      spikes_per_sample=spikes, silent_fraction=0.0, wall_seconds=1.0, layers=layers,
                      decision=None if tcut is None else DecisionMetrics(step, step, 0.0, list(tcut)),
                      robustness=None if jitter is None else
                      {"jitter": RobustnessCurve(tuple(jitter), tuple(jitter.values()))})
    return RunResult(config(k, seed), tuple(epoch(i + 1, a) for i, a in enumerate(history)), metrics)


def config(k, seed):
    return RunConfig().with_values({"max-spikes": k, "seed": seed})


def failed(k, seed):
    return RunResult(config(k, seed), error="ValueError: x")


def sweep(*points):
    """A sweep over max-spikes of ``(k, runs)`` points on seeds 0..2 (summaries left empty: not read here)."""
    return Sweep(RunConfig(), "max-spikes", tuple(k for k, _ in points), (0, 1, 2),
                 tuple(SweepPoint(k, tuple(runs), {}, {}) for k, runs in points),
                 failed_runs=sum(not r.ok for _, runs in points for r in runs), unfinished_runs=0)


@pytest.fixture
def two_ends():
    """K = 1 on two good seeds and a failed one (left out everywhere), K = ∞ on one seed."""
    return sweep((1, [run(1, 0, 0.8, silent={"fc1": 0.5, "out": 0.0}, tcut=[0.1, 0.8], step=2.0,
                          jitter={"4": 0.2, "1": 0.6}, history=(0.4, 0.8)),
                      run(1, 1, 0.6, silent={"fc1": 0.25, "out": 0.0}, tcut=[0.3, 0.6], step=None,
                          jitter={"1": 0.4, "4": 0.0}, history=(0.2, 0.6)),
                      failed(1, 2)]),
                 (0, [run(0, 0, 0.9, silent={"fc1": 0.0, "out": 0.1}, tcut=[0.5, 0.9, 0.9], step=1.0,
                          jitter={"4": 0.5, "1": 0.7})]))


def test_k_labels_name_the_unlimited_cap_infinity():
    assert [k_label(k) for k in (1, 5, 0, "3")] == ["1", "5", "∞", "3"]


def test_trade_off_metrics_average_the_successful_runs_per_k_with_a_student_t_interval(two_ends):
    stats = k_sweep_stats(two_ends, TRADEOFF)
    accuracy = stats.tradeoff["test_accuracy"]
    assert list(accuracy) == ["1", "∞"]
    assert (accuracy["1"].mean, accuracy["1"].n) == (pytest.approx(0.7), 2)
    half = 12.7062047 * 0.1414213562 / 1.4142135624                 # t(0.975, 1) sd / sqrt(2)
    assert (accuracy["1"].ci_low, accuracy["1"].ci_high) == (pytest.approx(0.7 - half), pytest.approx(0.7 + half))
    assert (accuracy["∞"].mean, accuracy["∞"].ci_low, accuracy["∞"].n) == (pytest.approx(0.9), None, 1)
    step = stats.tradeoff["decision_step_mean"]["1"]                 # the undecided run (None) is left out
    assert (step.mean, step.n) == (pytest.approx(2.0), 1)


def test_where_every_run_reports_a_metric_its_statistic_is_the_sweeps_own_summary(two_ends):
    stats = k_sweep_stats(two_ends, TRADEOFF)
    for point in two_ends.points:
        summary = summary_table(point.runs)
        for column in ("test_accuracy", "spikes_per_sample", robustness_column("jitter", "4")):
            assert stats.tradeoff[column][k_label(point.value)] == summary[column]


def test_the_middle_jitter_level_joins_the_trade_off_last(two_ends):
    stats = k_sweep_stats(two_ends, TRADEOFF)
    assert stats.jitter_level == "4"                                  # levels 1, 4: the middle is index 1
    assert list(stats.tradeoff) == [*TRADEOFF, "robustness.jitter.4"]
    assert stats.tradeoff["robustness.jitter.4"]["1"].mean == pytest.approx(0.1)


def test_curves_per_k_are_as_long_as_the_shortest_run(two_ends):
    stats = k_sweep_stats(two_ends, TRADEOFF)
    assert list(stats.tcut) == ["1", "∞"] and stats.tcut["1"].x == (1, 2) and stats.tcut["∞"].x == (1, 2, 3)
    assert [s.mean for s in stats.tcut["1"].stats] == pytest.approx([0.2, 0.7])
    assert stats.epochs["1"].x == (1, 2) and [s.mean for s in stats.epochs["1"].stats] == pytest.approx([0.3, 0.7])
    assert [s.mean for s in stats.epochs["∞"].stats] == pytest.approx([0.5])


def test_robustness_puts_the_clean_accuracy_at_level_zero_then_the_levels_in_order(two_ends):
    curves = k_sweep_stats(two_ends, TRADEOFF).robustness
    assert list(curves) == ["jitter"] and list(curves["jitter"]) == ["1", "∞"]
    levels, stats = curves["jitter"]["1"]
    assert levels == (0.0, 1.0, 4.0) and [s.mean for s in stats] == pytest.approx([0.7, 0.5, 0.1])


def test_silent_fraction_per_layer_and_k(two_ends):
    silent = k_sweep_stats(two_ends, TRADEOFF).silent
    assert list(silent) == ["1", "∞"] and list(silent["1"]) == ["fc1", "out"]
    assert silent["1"]["fc1"].mean == pytest.approx(0.375) and silent["∞"]["out"].mean == pytest.approx(0.1)


def test_a_rate_readout_without_robustness_and_a_k_with_no_finished_run_leave_their_panels_out():
    stats = k_sweep_stats(sweep((1, [run(1, 0, 0.5), run(1, 1, 0.7)]), (2, [failed(2, 0)]), (0, [])), TRADEOFF)
    assert list(stats.tradeoff) == ["test_accuracy", "spikes_per_sample"]   # no decision metrics, no jitter level
    assert stats.tradeoff["test_accuracy"]["2"].mean is None and stats.tradeoff["test_accuracy"]["∞"].n == 0
    assert stats.jitter_level is None and stats.robustness == {} and stats.tcut == {}
    assert list(stats.silent) == list(stats.epochs) == ["1"]
