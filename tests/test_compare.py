"""Fair comparisons: t quantiles and CIs against hand-computed values, seeded determinism, the cache,
captured failures, the process pool, and the ``compare``/``sweep`` commands."""
import json
import math

import pytest
import torch

import snn_core.experiments.batch as workers
from snn_core.cli import main
from snn_core.experiments.compare import compare, compute_matched, numeric_metrics, sweep
from snn_core.config.run_config import RunConfig
from snn_core.experiments.stats import mean_ci, paired, t_quantile, t_two_sided_cdf
from snn_core.experiments.batch import RunCache

TINY = {"T": "2", "hidden": "16", "epochs": "2", "train-samples": "120", "test-samples": "40",
        "lr": "0.03", "batch-size": "32"}
TINY_ARGS = " ".join(f"{key}={value}" for key, value in TINY.items())
TIMING = {"wall_seconds"}          # measured, so never expected to repeat exactly
PAIRED_KEYS = {"mean", "ci_low", "ci_high", "sd", "wins", "losses", "ties", "n", "note"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny():
    return RunConfig().with_values(TINY)


def untimed(slot):
    return {k: v for k, v in numeric_metrics(slot["metrics"]).items() if k not in TIMING}


# --- statistics -------------------------------------------------------------------------------

@pytest.mark.parametrize("df,expected", [(1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (29, 2.045),
                                         (2000, 1.961)])
def test_t_quantile_matches_the_table(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=5e-4)


def test_t_distribution_closed_forms():
    # df = 1 (Cauchy): P(|T| <= t) = 2 atan(t) / pi; df = 2: t / sqrt(t^2 + 2)
    assert t_two_sided_cdf(1.0, 1) == pytest.approx(0.5)
    assert t_two_sided_cdf(3.0, 2) == pytest.approx(3 / math.sqrt(11))
    assert t_quantile(0.5, 5) == pytest.approx(0.0, abs=1e-12)
    assert t_quantile(0.995, 3) == pytest.approx(5.841, abs=5e-4)


def test_t_quantile_agrees_with_scipy_when_installed():
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 3, 7, 15, 40, 120):
        for p in (0.6, 0.9, 0.975, 0.999):
            assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9)


def test_paired_ci_against_a_hand_computed_case():
    # d = (2, 3, 0, 3): mean 2, sd sqrt(6/3) = sqrt(2), CI = 2 -/+ 3.182446 * sqrt(2) / 2
    result = paired([90, 92, 91, 93], [92, 95, 91, 96])
    assert result["mean"] == pytest.approx(2.0)
    assert result["sd"] == pytest.approx(math.sqrt(2))
    assert result["ci_low"] == pytest.approx(2 - 2.250329, abs=1e-6)
    assert result["ci_high"] == pytest.approx(2 + 2.250329, abs=1e-6)
    assert (result["wins"], result["losses"], result["ties"], result["n"]) == (3, 0, 1, 4)
    assert result["note"] is None


def test_one_seed_has_no_ci_but_a_reason():
    single = mean_ci([0.9])
    assert single["mean"] == 0.9 and single["ci_low"] is None and single["sd"] is None
    assert "at least 2 seeds" in single["note"]
    assert mean_ci([])["mean"] is None and mean_ci([])["n"] == 0


def test_compute_matched_multiplies_epochs(tiny):
    assert compute_matched(tiny, 2).training.epochs == 4
    assert compute_matched(tiny, 1.5).training.epochs == 3
    with pytest.raises(ValueError, match="positive number"):
        compute_matched(tiny, 0)


def test_numeric_metrics_flattens_layers():
    flat = numeric_metrics({"test_accuracy": 0.5, "layer_firing_rates": {"fc1": 0.2, "fc2": 0.1},
                            "layer_firing_rates_per_step": {"fc1": [0.1, 0.3]}, "flag": True})
    assert flat == {"test_accuracy": 0.5, "layer_firing_rates.fc1": 0.2, "layer_firing_rates.fc2": 0.1}


# --- runs --------------------------------------------------------------------------------------

def test_same_seeds_give_identical_runs_and_other_seeds_differ(tiny):
    variant = tiny.with_values({"max-spikes": "1"})
    first, again = (compare(tiny, variant, [0, 1]) for _ in range(2))
    for one, two in zip(first["per_seed"], again["per_seed"]):
        for arm in ("base", "variant"):
            assert untimed(one[arm]) == untimed(two[arm])
            assert [h["test_accuracy"] for h in one[arm]["history"]] == [h["test_accuracy"]
                                                                         for h in two[arm]["history"]]
    assert untimed(first["per_seed"][0]["base"]) != untimed(first["per_seed"][1]["base"])
    assert first["variant"]["neuron"]["max_spikes"] == 1 and first["base"]["neuron"]["max_spikes"] == 0


