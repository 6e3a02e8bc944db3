"""URL state: a config survives the round trip, defaults stay out of the link, bad values fall back."""
from snn_app.url_state import decode, encode
from snn_core.config.run_config import RunConfig


def test_default_config_gives_an_empty_query():
    assert encode(RunConfig()) == {}


def test_round_trip_of_a_changed_config():
    cfg = RunConfig().with_values({"dataset": "events-shape", "arch": "conv", "T": 4, "hidden": "64,32",
                                   "batch-norm": "false", "decay": "0.3", "max-spikes": 1, "seed": 7})
    params = encode(cfg)
    assert params["T"] == "4" and params["hidden"] == "64,32" and params["batch-norm"] == "false"
    assert "lr" not in params
    decoded, notices = decode(params)
    assert decoded == cfg and notices == []


def test_bad_and_unknown_values_fall_back_to_defaults_with_notices():
    cfg, notices = decode({"T": "999", "dataset": "events-direction", "colour": "red", "decay": "abc"})
    assert cfg.data.time_steps == RunConfig().data.time_steps
    assert cfg.data.dataset == "events-direction"
    assert cfg.neuron.decay == RunConfig().neuron.decay
    assert len(notices) == 3
    assert any("T='999'" in n and "integer 1..64" in n for n in notices)
    assert any("unknown link setting 'colour'" in n for n in notices)


def test_repeated_parameters_use_the_last_value():
    cfg, _ = decode({"T": ["2", "6"]})
    assert cfg.data.time_steps == 6


def test_the_papers_alias_k_works_in_a_link_as_in_the_cli():
    cfg, notices = decode({"K": "3"})
    assert cfg.neuron.max_spikes == 3 and notices == []


def test_settings_that_depend_on_each_other_are_judged_together_whatever_their_order():
    link = {"first-spike-reg": "0.005", "readout": "first-spike"}     # sorted: the regulariser comes first
    cfg, notices = decode(link)
    assert cfg.model.first_spike_reg == 0.005 and cfg.model.readout == "first-spike" and notices == []
    assert decode(dict(reversed(link.items()))) == (cfg, [])


def test_settings_that_cannot_run_together_get_a_notice_per_problem_and_stay_in_the_config():
    cfg, notices = decode({"first-spike-reg": "0.5", "encoding": "latency", "latency-window": "20", "T": "abc"})
    assert cfg.model.first_spike_reg == 0.5 and cfg.data.latency_window == 20     # kept for the sidebar to show
    assert len(notices) == 3 and "T='abc' is not valid" in notices[0]
    assert notices[1].startswith("The link's settings cannot run together: data.latency_window (--latency-window)=20")
    assert "model.first_spike_reg (--first-spike-reg)=0.5 needs first-spike times" in notices[2]


def test_classroom_mode_is_written_as_mode_class_and_read_back_without_touching_the_config():
    from snn_app.url_state import app_settings
    cfg = RunConfig().with_values({"T": 4})
    params = encode(cfg, classroom=True)
    assert params == {"T": "4", "mode": "class"}
    assert decode(params) == (cfg, []) and app_settings(params) == (True, None, [])
    assert app_settings(encode(cfg)) == (False, None, [])


def test_a_challenge_link_carries_its_settings_and_key_and_a_bad_key_or_mode_gets_a_notice():
    from snn_app.pages import CHALLENGES
    from snn_app.url_state import app_settings, challenge_params
    item = CHALLENGES[0]
    params = challenge_params(item.key, classroom=True)
    cfg, notices = decode(params)
    assert cfg == RunConfig().with_values(dict(item.settings)) and notices == []
    assert app_settings(params) == (True, item.key, [])
    classroom, key, notices = app_settings({"mode": "kids", "challenge": "fly"})
    assert (classroom, key) == (False, None) and len(notices) == 2
    assert "mode='kids' is not valid" in notices[0] and "allowed: mode=class" in notices[0]
    assert "challenge='fly' is not a challenge" in notices[1] and item.key in notices[1]
