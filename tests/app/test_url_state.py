"""URL state: a config survives the round trip, defaults stay out of the link, bad values fall back."""
from snn_app.url_state import decode, encode
from snn_core.config.run_config import RunConfig, cli_index


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


# --- hostile links: notices show the link's text as text (issue #15) -------------------------------------------

HOSTILE = {"[click here](http://evil.example/login)": "1", "![x](http://host/p.png)": "1"}


def test_escape_markdown_escapes_link_image_and_formatting_characters_and_cuts_long_text():
    from snn_app.url_state import escape_markdown
    text = escape_markdown("![x](http://host/p.png) *b* _i_ `c` <b>#|</b>")
    assert "](" not in text and "![" not in text and "http://" not in text
    for char in "[]()!*_`<>#|":
        assert f"\\{char}" in text
    assert escape_markdown("a\nb") == "a b"                          # one line: no new list item or heading
    assert escape_markdown("- x").startswith("\\-")                  # no list item at the start
    cut = escape_markdown("x" * 1000, limit=50)
    assert len(cut) == 50 and cut.endswith("…")
    assert escape_markdown("T='500' is not valid") == "T='500' is not valid"    # plain text stays readable


def test_a_link_with_markdown_in_its_keys_shows_a_notice_with_the_literal_text_never_a_link_or_image():
    from app_runner import open_script
    at = open_script("app.py", HOSTILE)
    assert not at.exception
    body = at.warning[0].value
    assert "\\[click here\\]\\(http\\:/" in body and "\\!\\[x\\]\\(http\\:/" in body
    assert "](" not in body.replace("\\](", "") and "![" not in body.replace("\\![", "")
    assert "http://" not in body                     # no bare URL for GFM to autolink either


def test_a_long_value_is_cut_in_its_notice():
    cfg, notices = decode({"T": "9" * 5000})
    assert cfg == RunConfig() and len(notices) == 1 and len(notices[0]) < 400 and "…" in notices[0]


# --- all keys at once, then key by key only when the set fails ----------------------------------------------

def test_fields_that_depend_on_each_other_keep_every_value_in_any_order():
    link = {"latency-window": "12", "T": "16", "encoding": "latency"}     # latency-window before T
    cfg, notices = decode(link)
    assert (cfg.data.latency_window, cfg.data.time_steps, cfg.data.encoding) == (12, 16, "latency")
    assert notices == [] and decode(dict(reversed(link.items()))) == (cfg, [])


def test_one_bad_value_drops_only_itself_and_the_rest_still_apply_together():
    cfg, notices = decode({"first-spike-reg": "0.005", "readout": "first-spike", "T": "abc", "hidden": "32"})
    assert cfg.model.first_spike_reg == 0.005 and cfg.model.readout == "first-spike" and cfg.model.hidden == (32,)
    assert cfg.data.time_steps == RunConfig().data.time_steps
    assert len(notices) == 1 and "T='abc' is not valid" in notices[0]


def _valid_values(fld) -> list:
    """Values of one field that validate on their own: every choice, both ends and a middle of a range, lists of
    each allowed length, paths with characters that mean something in a URL or in Markdown."""
    m = fld.metadata
    if m["choices"] is not None:
        return list(m["choices"])
    if m["kind"] is bool:
        return [True, False]
    if m["kind"] is str:
        return ["", "data/my recordings", "/tmp/a,b=c&d?e#f", "ü/[x](y)/100%"]
    if m["length"] is not None:
        lo, hi = m["length"]
        return [tuple(m["lo"] + i for i in range(n)) for n in range(lo, hi + 1)] + [(m["hi"],) * max(lo, 1)]
    if m["kind"] is int:
        return [m["lo"], m["hi"], (m["lo"] + m["hi"]) // 2]
    return [m["lo"], m["hi"], (m["lo"] + m["hi"]) / 3, m["lo"] + (m["hi"] - m["lo"]) * (0.1 + 0.2)]


def _configs() -> list[RunConfig]:
    """Many valid configs: every value above of every field on its own, and the conditional fields together."""
    configs = [RunConfig().with_values({cli: value}) for cli, (_, fld) in cli_index().items()
               for value in _valid_values(fld)]
    together = [
        {"readout": "first-spike", "first-spike-reg": "0.005", "tau-loss": "2"},
        {"encoding": "latency", "T": "16", "latency-window": "12"},
        {"engine": "exact", "encoding": "latency", "neuron": "cuba", "K": "1", "readout": "first-spike",
         "latency-window": "6", "T": "8", "weight-bump": "0.001"},
        {"dataset": "events-shape", "arch": "conv", "asa": "clean", "asa-layers": "1,2", "asa-rule": "and",
         "asa-gate-sub": "false", "trt": "on", "trt-perturbation": "playback", "trt-kl-weight": "0.5"},
        {"dataset": "events-direction", "arch": "conv", "asa": "faithful", "asa-lambda": "0.25",
         "asa-reduction": "2"},
        {"dataset": "nmnist", "data-dir": "/data/N-MNIST", "frame-size": "17", "event-frames": "binary",
         "denoise-us": "5000", "crop-us": "300000", "holdout": "0.25", "arch": "conv"},
        {"dataset": "event-folder", "data-dir": "data/my clips", "sensor": "640,480", "frame-size": "64",
         "event-frames": "first-spike"},
        {"dataset": "shd", "data-dir": "~/shd", "frame-size": "350", "hidden": "256,128", "T": "50"},
    ]
    configs += [RunConfig().with_values(flat) for flat in together]
    return configs


def test_round_trip_of_many_valid_configs_gives_the_same_config():
    from snn_core.config.check import check
    configs = _configs()
    assert len(configs) > 150
    for cfg in configs:
        params = encode(cfg)
        decoded, notices = decode(params)
        assert decoded == cfg, params
        assert decode(dict(reversed(params.items())))[0] == cfg, params        # the order of the keys is no matter
        if not check(cfg):
            assert notices == [], (params, notices)
