"""The guided challenges: each preset run headless reaches what its goal asks, each goal check gives known answers on
made-up results, and the banner says "Goal reached ✓" only for a result that meets the goal."""
from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from app_runner import open_script
from snn_app import challenges, comparison, pages
from snn_app import trt as trt_glue
from snn_core.config.run_config import RunConfig
from snn_core.experiments.compare import compare, compare_result, sweep, sweep_configs, sweep_result
from snn_core.results.table import with_seed
from snn_core.training.trainer import Trainer

K_VALUES = [1, 2, 3, 5, 0]          # the TTFS page's sweep (snn_app.ttfs.K_CHOICES), 0 = no cap


def preset(key: str, **changes) -> RunConfig:
    """The challenge's sidebar settings over the defaults, with a test's own changes (CLI names, ``_`` for ``-``)."""
    cfg = RunConfig().with_values(dict(pages.challenge(key).settings))
    return cfg.with_values({name.replace("_", "-"): value for name, value in changes.items()})


def altered(run, *, seed=None, accuracy=None, nasfr=None):
    """``run`` as if it had another seed, test accuracy or NASFR (a made-up result with a real run's shape)."""
    metrics = replace(run.metrics, **{name: value for name, value in (("test_accuracy", accuracy), ("nasfr", nasfr))
                                      if value is not None})
    return replace(run, config=run.config if seed is None else with_seed(run.config, seed), metrics=metrics)


# ---- halve-rate, on Compare ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def halving():
    """The real preset on seed 0: its base, and the variant threshold=2 (one of the goal's suggestions)."""
    base = preset("halve-rate")
    return compare(base, base.with_values({"threshold": 2}), [0], workers=1)


def test_the_halve_rate_preset_learns_and_its_suggested_variant_meets_the_goal_on_a_seed(halving):
    pair = halving.per_seed[0]
    base, variant = pair.base.metrics, pair.variant.metrics
    assert base.test_accuracy >= challenges.chance(halving.base) + challenges.LEARNED_MARGIN      # 5 classes: 20%
    assert variant.nasfr <= challenges.RATE_FACTOR * base.nasfr
    assert variant.test_accuracy - base.test_accuracy >= -challenges.ACCURACY_DROP
    progress = challenges.halve_rate(halving)
    assert not progress.reached and "at least 2 seeds" in progress.detail and "both held on 1 of 1 seeds" in \
        progress.detail


def two_seeds(halving, **variant_changes):
    """The seed-0 pair twice, as seeds 0 and 1, with the variant's metrics changed."""
    pair = halving.per_seed[0]
    slots = [pair.base, altered(pair.variant, **variant_changes),
             altered(pair.base, seed=1), altered(pair.variant, seed=1, **variant_changes)]
    return compare_result(halving.base, halving.variant, [0, 1], slots)


def test_halve_rate_is_reached_by_half_the_rate_within_a_point_and_not_by_less(halving):
    base = halving.per_seed[0].base.metrics
    met = challenges.halve_rate(two_seeds(halving, nasfr=base.nasfr * 0.49, accuracy=base.test_accuracy - 0.009))
    assert met.reached and "×0.49" in met.detail and "−0.9 points" in met.detail
    slower = challenges.halve_rate(two_seeds(halving, nasfr=base.nasfr * 0.6, accuracy=base.test_accuracy))
    assert not slower.reached and "×0.60; the goal: ×0.50 or less" in slower.detail
    worse = challenges.halve_rate(two_seeds(halving, nasfr=base.nasfr / 4, accuracy=base.test_accuracy - 0.02))
    assert not worse.reached and "−2.0 points" in worse.detail and "both held on 0 of 2 seeds" in worse.detail
    assert challenges.halve_rate(None) is None


def test_a_base_at_chance_reaches_nothing_and_compare_warns_that_neither_arm_learned(halving):
    pair = halving.per_seed[0]
    slots = [altered(run, seed=seed, accuracy=0.2) for seed in (0, 1) for run in (pair.base, pair.variant)]
    at_chance = compare_result(halving.base, halving.variant, [0, 1], slots)
    progress = challenges.halve_rate(at_chance)
    assert not progress.reached and "guessing gets 20%: it must reach 40%" in progress.detail
    assert comparison.sentences(at_chance)[0].startswith("**Neither arm learned**")
    assert comparison.unlearned(halving) is None


# ---- ttfs-k, on TTFS vs multi-spike ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def k_sweep():
    """The TTFS preset's sweep over every K of the page, shrunk to 1 epoch of 200 samples on 2 seeds."""
    cfg = preset("ttfs-k", epochs=1, train_samples=200, test_samples=100, robustness="off")
    return sweep(cfg, "max-spikes", K_VALUES, [0, 1], workers=1)


def test_a_finished_k_sweep_of_the_preset_answers_the_ttfs_challenge(k_sweep):
    progress = challenges.ttfs_k(k_sweep)
    assert progress.reached and "K = ∞" in progress.detail and "spikes per sample" in progress.detail


def made_up_sweep(k_sweep, accuracy: dict[int, list[float]], missing: bool = False):
    """``k_sweep``'s runs with these test accuracies per K (seeds 0, 1, 2; the real runs' seed 0 and 1 reused)."""
    templates = {point.value: point.runs for point in k_sweep.points}
    configs = sweep_configs(k_sweep.config, "max-spikes", K_VALUES, [0, 1, 2])
    slots = [altered(templates[cfg.neuron.max_spikes][min(cfg.training.seed, 1)], seed=cfg.training.seed,
                     accuracy=accuracy[cfg.neuron.max_spikes][cfg.training.seed]) for cfg in configs]
    if missing:
        slots[-1] = None
    return sweep_result(k_sweep.config, "max-spikes", [0, 1, 2], configs, slots)


