"""The command line: JSON keys of a real run, and one-line errors with exit code 2."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from snn_core.cli import INTERRUPTED, OUTPUT_ALLOWED, WRITE_FAILED, main, write_output
from snn_core.results import RunResult

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
    (["train", "--e-ac-pj", "-1"], "--e-ac-pj=-1.0 is not valid; allowed: picojoules per operation"),
    (["compare", "--e-mac-pj", "nan"], "--e-mac-pj=nan is not valid"),
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


def test_the_energy_prices_price_the_counted_operations_and_change_no_count(capsys):
    argv = ["train", "--T", "2", "--hidden", "8", "--epochs", "1", "--train-samples", "40", "--test-samples", "20",
            "--robustness", "false", "--quiet"]
    assert main(argv) == 0
    default = json.loads(capsys.readouterr().out)["metrics"]["cost"]
    assert main([*argv, "--e-ac-pj", "0.5", "--e-mac-pj", "2"]) == 0
    priced = json.loads(capsys.readouterr().out)["metrics"]["cost"]
    assert (default["e_ac_pj"], default["e_mac_pj"], priced["e_ac_pj"], priced["e_mac_pj"]) == (0.9, 4.6, 0.5, 2)
    assert priced["synaptic_ops"] == default["synaptic_ops"] and priced["dense_macs"] == default["dense_macs"]
    assert priced["energy_pj"] == pytest.approx(0.5 * priced["synaptic_ops"] + 2 * priced["dense_macs"])


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
    assert "--config /dev/zero: it is a character device; allowed: a config JSON file" in err


def test_a_huge_config_file_fails_at_once_with_one_line(tmp_path, capsys):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 1_000_001)
    assert "is over 1,000,000 bytes" in one_line_exit_2(["train", "--config", str(path)], capsys)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("command", [["train"], ["compare"], ["import", "--model", "m.nir", "--out", "x.st"]])
def test_a_config_fifo_is_refused_at_once_without_blocking(tmp_path, capsys, monkeypatch, command):
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)                                    # nobody ever writes to it: a plain open would wait forever
    monkeypatch.chdir(tmp_path)
    codes = []
    worker = threading.Thread(target=lambda: codes.append(main([*command, "--config", str(fifo)])), daemon=True)
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():                              # unblock the old code's open() so the thread can end
        with open(fifo, "wb"):
            pass
        worker.join(timeout=20)
        pytest.fail("--config FIFO blocked")
    err = capsys.readouterr().err
    assert codes == [2] and err.count("\n") == 1 and "it is a FIFO (named pipe); allowed: a config JSON file" in err


def test_a_config_folder_is_one_line(tmp_path, capsys):
    one_line_exit_2(["compare", "--config", str(tmp_path)], capsys)


def test_a_whole_float_in_a_config_list_trains(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"model": {"hidden": [8.0]}, "data": {"time_steps": 2, "train_samples": 40,
                                                                     "test_samples": 20},
                                "training": {"epochs": 1, "robustness": False}}))
    assert main(["train", "--config", str(path), "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["model"]["hidden"] == [8]


STORED = RunResult.from_json(json.loads((Path(__file__).parent / "results" / "current" / "train_digits.json")
                                        .read_text()))


def fake_run(result: RunResult, before=None):
    """A ``train_run`` that returns ``result`` at once: ``before()`` first (e.g. the output folder vanishing while
    it trained), then ``on_trained`` with a stand-in trainer, as the real one calls it."""
    def run(cfg, device="auto", on_epoch=None, on_trained=None):
        if before is not None:
            before()
        if on_trained is not None:
            on_trained(SimpleNamespace(model=None, dataset=SimpleNamespace(frame_shape=(1,), n_classes=2)))
        return result
    return run


def test_out_is_written_after_printing_and_a_failed_write_still_leaves_the_json_printed(tmp_path, monkeypatch,
                                                                                        capsys):
    folder = tmp_path / "goes-away"
    folder.mkdir()
    monkeypatch.setattr("snn_core.experiments.run.train_run", fake_run(STORED, before=folder.rmdir))
    out = folder / "r.json"
    assert main(["train", "--out", str(out)]) == WRITE_FAILED == 3
    captured = capsys.readouterr()
    assert json.loads(captured.out) == json.loads(json.dumps(STORED.to_json()))
    assert captured.err.count("\n") == 1 and f"--out {out}: cannot write it" in captured.err
    assert "printed above" in captured.err


def test_a_model_that_cannot_be_saved_after_training_still_prints_and_writes_the_result(tmp_path, monkeypatch,
                                                                                        capsys):
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr("snn_core.checkpoint.model_to_bytes", lambda *args: b"model")
    monkeypatch.setattr("snn_core.experiments.run.train_run", fake_run(STORED, before=models.rmdir))
    out = tmp_path / "r.json"
    assert main(["train", "--out", str(out), "--save-model", str(models / "m.safetensors")]) == 3
    captured = capsys.readouterr()
    assert json.loads(captured.out) == json.loads(out.read_text()) == json.loads(json.dumps(STORED.to_json()))
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"error: --save-model {models / 'm.safetensors'}: cannot write it (")
    assert "the result was printed above" in captured.err


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial_file(tmp_path, monkeypatch):
    old = tmp_path / "r.json"
    old.write_text("the previous result")
    old.chmod(0o640)

    def full_disk(*args):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match=r"^--out .*r.json: cannot write it \(No space left on device\)$"):
        write_output(str(old), b"new", "--out")
    assert old.read_text() == "the previous result" and [p.name for p in tmp_path.iterdir()] == ["r.json"]
    monkeypatch.undo()
    write_output(str(old), b"new", "--out")
    assert old.read_text() == "new" and old.stat().st_mode & 0o777 == 0o640


# --- output paths and counts checked before anything trains (the lost-run review) --------------------------------

def nothing_may_run(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("nothing may run before the options are checked")
    for target in ("snn_core.experiments.run.train_run", "snn_core.experiments.batch.run_many",
                   "snn_core.report.reproduce.report", "snn_core.interop.nir_files.export_file",
                   "snn_core.interop.nir_files.import_file"):
        monkeypatch.setattr(target, refuse)


def bad_outputs(tmp_path):
    """(path, what the error says) for each kind of output path that must be refused."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    return [("/dev/full", "is a character device"), (str(tmp_path), "is a folder"), (str(fifo), "is a FIFO"),
            (str(tmp_path / "no-such" / "r.json"), "folder that does not exist"), ("", "is empty")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("command,option", [
    (["train"], "--out"), (["train"], "--save-model"), (["compare"], "--out"),
    (["sweep", "--param", "T", "--values", "2,3"], "--out"), (["reproduce"], "--out"),
    (["export", "--model", "m.safetensors"], "--out"), (["import", "--model", "m.nir"], "--out"),
])
def test_an_output_that_cannot_be_written_exits_2_before_anything_runs(tmp_path, monkeypatch, capsys, command,
                                                                        option):
    nothing_may_run(monkeypatch)
    for path, needle in bad_outputs(tmp_path):
        err = one_line_exit_2([*command, option, path], capsys)
        assert f"error: {option} {path} " in err and needle in err
        assert f"allowed: {OUTPUT_ALLOWED}" in err


