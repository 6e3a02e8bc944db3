"""The Redundancy & ASA page and its glue on a tiny event-data pair."""
import pytest
import torch

from app_runner import open_script
from snn_app import asa as glue
from snn_app import jobs
from snn_core.config.run_config import RunConfig
from snn_core.metrics.redundancy import PatternThresholds, RedundancyTally
from snn_core.training.evaluate import eval_batches

PAGE = {"T": 4, "channels": "4,8", "train-samples": None}     # changes from the tiny base (the default training set)


def test_pair_configs_differ_only_in_asa_and_move_digits_to_event_data():
    arms = glue.pair_configs(RunConfig(), "clean", 0.2, 2, 200)
    off, on = arms["ASA off"], arms["ASA on"]
    assert list(arms) == list(glue.ARMS)
    assert off.data.dataset == "events-shape" and off.model.arch == "conv" and off.data.noise_level == 0.2
    assert off.methods.asa == "off" and on.methods.asa == "clean"
    assert on.with_values({"asa": "off"}) == off


def test_the_page_network_is_the_asa_papers_neuron_unless_switched_off():
    paper = glue.pair_configs(RunConfig(), "clean", 0.2, 2, 200)["ASA off"]
    assert (paper.neuron.threshold, paper.neuron.decay, paper.neuron.surrogate) == (0.3, 0.3, "rectangular")
    assert paper.training.lr == 0.01
    sidebar = glue.pair_configs(RunConfig(), "clean", 0.2, 2, 200, paper_network=False)["ASA off"]
    assert sidebar.neuron == RunConfig().neuron and sidebar.training.lr == RunConfig().training.lr


def test_the_default_network_without_asa_has_noise_channels_on_validation(train_to_end):
    """The page's default network and data (paper neuron, noise 0.2, 4 epochs) at 200 clips instead of 1000, to
    keep the test short: the run without ASA has a channel firing above rate 0.5 on over half its positions of the
    validation clips (the page's own size gave conv1 1-3 noise channels on seeds 0-2)."""
    off = glue.pair_configs(RunConfig().with_values({"test-samples": 40}), "clean", 0.2, 4, 200)["ASA off"]
    trainer, _ = train_to_end(off)
    tally = RedundancyTally(trainer.model.layer_names, PatternThresholds())
    with torch.no_grad():
        for _, inputs, _ in eval_batches(trainer, "validation"):
            tally.add(trainer.model(inputs).spikes)
    validation = tally.summary()
    assert validation.samples == 20
    assert any("noise" in patterns for patterns in validation.patterns.values())


def test_the_story_counts_noise_channels_and_says_when_there_are_none():
    class Patterns:
        def __init__(self, **patterns):
            self.patterns = patterns
    off = Patterns(conv1=("noise", "normal", "noise"), conv2=("normal",))
    on = Patterns(conv1=("null", "normal", "normal"), conv2=("normal",))
    story = glue.noise_story(off, on)
    assert "**conv1**: 2 of 3 channels noise without ASA (0, 2)" in story
    assert "those channels are 0 noise, 1 normal, 1 null; 0 noise channels in all" in story
    assert "conv2" not in story
    assert "No conv channel is classified noise" in glue.noise_story(on, on)


def test_the_controls_start_their_learned_gate_at_the_chosen_g():
    arms = glue.pair_configs(RunConfig(), "faithful", 0.2, 2, 200, list(glue.CONTROLS), 0.5)
    assert arms["learned gate"].methods.asa == "scalar" and arms["learned gate"].methods.asa_constant_gate == 0.5
    assert arms["random gate"].methods.asa == "random" and arms["random gate"].methods.asa_constant_gate == 0.5
    assert glue.DEFAULT_CONTROL == "learned gate" and "constant gate" not in glue.CONTROLS


def test_a_pair_that_cannot_run_is_refused_on_the_page_before_training(tiny_values):
    with pytest.raises(ValueError, match=r"needs data.time_steps \(--T\) >= 2"):
        glue.pair_configs(RunConfig().with_values({"T": 1}), "clean", 0.2, 2, 200)
    at = open_script("app_pages/asa.py", tiny_values(PAGE, T=1), timeout=120)
    assert not at.exception and "These settings cannot run ASA" in at.error[0].value
    assert "Train ASA off, on and controls" not in [button.label for button in at.button]


def test_page_trains_the_pair_and_shows_fig1_and_gates(tiny_values):
    at = open_script("app_pages/asa.py", tiny_values(PAGE), timeout=180)
    assert not at.exception and "Train ASA off, on and controls" in at.info[0].value
    assert at.multiselect(key="red_controls").value == ["learned gate"]
    at.multiselect(key="red_controls").set_value(["learned gate", "random gate"])
    at.number_input(key="red_gate").set_value(0.5)
    at.number_input(key="red_epochs").set_value(1)
    at.number_input(key="red_samples").set_value(200)
    at.button(key="red_train").click().run()
    assert not at.exception and not at.error
    assert at.session_state[jobs.state_key(glue.JOB)].wait(180).state == jobs.FINISHED
    at.run()
    assert not at.exception and not at.error
    assert jobs.state_key(glue.JOB) not in at.session_state       # its trainers taken, the job is gone
    trainers = at.session_state.asa_pair["trainers"]
    assert trainers["ASA on"].cfg.methods.asa == "clean" and trainers["ASA off"].cfg.methods.asa == "off"
    assert trainers["learned gate"].cfg.methods.asa_constant_gate == 0.5
    assert trainers["random gate"].cfg.methods.asa == "random"
    assert len(at.get("plotly_chart")) >= 4
    arms = list(trainers)
    assert [m.label for m in at.metric] == [arm for arm in arms for _ in ("accuracy", "NASFR")]   # short labels
    assert all(len(m.label) <= len("learned gate") for m in at.metric)
    assert at.radio(key="red_against").value == "learned gate"
    accuracy_on, nasfr_on = (m for m in at.metric if m.label == "ASA on")
    assert "vs learned gate" in accuracy_on.delta and "pts" in accuracy_on.delta
    assert any("noise without ASA" in m.value or "No conv channel is classified noise" in m.value
               for m in at.markdown)
    at.radio(key="red_against").set_value("ASA off").run()
    assert "vs ASA off" in [m for m in at.metric if m.label == "ASA on"][1].delta
    assert any("ASA's mean gate in this run" in c.value for c in at.caption)
    at.radio(key="red_layer").set_value("conv2").run()
    at.radio(key="red_mpd").set_value("membrane before reset").run()
    assert not at.exception and not at.error