def test_the_k_found_is_the_smallest_from_which_on_no_k_is_clearly_below_unlimited(k_sweep):
    unlimited = [0.90, 0.92, 0.91]
    accuracy = {0: unlimited, 1: [0.50, 0.52, 0.51], 2: [0.90, 0.90, 0.93], 3: [0.80, 0.82, 0.81],
                5: [0.91, 0.91, 0.90]}
    progress = challenges.ttfs_k(made_up_sweep(k_sweep, accuracy))      # K = 2 is close, but K = 3 clearly below
    assert progress.reached and "from **K = 5** on" in progress.detail and "90.7% against 91.0%" in progress.detail
    below = challenges.ttfs_k(made_up_sweep(k_sweep, {**accuracy, 2: [0.5] * 3, 5: [0.6, 0.61, 0.62]}))
    assert below.reached and "the answer is K = ∞" in below.detail
    running = challenges.ttfs_k(made_up_sweep(k_sweep, accuracy, missing=True))
    assert not running.reached and "1 run still to finish" in running.detail


# ---- trt-direction, on Temporal reversal ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def direction_net():
    """The TRT page's sample network from the challenge's settings, trained for 1 epoch."""
    trainer = Trainer(trt_glue.demo_config(preset("trt-direction", epochs=1, test_samples=40), "events-direction",
                                           True))
    while not trainer.finished:
        trainer.step()
    return trainer


def test_the_trt_sample_network_on_directions_reaches_the_goal_with_its_answers_both_ways(direction_net):
    assert (challenges.ORIGINAL, challenges.REVERSED) == trt_glue.WAYS
    view = trt_glue.both_ways(direction_net, 0)
    progress = challenges.trt_direction(direction_net.cfg, view)
    twin = view.class_names[trt_glue.reversed_label("events-direction", view.label)]
    assert progress.reached and f"which really moves **{twin}**" in progress.detail
    assert progress.detail.count("**") == 6 and "played backwards" in progress.detail
    without = challenges.trt_direction(direction_net.cfg.with_values({"trt": "off"}), view)
    assert not without.reached and "TRT off; the goal needs events-direction with TRT on" in without.detail
    assert challenges.trt_direction(direction_net.cfg, None) is None


# ---- small-net, on Train & watch --------------------------------------------------------------------------------

def test_the_small_net_preset_reaches_90_percent_with_16_hidden_neurons():
    trainer = Trainer(preset("small-net", robustness="off"))
    while not trainer.finished:
        trainer.step()
    progress = challenges.small_net(trainer.cfg, trainer.history)
    assert progress.reached and "with hidden layer 16 " in progress.detail
    wider = challenges.small_net(trainer.cfg.with_values({"hidden": "32"}), trainer.history)
    assert not wider.reached and "hidden layer 32" in wider.detail
    few = challenges.small_net(trainer.cfg.with_values({"test-samples": 50}), trainer.history)
    assert not few.reached and "tested on at least 200 samples" in few.detail
    assert challenges.small_net(trainer.cfg, []) is None


# ---- the banner ------------------------------------------------------------------------------------------------

def banner_script() -> None:
    """A page with the small-net challenge open: the banner on top, the page's progress handed over below."""
    import streamlit as st

    from snn_app import challenges as checks

    st.session_state.setdefault("challenge", "small-net")
    checks.banner("Train & watch")
    st.write("the page")
    progress = st.session_state.get("progress")
    checks.show(st.session_state.get("shown", "small-net"), progress)


def test_the_banner_says_goal_reached_only_for_a_result_that_meets_the_goal():
    at = AppTest.from_function(banner_script).run()
    assert not at.success and at.info[0].value.startswith("**Challenge: Shrink the network, keep 90%.**")
    at.session_state.progress = challenges.Progress(False, "epoch 2: 85.0% test accuracy")
    at.run()
    assert not at.success and "**Your attempt so far:** epoch 2: 85.0%" in at.info[0].value
    at.session_state.progress = challenges.Progress(True, "epoch 3: 91.0% test accuracy")
    at.run()
    assert f"**{challenges.REACHED}**: epoch 3: 91.0%" in at.success[0].value and not at.info
    at.session_state.shown = "halve-rate"                          # another challenge's result changes nothing
    at.run()
    assert not at.success and "Your attempt" not in at.info[0].value
    at.button(key="close_challenge").click().run()
    assert not at.info and not at.success


@pytest.mark.parametrize("halved", [True, False])
def test_compare_shows_goal_reached_for_a_comparison_that_meets_the_goal(halving, halved):
    base = halving.per_seed[0].base.metrics
    result = two_seeds(halving, nasfr=base.nasfr * (0.4 if halved else 0.9), accuracy=base.test_accuracy)
    at = open_script("app.py", {"challenge": "halve-rate"})
    at.session_state.comparison, at.session_state.comparison_changes = result, "threshold=2"
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    if halved:
        assert f"**{challenges.REACHED}**" in at.success[0].value and "×0.40" in at.success[0].value
    else:
        assert not at.success and any("×0.90; the goal: ×0.50 or less" in info.value for info in at.info)


def test_every_challenge_names_its_rule_in_its_goal():
    goals = {item.key: item.goal for item in pages.CHALLENGES}
    assert "at most half" in goals["halve-rate"] and "−1 point" in goals["halve-rate"]
    assert "95% CI" in goals["ttfs-k"] and "2 or more seeds" in goals["ttfs-k"]
    assert "TRT on events-direction" in goals["trt-direction"]
    assert "at most 16 neurons" in goals["small-net"] and "90%" in goals["small-net"]
