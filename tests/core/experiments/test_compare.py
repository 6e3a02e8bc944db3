"""Fair comparisons: seeded determinism, the cache, captured failures, the process pool, the config check
before training, and the ``compare``/``sweep`` commands."""
import json
import os
import sys
import time
from pathlib import Path

import pytest

import snn_core.experiments.batch as workers
from interrupted_compare import interrupt_compare
from snn_core.cli import main
from snn_core.config.run_config import RunConfig
from snn_core.experiments.batch import RunCache
from snn_core.experiments.compare import compare, compute_matched, sweep, sweep_points
from snn_core.results import numeric_metrics
from snn_core.results.table import run_metrics

COMPARE = {"T": 2, "epochs": 2, "train-samples": 120, "lr": 0.03, "batch-size": 32}   # changes from the config base


TIMING = {"wall_seconds"}          # measured, so never expected to repeat exactly


PAIRED_KEYS = {"mean", "ci_low", "ci_high", "sd", "wins", "losses", "ties", "n", "note", "p_value", "mde"}


@pytest.fixture(scope="module")
def config(tiny):
    return tiny(COMPARE)


def untimed(run):
    return {k: v for k, v in run_metrics(run).items() if k not in TIMING}


def test_compute_matched_multiplies_epochs(config):
    assert compute_matched(config, 2).training.epochs == 4
    assert compute_matched(config, 1.5).training.epochs == 3
    with pytest.raises(ValueError, match="positive number"):
        compute_matched(config, 0)


def test_numeric_metrics_flattens_layers():
    flat = numeric_metrics({"test_accuracy": 0.5, "layer_firing_rates": {"fc1": 0.2, "fc2": 0.1},
                            "layer_firing_rates_per_step": {"fc1": [0.1, 0.3]}, "flag": True})
    assert flat == {"test_accuracy": 0.5, "layer_firing_rates.fc1": 0.2, "layer_firing_rates.fc2": 0.1}


def test_same_seeds_give_identical_runs_and_other_seeds_differ(config):
    variant = config.with_values({"max-spikes": "1"})
    first, again = (compare(config, variant, [0, 1]) for _ in range(2))
    for one, two in zip(first.per_seed, again.per_seed):
        for run, rerun in ((one.base, two.base), (one.variant, two.variant)):
            assert untimed(run) == untimed(rerun)
            assert [h.test_accuracy for h in run.history] == [h.test_accuracy for h in rerun.history]
    assert untimed(first.per_seed[0].base) != untimed(first.per_seed[1].base)
    assert first.variant.neuron.max_spikes == 1 and first.base.neuron.max_spikes == 0


def test_a_config_against_itself_differs_by_exactly_zero(config):
    result = compare(config, config, [0, 1, 2])
    assert "layer_firing_rates.fc1" in result.paired
    for name, stats in result.paired.items():
        if name not in TIMING:
            assert (stats.mean, stats.sd, stats.ci_low, stats.ci_high) == (0.0, 0.0, 0.0, 0.0), name
            assert (stats.wins, stats.ties, stats.n, stats.p_value, stats.mde) == (0, 3, 3, 1.0, 0.0)
    assert set(result.to_json()["paired"]["test_accuracy"]) == PAIRED_KEYS        # the CLI's layout
    assert result.base_summary["test_accuracy"].n == 3


