"""The Temporal reversal (TRT) page: its presets, a sample both ways, a tiny TRT comparison and bad input."""
import base64
import json
import threading

import numpy as np
import pytest

from app_runner import open_script
from snn_app import jobs
from snn_app import trt as glue
from snn_core.config.run_config import RunConfig
from snn_core.results import Comparison, RunResult, SeedPair
from snn_core.training.trainer import EpochRecord


def finish(at, name: str, timeout: float = 180):
    """Wait for the page's background job ``name`` to finish, then rerun the page to draw its result."""
    assert at.session_state[jobs.state_key(name)].wait(timeout).state == jobs.FINISHED
    return at.run()

PAGE = {"T": 2, "hidden": 8, "train-samples": None}     # changes from the tiny base (the default training set)


def test_presets_differ_only_in_trt_and_the_controls_in_what_they_control(tiny):
    base = tiny(PAGE)
    off, on = glue.experiment_arms(base, "events-shape, T = 4", settings="sidebar")
    assert (off.data.dataset, off.data.time_steps, off.data.train_samples) == ("events-shape", 4, glue.TRAIN_SAMPLES)
    assert off.model.hidden == (8, 8)             # a layer must follow the first one, where static data is cut
    assert off.methods.trt == "off" and on.methods.trt == "on"
    assert off.training.epochs == 2 * on.training.epochs                    # compute-matched: TRT's two branches
    assert on.with_values({"trt": "off", "epochs": off.training.epochs}) == off
    _, permuted = glue.experiment_arms(base, "control: permutation (events-shape, T = 4)", settings="sidebar")
    assert permuted.methods.trt_perturbation == "permute"
    equal, trt = glue.experiment_arms(base, "equal epochs, not compute-matched (events-shape, T = 4)",
                                      settings="sidebar")
    assert equal.training.epochs == trt.training.epochs and equal == on.with_values({"trt": "off"})
    _, ablated = glue.experiment_arms(base, "digits, T = 4", "trt-star=0 trt-ce-reversed=0", "sidebar")
    assert (ablated.methods.trt_star, ablated.methods.trt_ce_reversed, ablated.methods.trt_kl_weight) == (0, 0, 1)


def test_a_preset_the_report_also_shows_trains_the_reports_runs_on_the_report_settings(tiny):
    from snn_core.report.trt import rows

    report = {row.label: (row.base, row.variant) for row in rows()}
    shared = [experiment for experiment in glue.PRESETS.values() if experiment.report_label]
    assert len(shared) == 9                      # all presets but events-shape T = 8 and the equal-epochs one
    for experiment in shared:
        arms = glue.experiment_arms(tiny(PAGE), experiment.page_name)
        assert arms == report[experiment.report_label], experiment.page_name
        assert glue.experiment_arms(tiny(PAGE), experiment.page_name, settings="sidebar") != arms


def test_presets_reject_unknown_names_non_trt_changes_and_bad_values(tiny):
    base = tiny(PAGE)
    with pytest.raises(ValueError, match="not known; allowed: events-shape, T = 4, events-shape, T = 2"):
        glue.experiment_arms(base, "cifar10")
    with pytest.raises(ValueError, match="hidden are not TRT settings"):
        glue.experiment_arms(base, "digits, T = 4", "hidden=4")
    with pytest.raises(ValueError, match="trt-tau"):
        glue.experiment_arms(base, "digits, T = 4", "trt-tau=-1")
    with pytest.raises(ValueError, match="settings='mine' is not known; allowed: report, sidebar"):
        glue.experiment_arms(base, "digits, T = 4", settings="mine")


def comparison_of(*variants: RunResult) -> Comparison:
    """A comparison whose TRT arm ran ``variants`` (one per seed); the baselines and statistics do not matter here."""
    cfg = RunConfig()
    return Comparison(cfg, cfg, tuple(range(len(variants))),
                      tuple(SeedPair(seed, RunResult(cfg), run) for seed, run in enumerate(variants)), {}, {}, {}, 0, 0)


