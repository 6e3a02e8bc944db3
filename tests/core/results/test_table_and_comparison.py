"""The runs' table (columns by CLI name and dotted metric names), the statistics taken on it (equal to the paired
statistics of the runs' own numbers), and Comparison/Sweep JSON: today's round-trips, older layouts load."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from snn_core.config.run_config import cli_index
from snn_core.experiments.compare import paired_table, summary_table
from snn_core.experiments.slots import failed_slot
from snn_core.experiments.stats import mean_ci, paired
from snn_core.results import Comparison, MeanCI, PairedStat, RunResult, Sweep, numeric_metrics, results_table

HERE = Path(__file__).parent


def tree_of(path: Path) -> dict:
    return json.loads(path.read_text())


COMPARISON = Comparison.from_json(tree_of(HERE / "current" / "compare.json"))
BASES = [pair.base for pair in COMPARISON.per_seed]
VARIANTS = [pair.variant for pair in COMPARISON.per_seed]


def test_one_row_per_run_with_config_by_cli_name_then_dotted_metrics_then_error_and_cached():
    runs = [*BASES, failed_slot(BASES[0].config, RuntimeError("boom"))]
    table = results_table(runs)
    assert len(table) == 3 and list(table.columns[:len(cli_index())]) == list(cli_index())
    assert list(table.columns[-2:]) == ["error", "cached"]
    assert table["seed"].tolist() == [0, 1, 0] and table["T"].tolist() == [3, 3, 3]
    flat = numeric_metrics(BASES[1].metrics.to_json())
    assert "layer_firing_rates.fc1" in flat and "redundancy" not in table.columns
    assert {name: table.loc[1, name] for name in flat} == flat                   # numeric_metrics' names and values
    assert math.isnan(table.loc[2, "test_accuracy"]) and table.loc[2, "error"] == "RuntimeError: boom"
    assert table["cached"].tolist() == [False, False, False]


def test_no_metric_column_shadows_a_config_column():
    names = set(numeric_metrics(RunResult.from_json(tree_of(HERE / "current" / "train_digits.json"))
                                .metrics.to_json()))
    names |= set(numeric_metrics(RunResult.from_json(tree_of(HERE / "current" / "train_conv_first_spike.json"))
                                 .metrics.to_json()))
    assert not names & set(cli_index())


def test_an_empty_table_still_has_its_columns():
    table = results_table([])
    assert len(table) == 0 and "seed" in table.columns and "error" in table.columns


def test_statistics_on_the_table_equal_those_of_each_runs_own_numbers():
    """The table route (columns) against the route before it (each run's metrics flattened, paired by position)."""
    flats = [(numeric_metrics(b.metrics.to_json()), numeric_metrics(v.metrics.to_json())) for b, v in
             zip(BASES, VARIANTS)]
    table = paired_table(BASES, VARIANTS)
    assert list(table) == list(flats[0][0])
    for name, stat in table.items():
        expected = paired([b[name] for b, _ in flats], [v[name] for _, v in flats])
        assert stat == PairedStat.from_json(expected) and stat.to_json() == expected, name
    summary = summary_table(BASES)
    assert summary["test_accuracy"] == MeanCI.from_json(mean_ci([flat["test_accuracy"] for flat, _ in flats]))
    assert summary["test_accuracy"].n == 2 and summary["test_accuracy"].mean == pytest.approx(
        sum(run.metrics.test_accuracy for run in BASES) / 2)


def test_the_stored_comparisons_statistics_are_recomputed_from_its_runs():
    assert paired_table(BASES, VARIANTS).keys() == COMPARISON.paired.keys()
    for name, stat in paired_table(BASES, VARIANTS).items():
        stored = COMPARISON.paired[name]
        assert (stat.n, stat.wins, stat.losses, stat.ties) == (stored.n, stored.wins, stored.losses, stored.ties)
        assert stat.mean == stored.mean and stat.ci_low == pytest.approx(stored.ci_low, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("kind", "name"), [(Comparison, "compare.json"), (Sweep, "sweep.json")])
def test_todays_comparison_and_sweep_json_round_trip(kind, name):
    tree = tree_of(HERE / "current" / name)
    record = kind.from_json(tree)
    assert json.loads(json.dumps(record.to_json())) == tree
    assert kind.from_json(record.to_json()) == record


@pytest.mark.parametrize(("kind", "name"), [(Comparison, "compare_703a3de.json"), (Sweep, "sweep_703a3de.json"),
                                            (Comparison, "compare_2ef193e.json"), (Sweep, "sweep_2ef193e.json"),
                                            (Comparison, "compare_issue26.json"), (Sweep, "sweep_issue26.json")])
def test_a_comparison_and_a_sweep_from_before_unfinished_runs_or_p_values_load(kind, name):
    record = kind.from_json(tree_of(HERE / "old" / name))
    assert record.unfinished_runs == 0 and record.failed_runs == 0
    assert kind.from_json(record.to_json()) == record


def test_a_sweeps_runs_carry_the_points_value_and_their_seed():
    sweep = Sweep.from_json(tree_of(HERE / "current" / "sweep.json"))
    assert sweep.parameter == "hidden" and [point.value for point in sweep.points] == [[4], [8]]
    assert [[run.config.model.hidden for run in point.runs] for point in sweep.points] == [[(4,), (4,)], [(8,), (8,)]]
    assert [run.seed for run in sweep.points[1].runs] == list(sweep.seeds)
    assert sweep.points[1].paired_vs_first["test_accuracy"].n == 2


def test_an_interrupted_comparison_keeps_its_unfinished_list():
    stopped = replace(COMPARISON, unfinished=({"seed": 1, "arm": "variant"},))
    tree = stopped.to_json()
    assert tree["interrupted"] is True and tree["unfinished"] == [{"seed": 1, "arm": "variant"}]
    assert Comparison.from_json(tree) == stopped


def test_the_arms_config_is_the_comparisons_with_the_seed():
    assert [run.config for run in BASES] == [COMPARISON.base.with_values({"seed": seed}) for seed in COMPARISON.seeds]
    assert VARIANTS[0].config.data.time_steps == 2


@pytest.mark.parametrize(("change", "needle"), [
    (lambda t: t.pop("paired"), "comparison lacks paired"),
    (lambda t: t["paired"]["test_accuracy"].update(n="2"), "comparison.paired.test_accuracy.n is a string"),
    (lambda t: t["per_seed"][0]["base"].update(history="x"), "comparison.per_seed[0].base.history is a string"),
    (lambda t: t["summary"].pop("variant"), "comparison.summary lacks variant"),
    (lambda t: t.update(interrupted="yes"), "comparison.interrupted is not true"),
])
def test_a_broken_comparison_is_a_value_error_naming_where(change, needle):
    tree = tree_of(HERE / "current" / "compare.json")
    change(tree)
    with pytest.raises(ValueError) as problem:
        Comparison.from_json(tree)
    assert needle in str(problem.value)


def test_a_sweep_of_an_unknown_option_is_refused():
    tree = tree_of(HERE / "current" / "sweep.json")
    tree["parameter"] = "depth"
    with pytest.raises(ValueError, match="sweep.parameter 'depth' is not an option"):
        Sweep.from_json(tree)