def test_cache_hit_trains_nothing_and_reads_from_disk(config, tmp_path, monkeypatch):
    cache, calls = RunCache(tmp_path), []
    first = compare(config, config.with_values({"T": "3"}), [0, 1], cache=cache, progress=lambda *a: calls.append(a))
    assert [(done, total) for done, total, _ in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert len(list(tmp_path.glob("*/*.json"))) == 4

    def no_training(*args, **kwargs):
        raise AssertionError("trained although cached")
    monkeypatch.setattr(workers, "train_run", no_training)
    for again in (compare(config, config.with_values({"T": "3"}), [0, 1], cache=cache),
                  compare(config, config.with_values({"T": "3"}), [0, 1], cache=RunCache(tmp_path))):
        assert again.failed_runs == 0
        assert all(pair.base.cached and pair.variant.cached for pair in again.per_seed)
        assert again.paired == first.paired


def test_a_failing_run_is_reported_not_raised(config, monkeypatch):
    real = workers.train_run

    def fails_on_seed_1(cfg, device="auto"):
        if cfg.training.seed == 1:
            raise RuntimeError("out of memory\nsecond line")
        return real(cfg, device=device)
    monkeypatch.setattr(workers, "train_run", fails_on_seed_1)
    result = compare(config, config, [0, 1, 2], cache=RunCache())
    failed = result.per_seed[1].base
    assert failed.error == "RuntimeError: out of memory" and failed.metrics is None
    assert result.per_seed[0].base.ok
    assert result.failed_runs == 2 and result.paired["test_accuracy"].n == 2
    json.dumps(result.to_json())


def test_process_pool_matches_in_process_and_captures_worker_errors(config, tmp_path):
    # passes the config check (which reads no files), but fails in the worker: a recording is truncated
    for split in ("train", "test"):
        for label in ("a", "b"):
            (tmp_path / split / label).mkdir(parents=True)
            (tmp_path / split / label / "rec.bin").write_bytes(bytes(5 * 40 + 3))
    broken = config.with_values({"dataset": "event-folder", "data-dir": str(tmp_path), "arch": "mlp"})
    pooled = compare(config, broken, [0, 1], workers=2)
    local = compare(config, config, [0, 1])
    for pool_seed, local_seed in zip(pooled.per_seed, local.per_seed):
        assert untimed(pool_seed.base) == untimed(local_seed.base)
        error = pool_seed.variant.error
        assert error.startswith("EventFileError: ") and "rec.bin: is truncated" in error
    assert pooled.paired == {} and pooled.failed_runs == 2


def test_sweep_summarises_each_value(config):
    result = sweep(config, "max-spikes", ["0", "1"], [0, 1])
    assert result.values == (0, 1) and [p.value for p in result.points] == [0, 1]
    first, second = result.points
    assert first.summary["test_accuracy"].n == 2 and len(second.runs) == 2
    assert first.paired_vs_first["test_accuracy"].mean == 0.0
    assert second.runs[1].seed == 1
    for parameter, values, needle in [("depth", ["1"], "unknown parameter 'depth'; allowed: T,"),
                                      ("seed", ["1"], "cannot be swept"),
                                      ("max-spikes", ["1", "x"], "max-spikes='x' is not valid")]:
        with pytest.raises(ValueError, match=needle):
            sweep(config, parameter, values, [0])


def test_compare_command_writes_paired_json(tiny_args, tmp_path, capsys):
    out = tmp_path / "compare.json"
    code = main(["compare", "--base", tiny_args(COMPARE), "--variant", "max-spikes=1", "--seeds", "2",
                 "--first-seed", "3",
                 "--compute-match", "2", "--cache", str(tmp_path / "cache"), "--out", str(out), "--quiet"])
    assert code == 0
    result = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == result
    assert {"base", "variant", "per_seed", "paired"} <= set(result)
    assert result["variant"]["neuron"]["max_spikes"] == 1 and result["variant"]["data"]["time_steps"] == 2
    assert result["base"]["training"]["epochs"] == 4 and result["variant"]["training"]["epochs"] == 2
    assert [s["seed"] for s in result["per_seed"]] == [3, 4]
    assert {"test_accuracy", "nasfr", "layer_firing_rates"} <= set(result["per_seed"][0]["variant"]["metrics"])
    assert {"mean", "ci_low", "ci_high", "sd", "wins", "n"} <= set(result["paired"]["test_accuracy"])


def test_sweep_command_and_failed_runs_exit_1(tiny_args, tmp_path, capsys, monkeypatch):
    real = workers.train_run

    def fails_with_two_layers(cfg, device="auto"):
        if len(cfg.model.hidden) == 2:
            raise RuntimeError("out of memory")
        return real(cfg, device=device)
    monkeypatch.setattr(workers, "train_run", fails_with_two_layers)
    code = main(["sweep", "--base", tiny_args(COMPARE), "--param", "hidden", "--values", "16;8,8", "--seeds", "1",
                 "--no-cache"])
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert code == 1 and "1 run(s) failed" in captured.err
    assert result["values"] == [[16], [8, 8]]
    assert result["points"][1]["runs"][0]["error"].startswith("RuntimeError")


@pytest.mark.parametrize("argv,needle", [
    (["compare", "--base", "depth=3"], "--base: unknown option 'depth'; allowed: T, arch"),
    (["compare", "--variant", "T=0"], "--variant: data.time_steps (--T)=0 is not allowed; allowed: integer 1..64"),
    (["compare", "--base", "dataset=cifar"], "allowed: digits, events-shape, events-direction"),
    (["compare", "--base", "T"], "'T' is not KEY=VALUE"),
    (["compare", "--seeds", "0"], "--seeds 0 is not valid"),
    (["compare", "--workers", "0"], "--workers 0 is not valid"),
    (["compare", "--compute-match", "0"], "factor=0.0 is not valid"),
    (["sweep", "--param", "depth", "--values", "1,2"], "unknown parameter 'depth'; allowed: T, arch"),
    (["sweep", "--param", "max-spikes", "--values", "1,x"], "max-spikes='x' is not valid; allowed: integer 0..64"),
    (["sweep", "--param", "hidden", "--values", "16;8,8;"], "hidden=: model.hidden (--hidden) is empty"),
    (["compare", "--variant", "first-spike-reg=0.5"], "variant arm: model.first_spike_reg (--first-spike-reg)=0.5"),
])
def test_bad_compare_and_sweep_options_exit_2_with_one_line(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err


def test_sweep_accepts_the_papers_name_k_for_the_spike_cap():
    from snn_core.experiments.compare import sweep_points
    points = sweep_points(RunConfig(), "K", ["1", "0"])
    assert [p.neuron.max_spikes for p in points] == [1, 0]


def test_compare_and_sweep_check_every_arm_and_point_before_training(monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("nothing may train")
    monkeypatch.setattr("snn_core.experiments.compare.run_many", no_training)
    good, bad = RunConfig(), RunConfig().with_values({"first-spike-reg": 0.5})
    with pytest.raises(ValueError, match=r"^variant arm: model.first_spike_reg"):
        compare(good, bad, [0])
    with pytest.raises(ValueError, match=r"^base arm: model.first_spike_reg"):
        compare(bad, good, [0])
    with pytest.raises(ValueError, match=r"^readout=rate: model.first_spike_reg"):
        sweep_points(RunConfig().with_values({"first-spike-reg": 0.5, "readout": "first-spike"}), "readout",
                     ["first-spike", "rate"])


def test_a_partial_comparison_is_the_comparison_of_the_pairs_that_finished(config):
    from snn_core.experiments.batch import cancelled_slot
    from snn_core.experiments.compare import compare_configs, compare_result

    variant = config.with_values({"T": "3"})
    configs = compare_configs(config, variant, [0, 1, 2])
    assert [(c.training.seed, c.data.time_steps) for c in configs] == [(0, 2), (0, 3), (1, 2), (1, 3), (2, 2), (2, 3)]
    full = compare(config, variant, [0, 1, 2])
    slots = [run for pair in full.per_seed for run in (pair.base, pair.variant)]
    partial = compare_result(config, variant, [0, 1, 2], [*slots[:2], None, slots[3], *slots[4:]])
    assert partial.seeds == (0, 2) and [pair.seed for pair in partial.per_seed] == [0, 2]
    assert partial.unfinished_runs == 1 and partial.failed_runs == 0
    assert partial.paired == compare_result(config, variant, [0, 2], slots[:2] + slots[4:]).paired
    cancelled = compare_result(config, variant, [0, 1, 2], slots[:4] + [cancelled_slot(configs[4]), None])
    assert cancelled.seeds == (0, 1) and cancelled.unfinished_runs == 2 and cancelled.paired["test_accuracy"].n == 2
    with pytest.raises(ValueError, match="5 slots for 3 seeds; allowed: 2 per seed"):
        compare_result(config, variant, [0, 1, 2], slots[:5])


def test_a_partial_sweep_lists_the_finished_runs_of_each_point(config):
    from snn_core.experiments.compare import sweep_configs, sweep_result

    configs = sweep_configs(config, "max-spikes", ["0", "1"], [0, 1])
    full = sweep(config, "max-spikes", ["0", "1"], [0, 1])
    slots = [run for point in full.points for run in point.runs]
    partial = sweep_result(config, "max-spikes", [0, 1], configs, [slots[0], None, None, slots[3]])
    assert partial.values == (0, 1) and partial.unfinished_runs == 2
    assert [[run.seed for run in point.runs] for point in partial.points] == [[0], [1]]
    assert partial.points[0].summary["test_accuracy"].n == 1
    assert partial.points[1].paired_vs_first == {}                          # no seed finished in both points
    assert sweep_result(config, "max-spikes", [0, 1], configs, slots).points == full.points


# --- Ctrl-C: the finished runs are printed, the rest marked, exit 130 (the lost-run review) ----------------------

def interrupting(at_call: int):
    """A ``train_run`` that trains for real until its ``at_call``-th call, which is a Ctrl-C."""
    real, calls = workers.train_run, []

    def run(cfg, device="auto", **kwargs):
        calls.append(cfg)
        if len(calls) == at_call:
            raise KeyboardInterrupt
        return real(cfg, device=device, **kwargs)
    return run


def test_ctrl_c_during_compare_prints_and_writes_the_finished_pairs_and_exits_130(tiny_args, tmp_path, capsys,
                                                                                 monkeypatch):
    monkeypatch.setattr(workers, "train_run", interrupting(at_call=4))
    out = tmp_path / "partial.json"
    code = main(["compare", "--base", tiny_args(), "--variant", "max-spikes=1", "--seeds", "3", "--no-cache",
                 "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert code == 130 and json.loads(out.read_text()) == result
    assert result["interrupted"] is True and result["unfinished_runs"] == 3 and result["failed_runs"] == 0
    assert [s["seed"] for s in result["per_seed"]] == [0] and result["seeds"] == [0]
    assert result["unfinished"] == [{"seed": 1, "arm": "variant"}, {"seed": 2, "arm": "base"},
                                    {"seed": 2, "arm": "variant"}]
    assert "Traceback" not in captured.err and "3 run(s) did not finish" in captured.err


def test_ctrl_c_during_sweep_lists_the_finished_runs_of_each_point_and_exits_130(tiny_args, capsys, monkeypatch):
    monkeypatch.setattr(workers, "train_run", interrupting(at_call=2))
    code = main(["sweep", "--base", tiny_args(), "--param", "max-spikes", "--values", "1,2", "--seeds", "2",
                 "--no-cache", "--quiet"])
    result = json.loads(capsys.readouterr().out)
    assert code == 130 and result["interrupted"] is True and result["unfinished_runs"] == 3
    assert [len(point["runs"]) for point in result["points"]] == [1, 0]
    assert result["unfinished"] == [{"seed": 1, "value": "1"}, {"seed": 0, "value": "2"}, {"seed": 1, "value": "2"}]


def session_processes(session: int) -> list[str]:
    """Live (not zombie) processes of a session, by /proc: what a command started and left running."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(pid)
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGINT to a process and /proc: Linux")
@pytest.mark.parametrize("workers_option", ["1", "2"])
def test_sigint_to_a_real_compare_after_its_first_run_keeps_the_finished_runs_and_exits_130(tiny_args, tmp_path,
                                                                                           workers_option):
    out = tmp_path / "partial.json"
    proc, stdout, stderr, progress = interrupt_compare(tiny_args(), workers_option, out)
    assert proc.returncode == 130, progress + stderr
    assert "Traceback" not in stderr and "did not finish (the JSON holds the finished ones)" in stderr
    result = json.loads(stdout)
    assert json.loads(out.read_text()) == result
    assert result["interrupted"] is True and 1 <= result["unfinished_runs"] <= 39
    assert len(result["unfinished"]) == result["unfinished_runs"]
    assert 2 * len(result["per_seed"]) + result["unfinished_runs"] <= 40
    deadline = time.monotonic() + 15
    while session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert session_processes(proc.pid) == []             # no worker process outlives the command