def run_with_terms(*terms: dict, error: str | None = None) -> RunResult:
    """A run whose epochs logged ``terms`` (one dict of loss terms per epoch)."""
    history = tuple(EpochRecord(epoch, 1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, {}, loss_terms=term)
                    for epoch, term in enumerate(terms, start=1))
    return RunResult(RunConfig(), history, error=error)


def test_loss_terms_are_averaged_over_the_seeds_that_finished():
    def finished(*values):
        return run_with_terms(*({"ce": v, "kl": v / 10} for v in values))

    result = comparison_of(finished(2.0, 1.0), finished(4.0, 3.0), run_with_terms(error="RuntimeError: boom"))
    terms = glue.mean_loss_terms(result)
    assert list(terms) == ["CE (original)", "τ² KL consistency"]
    assert terms["CE (original)"] == [3.0, 2.0] and terms["τ² KL consistency"] == pytest.approx([0.3, 0.2])
    assert glue.mean_loss_terms(comparison_of(run_with_terms({}))) == {}


def test_a_direction_clip_reversed_has_the_opposite_label():
    from snn_core.data.events import DIRECTIONS

    assert DIRECTIONS[glue.reversed_label("events-direction", DIRECTIONS.index("left"))] == "right"
    assert glue.reversed_label("events-shape", 0) is None


def decoded(value) -> np.ndarray:
    """A figure array as sent to the browser: a list, or plotly's base64 ``{dtype, bdata, shape}``."""
    if isinstance(value, dict):
        shape = [int(n) for n in value["shape"].split(",")] if "shape" in value else -1
        return np.frombuffer(base64.b64decode(value["bdata"]), np.dtype(value["dtype"])).reshape(shape)
    return np.asarray(value)


def chart(at, title_part: str) -> dict:
    """The figure of the page's chart whose title contains ``title_part``."""
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if title_part in spec["layout"].get("title", {}).get("text", ""):
            return spec
    raise AssertionError(f"no chart titled '...{title_part}...'")


def test_page_renders_and_shows_a_sample_and_its_reversal(tiny_values):
    at = open_script("app_pages/trt.py", tiny_values(PAGE), timeout=180)
    assert not at.exception and not at.error
    assert "Press **Train**" in at.info[0].value and "Run experiments" in at.info[1].value
    at.selectbox(key="trt_dataset").set_value("events-shape").run()
    at.button(key="trt_train").click().run()
    finish(at, glue.DEMO_JOB)
    assert not at.exception and not at.error
    trainer = at.session_state.trt_demo
    assert trainer.cfg.methods.trt == "on" and trainer.finished
    frames = chart(at, "original and reversed")
    images = [decoded(trace["customdata"]) for trace in frames["data"]]          # per image: (H, W, 2) counts
    steps = len(images) // 2
    original, reversed_ = np.array(images[:steps]), np.array(images[steps:])
    assert steps == 2 and original.any() and not np.array_equal(original[0], original[1])
    assert np.array_equal(reversed_, original[::-1])
    sample = trainer.dataset.test_x[0].numpy()                          # (T, 2, H, W)
    assert np.array_equal(original, sample.transpose(0, 2, 3, 1))
    outputs = chart(at, "output both ways")
    assert [bar["name"].split(":")[0] for bar in outputs["data"]] == ["original", "reversed"]
    assert decoded(outputs["data"][0]["y"]).sum() == pytest.approx(1.0, abs=1e-4)


