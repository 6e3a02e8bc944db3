"""AppTest of the Train & watch page: Play/Step/Reset, errors and downloads.

Play trains in the session's background thread (``snn_app.live``); ``run_every`` does not tick under AppTest, so a
test waits for the thread (``wait_for_training``) and runs the page again, as the live view's refresh would.
"""
import time

from app_runner import open_script as first_run
from app_runner import shown_text, wait_for_training
from snn_core.training.trainer import Trainer

PAGE = {"epochs": 2, "train-samples": 200, "test-samples": 60, "hidden": 32}   # changes from the tiny base


LONGER = {**PAGE, "epochs": 8, "train-samples": 1437}           # Play runs for a while (seconds)


def test_step_advances_one_gradient_step_deterministically(tiny_values):
    losses = []
    for _ in range(2):
        at = first_run("app_pages/train.py", tiny_values(PAGE))
        at.button(key="step").click().run()
        at.button(key="step").click().run()
        assert at.session_state.trainer.steps == 2 and not at.exception
        losses.append(at.session_state.live.logs()[0])
    assert losses[0] == losses[1] and len(losses[0]) == 2


def test_play_trains_in_the_background_until_done_without_the_page_running(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(LONGER))
    at.button(key="play_pause").click().run()
    trainer, live = at.session_state.trainer, at.session_state.live
    assert live.playing and at.button(key="play_pause").label == "Pause"
    before = trainer.steps
    time.sleep(0.5)                 # no script run meanwhile: only the background thread can step
    assert trainer.steps > before
    wait_for_training(at)
    assert trainer.finished and not live.playing and not at.exception
    charts = [chart.key for chart in at.get("plotly_chart")]
    assert charts == ["network_diagram", "loss", "activity", "accuracy", "rates", "cost_bars"]
    assert at.metric[0].value.endswith("%")
    assert at.button(key="play_pause").disabled            # finished: Reset to train again


def test_pause_stops_training(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(LONGER))
    at.button(key="play_pause").click().run()
    at.button(key="play_pause").click().run()
    time.sleep(0.2)                                         # the step in progress ends
    steps = at.session_state.trainer.steps
    time.sleep(0.3)
    at.run()
    assert not at.session_state.live.playing and at.session_state.trainer.steps == steps


