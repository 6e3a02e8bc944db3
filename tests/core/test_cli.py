"""The command line: JSON keys of a real run, and one-line errors with exit code 2."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from snn_core.cli import main

METRIC_KEYS = {"test_accuracy", "nasfr", "layer_firing_rates", "spikes_per_sample", "silent_fraction", "wall_seconds"}


def test_train_prints_and_writes_the_result_json(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "snn_core", "train", "--dataset", "digits", "--arch", "mlp", "--T", "3",
         "--epochs", "2", "--train-samples", "200", "--test-samples", "60", "--seed", "0", "--quiet",
         "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    printed, written = json.loads(proc.stdout), json.loads(out.read_text())
    assert printed["metrics"] == written["metrics"]
    assert METRIC_KEYS <= set(written["metrics"])
    assert written["config"]["data"]["time_steps"] == 3
    assert [h["epoch"] for h in written["history"]] == [1, 2]
    assert set(written["metrics"]["layer_firing_rates"]) == {"fc1"}
    assert 0.0 <= written["metrics"]["nasfr"] <= 1.0


def test_config_file_and_tau_option(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"data": {"time_steps": 2, "train_samples": 40, "test_samples": 20},
                                  "model": {"hidden": [8]}, "training": {"epochs": 1}}))
    assert main(["train", "--config", str(config), "--tau", "2", "--K", "2", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["config"]["data"]["time_steps"] == 2
    assert result["config"]["neuron"]["max_spikes"] == 2                  # --K: the papers' name of --max-spikes
    assert result["config"]["neuron"]["decay"] == pytest.approx(0.60653066)


@pytest.mark.parametrize("argv,needle", [
    (["train", "--T", "0"], "--T)=0 is not allowed; allowed: integer 1..64"),
    (["train", "--dataset", "cifar"], "allowed: digits, events-shape, events-direction"),
    (["train", "--surrogate", "relu"], "allowed: atan, fast-sigmoid, rectangular"),
    (["train", "--colour", "red"], "unrecognized arguments: --colour"),
    (["train", "--device", "tpu"], "invalid choice: 'tpu'"),
    (["train", "--tau", "-1"], "tau=-1.0 is not valid"),
    (["train", "--config", "/no/such/file.json"], "No such file"),
    (["fly"], "invalid choice: 'fly'"),
])
def test_bad_options_exit_2_with_one_line(argv, needle, capsys):
    with pytest.raises(SystemExit) as stop:
        code = main(argv)
        raise SystemExit(code)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err


def test_settings_that_cannot_run_together_exit_2_listing_every_problem_before_training(monkeypatch, capsys):
    def no_training(*args, **kwargs):
        raise AssertionError("nothing may train")
    monkeypatch.setattr("snn_core.experiments.run.train_run", no_training)
    assert main(["train", "--encoding", "latency", "--latency-window", "20", "--first-spike-reg", "0.5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: 2 problems: (1) data.latency_window (--latency-window)=20 is longer than T=8")
    assert "(2) model.first_spike_reg (--first-spike-reg)=0.5 needs first-spike times" in err


def test_cli_accepts_and_reports_the_new_options(capsys):
    assert main(["train", "--readout", "count", "--neuron", "cuba", "--tau-syn", "2", "--tau-loss", "3",
                 "--T", "2", "--hidden", "8", "--epochs", "1", "--train-samples", "40", "--test-samples", "20",
                 "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["config"]["neuron"]["model"] == "cuba" and result["config"]["neuron"]["tau_syn"] == 2.0
    assert result["config"]["model"]["readout"] == "count" and result["config"]["model"]["tau_loss"] == 3.0
    assert "out" in result["metrics"]["layer_firing_rates"]
    assert "no_decision_fraction" not in result["metrics"]


ISSUE_KEYS = ("decision_step_mean", "decision_step_median", "no_decision_fraction", "accuracy_vs_tcut",
              "robustness", "epochs_to_target")


def test_cli_train_json_has_every_key_of_the_issue(capsys):
    assert main(["train", "--readout", "first-spike", "--encoding", "latency", "--neuron", "cuba", "--max-spikes", "1",
                 "--T", "6", "--latency-window", "4", "--hidden", "8", "--epochs", "2", "--train-samples", "60",
                 "--test-samples", "30", "--target-accuracy", "0.05", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    metrics = result["metrics"]
    assert all(key in metrics for key in ISSUE_KEYS)
    reached = [record["epoch"] for record in result["history"] if record["test_accuracy"] >= 0.05]
    assert metrics["epochs_to_target"] == (reached[0] if reached else None)
    assert set(metrics["robustness"]) == {"jitter", "deletion", "weight_noise"}
    assert metrics["robustness"]["jitter"]["0"] == metrics["test_accuracy"]
    assert len(metrics["accuracy_vs_tcut"]) == 6
    assert [set(record) >= {"decision_step_mean", "no_decision_fraction"} for record in result["history"]] == [True] * 2
    assert result["history"][-1]["no_decision_fraction"] == metrics["no_decision_fraction"]
    assert result["timing"]["robustness_seconds"] >= 0


def test_robustness_off_leaves_it_null_and_rate_readouts_have_no_decisions(capsys):
    assert main(["train", "--T", "2", "--hidden", "8", "--epochs", "1", "--train-samples", "40",
                 "--test-samples", "20", "--robustness", "false", "--target-accuracy", "1", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["metrics"]["robustness"] is None and result["metrics"]["epochs_to_target"] is None
    assert result["history"][0]["decision_step_mean"] is None and result["history"][0]["no_decision_fraction"] is None


# --- every failure one line, exit 2 (issue #15) ---------------------------------------------------------------

def one_line_exit_2(argv, capsys) -> str:
    """Run the CLI, check it exits 2 with one line on stderr; that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