def test_the_page_draws_while_the_sample_network_is_still_training(tiny_values, monkeypatch):
    release, real = threading.Event(), glue.train_steps

    def held(*args, **kwargs):                    # the job waits until the page has drawn its running state
        release.wait(60)
        return real(*args, **kwargs)
    monkeypatch.setattr(glue, "train_steps", held)
    at = open_script("app_pages/trt.py", tiny_values(PAGE), timeout=180)
    at.button(key="trt_train").click().run()
    assert not at.exception and at.session_state[jobs.state_key(glue.DEMO_JOB)].snapshot().running   # no network yet
    release.set()
    finish(at, glue.DEMO_JOB)
    assert not at.exception and at.session_state.trt_demo is not None


def test_digits_show_the_first_layer_raster_reversed(tiny_values):
    at = open_script("app_pages/trt.py", tiny_values(PAGE, T=4, hidden=32, epochs=5), timeout=120)
    at.selectbox(key="trt_dataset").set_value("digits").run()
    at.button(key="trt_train").click().run()
    finish(at, glue.DEMO_JOB)
    assert not at.exception and not at.error
    raster = chart(at, "fc1 spikes, original and reversed")
    (t0, n0), (t1, n1) = [(decoded(tr["x"]), decoded(tr["y"])) for tr in raster["data"]]
    assert len(t0) > 0 and sorted(zip(3 - t0, n0)) == sorted(zip(t1, n1))                 # T = 4: step t -> 3 - t


def test_a_tiny_comparison_shows_its_figures_and_verdict_then_bad_input_keeps_them(tiny_values, monkeypatch,
                                                                                     tmp_path):
    monkeypatch.setenv("SNN_RUN_CACHE_DIR", str(tmp_path))
    at = open_script("app_pages/trt.py", tiny_values(PAGE), timeout=180)
    control = "control: permutation (events-shape, T = 4)"
    at.multiselect(key="trt_experiments").set_value(["digits, T = 4", control]).run()
    at.radio(key="trt_settings").set_value("sidebar")
    at.number_input(key="trt_seeds").set_value(2)
    at.number_input(key="trt_workers").set_value(1)
    at.button(key="trt_run").click().run()
    finish(at, glue.EXPERIMENTS_JOB)
    assert not at.exception and not at.error
    results = at.session_state.trt_results.results
    assert results[control].variant.methods.trt_perturbation == "permute"
    result = results["digits, T = 4"]
    assert result.seeds == (0, 1) and result.failed_runs == 0
    assert list(decoded(chart(at, "Test accuracy, TRT − baseline")["data"][0]["y"])) == list(results)
    for title in ("Baseline and TRT", "firing rate per layer", "loss terms"):
        chart(at, title)
    at.radio(key="trt_shown").set_value(control).run()
    assert any("TRT with permute against baseline" in m.value for m in at.markdown)
    at.radio(key="trt_shown").set_value("digits, T = 4").run()
    verdicts = [m.value for m in at.markdown if "TRT against baseline" in m.value]
    assert len(verdicts) == 1 and verdicts[0].count("\n- ") == 5          # accuracy, agreement, KL, gap, NASFR
    assert "test accuracy" in verdicts[0] and "agreement" in verdicts[0]
    at.text_input(key="trt_changes").set_value("trt-tau=-1").run()
    assert not at.exception and "trt-tau" in at.error[0].value
    assert at.button(key="trt_run").disabled
    chart(at, "Test accuracy, TRT − baseline")                             # the earlier results stay
    at.multiselect(key="trt_experiments").set_value([]).run()
    assert not at.exception and "at least one experiment" in at.error[0].value


def test_the_train_and_watch_run_can_be_shown_both_ways(tiny, tiny_values):
    from snn_core.training.trainer import Trainer

    at = open_script("app_pages/trt.py", tiny_values(PAGE), timeout=120)
    trainer = Trainer(tiny(PAGE, {"T": "4", "epochs": "3", "hidden": "32",
                                               "train-samples": "200"}))
    trainer.fit()
    at.session_state.trainer = trainer                                  # what the Train & watch page leaves
    at.run()
    at.radio(key="trt_source").set_value("the Train & watch run").run()
    assert not at.exception and not at.error
    assert "TRT off" in next(c.value for c in at.caption if c.value.startswith("Network: digits"))
    chart(at, "fc1 spikes, original and reversed")
    probabilities = [decoded(bars["y"]) for bars in chart(at, "output both ways")["data"]]
    assert np.allclose(*probabilities, atol=1e-6)          # one layer, rate readout: a reversal changes nothing
    assert any("cannot change the output" in c.value for c in at.caption)


