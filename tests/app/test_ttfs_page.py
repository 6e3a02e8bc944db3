"""The TTFS vs multi-spike page and its glue (snn_app.ttfs), on a tiny first-spike config (the sweep's statistics:
tests/core/experiments/test_ttfs_sweep.py)."""
import pytest

from app_runner import open_script
from snn_app import jobs
from snn_app import ttfs as glue
from snn_core.experiments.ttfs_sweep import KSweepStats
from snn_core.methods.ttfs.presets import exact_config, ttfs_config
from snn_core.results import MeanCI

PAGE = {"encoding": "latency", "neuron": "cuba", "readout": "first-spike", "T": 6, "tau-syn": 2, "threshold": 0.3,
        "hidden": 8, "train-samples": 80, "epochs": None}     # changes from the tiny base


def test_loading_the_preset_sets_the_sidebar_and_the_session_config():
    at = open_script("app_pages/ttfs.py")
    at.button(key="ttfs_load").click().run()
    assert not at.exception
    assert at.session_state.config == ttfs_config() and at.session_state["cfg:encoding"] == "latency"


def test_the_exact_engines_preset_is_fast_and_deeps_and_the_page_says_so():
    at = open_script("app_pages/ttfs.py")
    at.radio(key="ttfs_engine").set_value("exact").run()
    assert not at.exception
    assert any("Fast & Deep's loss settings" in caption.value and "α = 0.005" in caption.value
               for caption in at.caption)
    at.button(key="ttfs_load").click().run()
    assert not at.exception and at.session_state.config == exact_config()
    assert at.session_state.config.model.first_spike_reg == 0.005 and at.session_state.config.model.tau_loss == 0.8


@pytest.fixture
def tiny_page(tiny_values, monkeypatch, tmp_path):
    monkeypatch.setattr(glue, "SWEEP_WORKERS", 1)              # one process: no worker start-up in a test
    monkeypatch.setenv("SNN_RUN_CACHE_DIR", str(tmp_path))
    at = open_script("app_pages/ttfs.py", tiny_values(PAGE), timeout=180)
    assert not at.exception
    at.radio(key="ttfs_start").set_value("sidebar settings")
    at.number_input(key="ttfs_epochs").set_value(1)
    at.number_input(key="ttfs_seeds").set_value(2)
    return at.run()


def test_page_renders_and_the_sweep_draws_the_trade_off(tiny_page):
    at = tiny_page
    assert not at.exception and not at.error
    assert any("Run the K sweep" in info.value for info in at.info)
    at.button(key="ttfs_sweep_run").click().run()
    assert not at.exception and not at.error
    assert at.session_state[jobs.state_key(glue.SWEEP_JOB)].wait(180).state == jobs.FINISHED
    at.run()
    assert not at.exception and not at.error
    result = at.session_state.ttfs_sweep["result"]
    assert [point.value for point in result.points] == [1, 2, 3, 5, 0] and result.failed_runs == 0
    assert result.config.data.time_steps == 6 and result.config.training.epochs == 1
    titles = [chart.proto.spec for chart in at.get("plotly_chart")]
    for title in ("Test accuracy", "Spikes per sample", "Decision step", "No decision", "Silent neurons",
                  "Accuracy vs readout time", "Convergence", "Robustness", "Accuracy under jitter"):
        assert any(title in spec for spec in titles), title
    assert any("95% CI over 2 seeds, 1 epochs" in c.value for c in at.caption)
    at.run()                                                  # a later rerun keeps the sweep as current
    assert not any("settings changed" in info.value for info in at.info)


def test_single_run_at_k_one_shows_no_neuron_above_one_spike(tiny_page):
    at = tiny_page
    at.select_slider(key="ttfs_k").set_value("1").run()
    at.button(key="ttfs_single_run").click().run()
    assert not at.exception and not at.error
    assert at.session_state[jobs.state_key(glue.SINGLE_JOB)].wait(120).state == jobs.FINISHED
    at.run()
    assert not at.exception and not at.error
    assert [cfg.neuron.max_spikes for cfg in at.session_state.ttfs_runs] == [1]
    most = next(m for m in at.metric if m.label == "max per neuron")
    assert most.value in ("0 ≤ 1", "1 ≤ 1")
    for sample in range(3):
        at.slider(key="ttfs_sample").set_value(sample).run()
        runs = at.session_state.ttfs_runs
        rasters = glue.sample_rasters(next(iter(runs.values())), sample)
        assert glue.max_spike_count(rasters) <= 1
        assert rasters["fc1"][0].shape == (6, 8) and rasters["out"][1] == [str(d) for d in range(10)]


def test_exact_engine_with_unlimited_k_is_an_error_and_the_page_keeps_running(tiny_page):
    at = tiny_page
    at.select_slider(key="ttfs_k").set_value("∞")
    at.radio(key="ttfs_engine").set_value("exact").run()
    assert not at.exception
    assert any("K = ∞ cannot run on the exact engine" in e.value for e in at.error)
    assert any("K = ∞ is left out of the sweep" in w.value for w in at.warning)
    at.select_slider(key="ttfs_k").set_value("2").run()
    assert not at.exception and not at.error
    assert at.button(key="ttfs_single_run").label == "Train one run at K = 2"


def test_trade_off_panels_are_titled_by_metric_with_the_jitter_level_in_the_last():
    accuracy = {"1": MeanCI(0.7, 0.6, 0.8, 0.1, 2, None)}
    stats = KSweepStats(tradeoff={"test_accuracy": accuracy, "robustness.jitter.4": accuracy}, jitter_level="4",
                        silent={}, tcut={}, epochs={}, robustness={})
    panels = glue.tradeoff_panels(stats)
    assert [panel[:3] for panel in panels] == [("Test accuracy", "test accuracy", True),
                                               ("Accuracy under jitter σ = 4 steps", "test accuracy", True)]
    assert panels[0][3] is accuracy
