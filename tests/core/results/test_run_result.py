"""RunResult: today's JSON round-trips exactly, every older layout the project wrote loads, garbage is refused."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from snn_core.experiments.slots import failed_slot
from snn_core.results import RunResult
from snn_core.results.json_tree import valid_json

HERE = Path(__file__).parent
CURRENT = sorted((HERE / "current").glob("train_*.json"))
OLD = sorted((HERE / "old").glob("train_*.json"))
DIGITS = HERE / "current" / "train_digits.json"


def tree_of(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.mark.parametrize("path", CURRENT, ids=lambda path: path.stem)
def test_todays_json_round_trips_key_for_key_and_value_for_value(path):
    tree = tree_of(path)
    result = RunResult.from_json(tree)
    assert json.loads(json.dumps(result.to_json())) == tree
    assert list(result.to_json()) == list(tree) and list(result.to_json()["metrics"]) == list(tree["metrics"])
    assert RunResult.from_json(result.to_json()) == result


def test_a_fresh_run_round_trips(tiny):
    from snn_core.experiments.run import train_run
    result = train_run(tiny(T=2, hidden=8, epochs=1), device="cpu")
    assert RunResult.from_json(json.loads(json.dumps(result.to_json()))) == result
    assert result.metrics.robustness["jitter"].levels[0] == "0" and result.metrics.redundancy is None


def test_the_typed_fields_hold_what_the_json_holds():
    conv = RunResult.from_json(tree_of(HERE / "current" / "train_conv_first_spike.json"))
    tree = tree_of(HERE / "current" / "train_conv_first_spike.json")
    assert conv.metrics.test_accuracy == tree["metrics"]["test_accuracy"]
    assert conv.metrics.redundancy.overall.noise_channels == tree["metrics"]["noise_channels"]
    assert conv.metrics.decision.accuracy_vs_tcut == tree["metrics"]["accuracy_vs_tcut"]
    assert conv.metrics.layers.neurons == tree["metrics"]["layer_neurons"]
    assert conv.history[-1].validation_accuracy == tree["history"][-1]["validation_accuracy"]
    assert conv.data.class_names == tuple(tree["data"]["class_names"]) and conv.timing.device == "cpu"
    assert conv.metrics.robustness is None and conv.cached is None and conv.error is None


@pytest.mark.parametrize("path", OLD, ids=lambda path: path.stem)
def test_every_older_layout_loads_with_none_for_what_it_lacks(path):
    tree = tree_of(path)
    result = RunResult.from_json(tree)
    assert result.metrics.test_accuracy == tree["metrics"]["test_accuracy"]
    assert result.metrics.validation_accuracy is None and result.metrics.validation_samples is None
    assert [record.epoch for record in result.history] == [record["epoch"] for record in tree["history"]]
    assert all(record.validation_accuracy is None for record in result.history)
    assert RunResult.from_json(result.to_json()) == result          # written in today's layout, read back the same


def test_the_first_layout_has_no_data_no_per_epoch_rates_and_no_redundancy():
    first = RunResult.from_json(tree_of(HERE / "old" / "train_c5976e3.json"))
    assert first.data is None and first.history[0].layer_firing_rates == {} and first.history[0].loss_terms == {}
    assert first.metrics.redundancy is None and first.metrics.decision is None and first.metrics.robustness is None
    assert first.timing.robustness_seconds is None and first.metrics.reversal_kl is None


def test_a_first_spike_run_before_validation_keeps_its_decisions_and_robustness():
    old = RunResult.from_json(tree_of(HERE / "old" / "train_703a3de_first_spike.json"))
    assert old.metrics.decision is not None and set(old.metrics.robustness) == {"jitter", "deletion", "weight_noise"}


def test_a_batch_slot_keeps_cached_and_error_and_a_failed_slot_its_layout(tiny):
    stored = RunResult.from_json(tree_of(DIGITS))
    slot = replace(stored, cached=True, error=None)
    assert list(slot.to_json())[-2:] == ["cached", "error"] and RunResult.from_json(slot.to_json()) == slot
    failed = failed_slot(tiny(), RuntimeError("out of memory\nmore"))
    tree = failed.to_json()
    assert list(tree) == ["config", "history", "metrics", "timing", "cached", "error"]
    assert tree["error"] == "RuntimeError: out of memory" and RunResult.from_json(tree) == failed
    assert not failed.ok and stored.ok


def test_non_finite_values_written_by_valid_json_come_back():
    stored = RunResult.from_json(tree_of(DIGITS))
    nan = replace(stored, metrics=replace(stored.metrics, test_loss=math.nan))
    back = RunResult.from_json(json.loads(valid_json(nan.to_json())))
    assert math.isnan(back.metrics.test_loss) and back.metrics.test_accuracy == stored.metrics.test_accuracy


def broken(change) -> dict:
    tree = tree_of(DIGITS)
    change(tree)
    return tree


@pytest.mark.parametrize(("tree", "needle"), [
    ([], "result is a list; allowed: an object"),
    ({"config": {}, "history": []}, "result lacks metrics"),
    (broken(lambda t: t.update(extra=1)), "result has unknown key(s) 'extra'"),
    (broken(lambda t: t["metrics"].update(test_accuracy="0.9")), "result.metrics.test_accuracy is a string"),
    (broken(lambda t: t["metrics"].pop("nasfr")), "result.metrics lacks nasfr"),
    (broken(lambda t: t["metrics"]["layer_neurons"].update(fc1=1.5)), "result.metrics.layer_neurons.fc1"),
    (broken(lambda t: t["history"].append("epoch 3")), "result.history[2] is a string"),
    (broken(lambda t: t["history"][0].update(test_accuracy=True)), "result.history[0].test_accuracy is true"),
    (broken(lambda t: t["metrics"]["robustness"]["jitter"].update({"1": None})), "result.metrics.robustness.jitter.1"),
    (broken(lambda t: t["config"].update(depth={})), "result.config: unknown config section(s)"),
    (broken(lambda t: t.update(data={"source": 3, "class_names": []})), "result.data.source is a number"),
    (broken(lambda t: t.update(non_finite=[[["metrics", "nasfr"], "nan"]])), "points at a value"),
    (broken(lambda t: t.update(cached="yes", error=None)), "result.cached is a string"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_garbage_is_a_value_error_naming_what_is_wrong(tree, needle):
    with pytest.raises(ValueError) as problem:
        RunResult.from_json(tree)
    assert needle in str(problem.value)


@pytest.mark.parametrize("name", ["issue26_train_digits.json", "issue26_train_conv_first_spike.json"])
def test_a_run_from_before_cost_accounting_loads_with_no_cost(name):
    tree = tree_of(HERE / "old" / name)
    result = RunResult.from_json(tree)
    assert "cost" not in tree["metrics"] and result.metrics.cost is None
    assert result.metrics.validation_accuracy == tree["metrics"]["validation_accuracy"]
    assert RunResult.from_json(result.to_json()) == result