def test_both_ways_shows_the_poisson_inputs_that_the_single_sample_trace_runs(tiny):
    import torch

    from snn_core.training.evaluate import sample_inputs
    from snn_core.training.trainer import Trainer

    trainer = Trainer(tiny(PAGE, {"encoding": "poisson", "T": "4", "hidden": "32,16",
                                               "train-samples": "40", "threshold": "0.3"}))
    view, traced = glue.both_ways(trainer, 3), trainer.trace_samples([3])
    first = traced.trace.layers[0].spikes[:, 0].flatten(1).bool().numpy()           # (T, N)
    assert first.any() and np.array_equal(view.spikes["original"], first)
    assert int(view.probabilities["original"].argmax()) == traced.predictions[0]
    bare_seed = trainer.inputs(trainer.dataset.test_x[[3]], torch.Generator().manual_seed(0))
    assert not torch.equal(bare_seed, sample_inputs(trainer, [3]))      # the stream the page used to show


def test_the_sample_network_that_cannot_run_is_refused_before_training(tiny):
    playback = tiny(PAGE, trt_perturbation="playback")                      # plays event clips backwards
    assert glue.demo_config(playback, "events-shape", True).methods.trt == "on"
    with pytest.raises(ValueError, match="'playback' plays event clips backwards .* has no events"):
        glue.demo_config(playback, "digits", True)


def test_the_factorial_study_runs_from_the_page_with_holm_adjusted_cells(tiny, tiny_values, monkeypatch, tmp_path):
    from snn_core.experiments import trt_sign

    monkeypatch.setenv("SNN_RUN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(trt_sign, "BASE", tiny(PAGE, dataset="events-shape", hidden="8", robustness="false"))
    monkeypatch.setattr(trt_sign, "FACTORS", trt_sign.FACTORS[1:2])                     # BN running stats
    at = open_script("app_pages/trt.py", tiny_values(PAGE), timeout=120)
    assert not at.exception and not at.get("dataframe")
    at.number_input(key="trt_sign_seeds").set_value(2)
    at.number_input(key="trt_sign_data_seeds").set_value(1)
    at.number_input(key="trt_sign_workers").set_value(1)
    at.button(key="trt_sign_run").click().run()
    finish(at, glue.SIGN_JOB)
    assert not at.exception and not at.error
    figure = chart(at, "How large TRT's effect is per setting")
    assert list(decoded(figure["data"][0]["y"])) == ["both branches", "clean only"]
    table = at.get("dataframe")[0].value
    assert list(table["BN running stats"]) == ["both branches", "clean only"]
    assert list(table["wins"].str.endswith("/2")) == [True] * 2
    assert {"off (2× epochs) %", "p", "Holm p", "MDE points"} <= set(table.columns)
    assert set(table["reading"]) <= {"TRT ahead", "TRT behind", "no evidence"}
    assert any(c.value.startswith("Effect of each factor") and "BN running stats both branches → clean only"
               in c.value for c in at.caption)
    # the same study again comes from the run cache: no run trains twice
    first = at.session_state[jobs.state_key(glue.SIGN_JOB)]
    at.button(key="trt_sign_run").click().run()
    again = at.session_state[jobs.state_key(glue.SIGN_JOB)]
    assert again is not first
    snap = again.wait(60)
    assert snap.state == jobs.FINISHED and snap.cached == snap.total == 3 * 2     # 1 off + 2 on arms, 2 pairs