def test_reset_starts_a_new_run_and_a_changed_setting_is_announced(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    at.button(key="step").click().run()
    first = at.session_state.trainer
    at.session_state.config = first.cfg.with_values({"seed": 5})      # what the sidebar does
    at.run()
    assert at.session_state.trainer is first
    assert "seed" in at.info[0].value
    at.button(key="reset").click().run()
    assert at.session_state.trainer is not first and at.session_state.trainer.cfg.training.seed == 5
    assert at.session_state.trainer.steps == 0 and at.session_state.live.logs() == ([], [])


def test_a_model_error_is_shown_and_the_current_run_is_kept(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    at.button(key="step").click().run()
    kept = at.session_state.trainer
    at.session_state.config = kept.cfg.with_values({"hidden": ""})     # an MLP needs a hidden layer
    at.button(key="reset").click().run()
    assert not at.exception
    assert "at least one hidden layer" in at.error[0].value
    assert at.session_state.trainer is kept


def test_downloads_offer_every_format_after_an_epoch(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    at.button(key="play_pause").click().run()
    wait_for_training(at)
    labels = {button.label for button in at.get("download_button")}
    assert labels == {"history (CSV)", "metrics (CSV)", "run (JSON)", "config (JSON)", "model (safetensors)",
                      "model (NIR)", "figures (HTML)"}


def test_an_error_during_training_stops_play_and_is_shown(tiny_values, monkeypatch):
    """A run that cannot go on (the engine raises ValueError at its second step) stops Play and says why."""
    original = Trainer.step

    def step(self):
        if self.steps == 1:
            raise ValueError("the second batch cannot be trained")
        return original(self)

    monkeypatch.setattr(Trainer, "step", step)
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    at.button(key="play_pause").click().run()
    wait_for_training(at)
    assert not at.exception and not at.session_state.live.playing
    assert "the second batch cannot be trained" in at.error[0].value
    assert at.session_state.trainer.steps == 1


NO_MEMORY = "DefaultCPUAllocator: can't allocate memory: you tried to allocate 68719476736 bytes."


def test_running_out_of_memory_stops_play_keeps_the_run_and_says_what_to_lower(tiny_values, monkeypatch):
    original = Trainer.step

    def step(self):
        if self.steps == 1:
            raise RuntimeError(NO_MEMORY)
        return original(self)

    monkeypatch.setattr(Trainer, "step", step)
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    at.button(key="play_pause").click().run()
    kept = at.session_state.trainer
    wait_for_training(at)
    assert not at.exception and not at.session_state.live.playing
    assert at.session_state.trainer is kept and kept.steps == 1 and len(at.session_state.live.logs()[0]) == 1
    message = shown_text(at.error[0].value)
    assert "out of memory: lower Training ▸ batch size, Data ▸ T" in message and "--" not in message
    assert "can't allocate memory" in message
    at.button(key="step").click().run()                                  # Step meets it too: shown, not raised
    assert not at.exception and "out of memory" in at.error[0].value and at.session_state.trainer is kept


def test_a_run_too_big_to_build_is_refused_and_the_current_run_is_kept(tiny_values, monkeypatch):
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    at.button(key="step").click().run()
    kept = at.session_state.trainer

    def no_memory(self, cfg, device="auto"):
        raise MemoryError

    monkeypatch.setattr(Trainer, "__init__", no_memory)
    at.button(key="reset").click().run()
    assert not at.exception and at.session_state.trainer is kept
    assert "Cannot train with these settings: out of memory: lower" in shown_text(at.error[0].value)


def test_the_memory_budget_refuses_the_issues_link_before_anything_loads(tiny_values, monkeypatch):
    monkeypatch.setenv("SNN_MEMORY_BUDGET_MB", "8000")
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    at.session_state.config = at.session_state.config.with_values(
        {"hidden": "2048,2048,2048,2048", "T": "64", "batch-size": "1024", "epochs": "500"})     # what the URL sets
    at.button(key="step").click().run()
    assert not at.exception and at.session_state.trainer is None
    assert "over the budget of 8,000 MB" in at.error[0].value and "Training ▸ batch size" in at.error[0].value


def test_plif_shows_each_layers_learned_tau_moving_step_by_step(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE, hidden="16,12", plif="on", lr=0.05))
    for _ in range(3):
        at.button(key="step").click().run()
    assert not at.exception
    charts = {chart.key: chart for chart in at.get("plotly_chart")}
    figure = __import__("json").loads(charts["reading:plif"].proto.spec)
    lines = [trace for trace in figure["data"] if trace.get("mode") == "lines"]
    assert [trace["name"] for trace in lines] == ["fc1", "fc2"]
    assert all(trace["x"] == [0, 1, 2, 3] and len(set(trace["y"])) == 4 for trace in lines)  # from the start, each step
    assert any("PLIF" in expander.label for expander in at.expander)                          # and what it means


def test_a_plif_twin_shows_its_learned_tau_beside_the_run(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE, hidden="16,12", lr=0.05))
    at.toggle(key="twin_on").set_value(True).run()
    at.selectbox(key="twin_setting").set_value("PLIF").run()
    assert at.radio(key="twin_value_plif").value == "on"
    for _ in range(2):
        at.button(key="step").click().run()
    assert not at.exception
    charts = {chart.key: chart for chart in at.get("plotly_chart")}
    figure = __import__("json").loads(charts["reading:plif"].proto.spec)
    assert [trace["name"] for trace in figure["data"] if trace.get("mode") == "lines"] == ["fc1 (twin)", "fc2 (twin)"]