@pytest.mark.parametrize(("text", "needle"), [
    ("null", "the config is null; allowed: an object of sections"),
    ("4", "the config is a number"),
    ("[1, 2]", "the config is a list"),
    ('{"model": null}', "config section 'model' is null"),
    ('{"model": "mlp"}', "config section 'model' is a string"),
    ('{"data": [1]}', "config section 'data' is a list"),
    ('{"model": {"hidden": [64.5]}}', "model.hidden (--hidden)=(64.5,) is not allowed"),
    ("[" * 50_000 + "]" * 50_000, "is nested too deeply"),
    ('{"model": {"hidden": [[[[[[[[[8]]]]]]]]]}}', "nested more than 8 levels deep"),
    ("{", "is not valid JSON"),
])
def test_a_malformed_config_file_is_one_line_naming_the_file_and_the_problem(tmp_path, capsys, text, needle):
    path = tmp_path / "c.json"
    path.write_text(text)
    err = one_line_exit_2(["train", "--config", str(path)], capsys)
    assert f"--config {path}" in err and needle in err


def test_config_from_dev_zero_fails_at_once_with_one_line(capsys):
    err = one_line_exit_2(["train", "--config", "/dev/zero"], capsys)
    assert "is over 1,000,000 bytes" in err


def test_a_config_folder_is_one_line(tmp_path, capsys):
    one_line_exit_2(["compare", "--config", str(tmp_path)], capsys)


def test_a_whole_float_in_a_config_list_trains(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"model": {"hidden": [8.0]}, "data": {"time_steps": 2, "train_samples": 40,
                                                                     "test_samples": 20},
                                "training": {"epochs": 1, "robustness": False}}))
    assert main(["train", "--config", str(path), "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["model"]["hidden"] == [8]


def fake_run(result: dict):
    return lambda cfg, device="auto", on_epoch=None: result


def test_out_is_written_after_printing_and_a_failed_write_still_leaves_the_json_printed(tmp_path, monkeypatch,
                                                                                        capsys):
    monkeypatch.setattr("snn_core.experiments.run.train_run", fake_run({"metrics": {"test_accuracy": 0.5}}))
    out = tmp_path / "no-such-folder" / "r.json"
    assert main(["train", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"metrics": {"test_accuracy": 0.5}}
    assert captured.err.count("\n") == 1 and f"--out {out}: cannot write the JSON" in captured.err
    assert "printed above" in captured.err


@pytest.mark.parametrize(("problem", "needle"), [
    (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 10 GB"), "out of memory"),
    (MemoryError(), "out of memory (MemoryError"),
    (RecursionError("maximum recursion depth exceeded"), "unexpected RecursionError"),
    (TypeError("bad\nsecond line"), "unexpected TypeError: bad (set SNN_TRACEBACK=1"),
    (KeyError("x"), "unexpected KeyError"),
])
def test_any_failure_while_running_is_one_line_and_exit_2(monkeypatch, capsys, problem, needle):
    def failing(*args, **kwargs):
        raise problem
    monkeypatch.setattr("snn_core.experiments.run.train_run", failing)
    assert needle in one_line_exit_2(["train"], capsys)
    monkeypatch.setenv("SNN_TRACEBACK", "1")                 # a developer asks for the traceback: it is raised
    with pytest.raises(type(problem)):
        main(["train"])