def test_a_read_only_folder_and_two_options_naming_one_file_are_refused(tmp_path, monkeypatch, capsys):
    nothing_may_run(monkeypatch)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):                     # root may write anywhere
            assert "folder that is not writable" in one_line_exit_2(["train", "--out", str(locked / "r.json")], capsys)
    finally:
        locked.chmod(0o700)
    same = str(tmp_path / "same")
    assert "--out and --save-model both name" in one_line_exit_2(["train", "--out", same, "--save-model", same],
                                                                 capsys)


@pytest.mark.parametrize("argv,needle", [
    (["train", "--threads", "0"], "--threads 0 is not valid; allowed: an integer 1..256"),
    (["train", "--threads", "100000"], "--threads 100000 is not valid; allowed: an integer 1..256"),
    (["compare", "--threads", "257"], "--threads 257 is not valid; allowed: an integer 1..256"),
    (["compare", "--seeds", "100000000"], "--seeds 100000000 is not valid; allowed: an integer 1..1000"),
    (["compare", "--workers", "100000"], "--workers 100000 is not valid; allowed: an integer 1..256"),
    (["sweep", "--param", "T", "--values", ",".join(["2"] * 101)], "--values has 101 values; allowed: 1..100 values"),
    (["sweep", "--param", "T", "--values", ",".join(["2"] * 20), "--seeds", "1000"],
     "20 values x --seeds 1000 are 20,000 runs; allowed: at most 10,000 runs in one command"),
    (["reproduce", "--seeds", "1"], "--seeds 1 is not valid; allowed: an integer 2..1000"),
    (["reproduce", "--workers", "1000"], "--workers 1000 is not valid; allowed: an integer 1..256"),
])
def test_counts_out_of_range_exit_2_naming_the_range_before_anything_runs(monkeypatch, capsys, argv, needle):
    nothing_may_run(monkeypatch)
    assert needle in one_line_exit_2(argv, capsys)