def test_a_config_against_itself_differs_by_exactly_zero(tiny):
    result = compare(tiny, tiny, [0, 1, 2])
    assert "layer_firing_rates.fc1" in result["paired"]
    for name, stats in result["paired"].items():
        if name not in TIMING:
            assert (stats["mean"], stats["sd"], stats["ci_low"], stats["ci_high"]) == (0.0, 0.0, 0.0, 0.0), name
            assert (stats["wins"], stats["ties"], stats["n"]) == (0, 3, 3)
    assert set(result["paired"]["test_accuracy"]) == PAIRED_KEYS
    assert result["summary"]["base"]["test_accuracy"]["n"] == 3


def test_cache_hit_trains_nothing_and_reads_from_disk(tiny, tmp_path, monkeypatch):
    cache, calls = RunCache(tmp_path), []
    first = compare(tiny, tiny.with_values({"T": "3"}), [0, 1], cache=cache, progress=lambda *a: calls.append(a))
    assert [(done, total) for done, total, _ in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert len(list(tmp_path.glob("*.json"))) == 4

    def no_training(*args, **kwargs):
        raise AssertionError("trained although cached")
    monkeypatch.setattr(workers, "train_run", no_training)
    for again in (compare(tiny, tiny.with_values({"T": "3"}), [0, 1], cache=cache),
                  compare(tiny, tiny.with_values({"T": "3"}), [0, 1], cache=RunCache(tmp_path))):
        assert again["failed_runs"] == 0
        assert all(seed[arm]["cached"] for seed in again["per_seed"] for arm in ("base", "variant"))
        assert again["paired"] == first["paired"]


def test_a_failing_run_is_reported_not_raised(tiny, monkeypatch):
    real = workers.train_run

    def fails_on_seed_1(cfg, device="auto"):
        if cfg.training.seed == 1:
            raise RuntimeError("out of memory\nsecond line")
        return real(cfg, device=device)
    monkeypatch.setattr(workers, "train_run", fails_on_seed_1)
    result = compare(tiny, tiny, [0, 1, 2], cache=RunCache())
    failed = result["per_seed"][1]["base"]
    assert failed["error"] == "RuntimeError: out of memory" and failed["metrics"] is None
    assert result["per_seed"][0]["base"]["error"] is None
    assert result["failed_runs"] == 2 and result["paired"]["test_accuracy"]["n"] == 2
    json.dumps(result)


def test_process_pool_matches_in_process_and_captures_worker_errors(tiny):
    # passes the config check, but fails while training: the last batch of 121 at batch size 60 holds one
    # sample, which faithful ASA refuses
    broken = tiny.with_values({"arch": "conv", "channels": "4", "asa": "faithful", "train-samples": 121,
                               "batch-size": 60})
    pooled = compare(tiny, broken, [0, 1], workers=2)
    local = compare(tiny, tiny, [0, 1])
    for pool_seed, local_seed in zip(pooled["per_seed"], local["per_seed"]):
        assert untimed(pool_seed["base"]) == untimed(local_seed["base"])
        assert "batch size 1" in pool_seed["variant"]["error"]
    assert pooled["paired"] == {} and pooled["failed_runs"] == 2


def test_sweep_summarises_each_value(tiny):
    result = sweep(tiny, "max-spikes", ["0", "1"], [0, 1])
    assert result["values"] == [0, 1] and [p["value"] for p in result["points"]] == [0, 1]
    first, second = result["points"]
    assert first["summary"]["test_accuracy"]["n"] == 2 and len(second["runs"]) == 2
    assert first["paired_vs_first"]["test_accuracy"]["mean"] == 0.0
    assert second["runs"][1]["seed"] == 1
    for parameter, values, needle in [("depth", ["1"], "unknown parameter 'depth'; allowed: T,"),
                                      ("seed", ["1"], "cannot be swept"),
                                      ("max-spikes", ["1", "x"], "max-spikes='x' is not valid")]:
        with pytest.raises(ValueError, match=needle):
            sweep(tiny, parameter, values, [0])


# --- command line ------------------------------------------------------------------------------

def test_compare_command_writes_paired_json(tmp_path, capsys):
    out = tmp_path / "compare.json"
    code = main(["compare", "--base", TINY_ARGS, "--variant", "max-spikes=1", "--seeds", "2", "--first-seed", "3",
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


def test_sweep_command_and_failed_runs_exit_1(tmp_path, capsys, monkeypatch):
    real = workers.train_run

    def fails_with_two_layers(cfg, device="auto"):
        if len(cfg.model.hidden) == 2:
            raise RuntimeError("out of memory")
        return real(cfg, device=device)
    monkeypatch.setattr(workers, "train_run", fails_with_two_layers)
    code = main(["sweep", "--base", TINY_ARGS, "--param", "hidden", "--values", "16;8,8", "--seeds", "1",
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