def test_ctrl_c_during_train_is_one_line_and_exit_130(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr("snn_core.experiments.run.train_run", interrupted)
    assert main(["train"]) == INTERRUPTED == 130
    err = capsys.readouterr().err
    assert err == "error: interrupted (Ctrl-C) during train; nothing was written\n"


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


def test_bad_environment_settings_are_one_line_and_exit_2_before_anything_runs(monkeypatch, capsys):
    def never(*args, **kwargs):
        raise AssertionError("ran despite a bad setting")
    monkeypatch.setattr("snn_core.experiments.run.train_run", never)
    monkeypatch.setenv("SNN_THREADS", "many")
    monkeypatch.setenv("SNN_FRAME_CACHE_MB", "inf")
    err = one_line_exit_2(["train"], capsys)
    assert err == ("error: SNN_FRAME_CACHE_MB='inf' is not a cache size; allowed: a number of megabytes >= 0 (0 turns "
                   "the cache off), or unset for 2048; SNN_THREADS='many' is not valid; allowed: an integer 1..256, "
                   "or unset for 1\n")


@pytest.mark.parametrize("command", ["train", "compare", "sweep", "reproduce", "export", "import", "inspect"])
def test_every_commands_help_prints(command, capsys):
    """argparse %-formats help text: a setting's help with a bare "%" (e.g. "over 30% of its spikes") broke --help."""
    with pytest.raises(SystemExit) as stopped:
        main([command, "--help"])
    assert stopped.value.code == 0 and "usage:" in capsys.readouterr().out


def test_a_foreign_graph_imports_with_one_note_line_and_assume_reset_states_it(tmp_path, capsys, tiny):
    """The import's assumption about an unmarked reset is one ``note:`` line on stderr; ``--assume-reset hard``
    states it, so no note; ``--assume-reset subtract`` gives the soft-reset model."""
    from snn_core.checkpoint import model_from_bytes
    from snn_core.interop.nir_graph import export_nir, graph_to_bytes
    from snn_core.training.trainer import Trainer

    trainer = Trainer(tiny())
    graph = export_nir(trainer.model, trainer.cfg, tuple(trainer.dataset.frame_shape))
    graph.metadata = {"dt": graph.metadata["dt"]}          # another library's: no source, no reset markers (an
    #                                                        r = 1 graph's input gain needs its dt, so dt stays)
    source = tmp_path / "elsewhere.nir"
    source.write_bytes(graph_to_bytes(graph))
    assert main(["import", "--model", str(source), "--out", str(tmp_path / "a.safetensors")]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(notes) == 1 and notes[0].startswith("note: NIR does not record how a neuron resets")
    assert main(["import", "--model", str(source), "--out", str(tmp_path / "b.safetensors"),
                 "--assume-reset", "hard"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["import", "--model", str(source), "--out", str(tmp_path / "c.safetensors"),
                 "--assume-reset", "subtract"]) == 0
    cfg, _ = model_from_bytes((tmp_path / "c.safetensors").read_bytes())
    assert cfg.neuron.reset == "soft"
