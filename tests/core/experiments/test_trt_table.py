"""The TRT experiment table: each entry's arms, where it is shown, and the report's networks."""
import pytest

from snn_core.experiments import trt_table
from snn_core.experiments.trt_table import DIGITS, EVENTS, EXPERIMENTS, TERMS, TRTExperiment
from snn_core.methods.presets import PAPER_NEURONS


def test_every_experiment_is_shown_somewhere_under_a_name_of_its_own():
    for experiment in EXPERIMENTS:
        assert experiment.page_name or experiment.report_label, experiment
    pages = [e.page_name for e in EXPERIMENTS if e.page_name]
    labels = [e.report_label for e in EXPERIMENTS if e.report_label]
    assert len(set(pages)) == len(pages) == 11 and len(set(labels)) == len(labels) == 10


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.page_name or e.report_label)
def test_the_arms_differ_only_in_trt_and_the_epochs_of_the_compute_matched_base(experiment):
    start = trt_table.report_network(experiment.dataset)
    base, on = experiment.arms(start)
    assert (on.data.dataset, on.data.time_steps) == (experiment.dataset, experiment.time_steps)
    assert (on.methods.trt, on.methods.trt_perturbation) == ("on", experiment.perturbation)
    assert base.methods.trt == ("off" if experiment.base == "off" else "on")
    assert base.training.epochs == round(experiment.epoch_factor * on.training.epochs)
    assert base.with_values({"trt": "on", "trt-perturbation": experiment.perturbation,
                             "epochs": on.training.epochs, **TERMS[experiment.terms]}) == on
    assert on == start.with_values({"dataset": experiment.dataset, "T": experiment.time_steps, "trt": "on",
                                    "trt-perturbation": experiment.perturbation, **TERMS[experiment.terms]})


def test_each_ablation_keeps_exactly_one_of_trts_added_terms_against_no_trt():
    ablations = [e for e in EXPERIMENTS if e.terms != "all"]
    assert sorted(e.terms for e in ablations) == ["KL only", "reversed CE only", "star head only"]
    main = next(e for e in EXPERIMENTS if e.report_label == "events-shape, T=4: TRT vs off (2× epochs)")
    for experiment in ablations:
        base, on = experiment.arms(EVENTS)
        assert base == main.arms(EVENTS)[0]                         # the same off arm: paired, and cached once
        weights = {"KL only": on.methods.trt_kl_weight, "reversed CE only": on.methods.trt_ce_reversed,
                   "star head only": on.methods.trt_star}
        assert {name for name, weight in weights.items() if weight > 0} == {experiment.terms}
        assert experiment.arm_labels == ("baseline, 2× epochs", f"TRT ({experiment.terms})")


def test_trt_changes_reach_the_arms_that_run_trt_and_base_changes_the_baseline_only():
    experiment = TRTExperiment("events-shape", 2, "?", base="permute", base_factor=1.5)
    base, on = experiment.arms(EVENTS, {"trt-star": 0, "trt-perturbation": "none"}, {"lr": 0.5})
    assert (on.methods.trt_star, on.methods.trt_perturbation) == (0, "none")
    assert (base.methods.trt_star, base.methods.trt_perturbation) == (0, "permute")     # differs in that only
    assert base.training.lr == on.training.lr == EVENTS.training.lr                      # no baseline without TRT
    assert base.training.epochs == 30 and experiment.arm_labels == ("TRT with permute, 1.5× epochs", "TRT")
    off, on = TRTExperiment("digits", 4, "?").arms(DIGITS, {"lr": 0.01, "trt-tau": 4.0}, {"lr": 3e-4})
    assert (off.methods.trt, off.training.lr, off.training.epochs) == ("off", 3e-4, 2 * DIGITS.training.epochs)
    assert (on.training.lr, on.methods.trt_tau, on.training.epochs) == (0.01, 4.0, DIGITS.training.epochs)


def test_a_base_without_trt_is_compute_matched_unless_the_experiment_says_otherwise():
    assert TRTExperiment("digits", 4, "?").epoch_factor == trt_table.COMPUTE_FACTOR == 2
    assert TRTExperiment("digits", 4, "?", base="permute").epoch_factor == 1         # two branches on both sides
    equal = next(e for e in EXPERIMENTS if e.base_factor == 1)
    assert "not compute-matched" in equal.page_name and equal.report_label is None
    assert equal.arm_labels == ("baseline", "TRT")
    assert EXPERIMENTS[0].arm_labels == ("baseline, 2× epochs", "TRT")


def test_each_setting_tunes_its_own_settings_of_each_arm_with_the_baseline_compute_matched():
    base, (off, trt) = trt_table.tuning_arms(EVENTS, "events-shape", 2)
    assert (base.data.time_steps, base.training.robustness) == (2, False)     # tuning reads validation only
    assert off.changes == {"trt": "off", "epochs": 2 * EVENTS.training.epochs} and trt.changes == {"trt": "on"}
    assert set(off.space) == {"lr"} and set(trt.space) == {"lr", "trt-kl-weight", "trt-tau"}
    assert (off.name, trt.name) == trt_table.ARM_NAMES
    assert off.grid_size() >= 4 and trt.grid_size() >= 4                     # the full profile's 4 trials fit


def test_the_report_trains_digits_on_its_mlp_and_the_event_clips_on_its_conv_net():
    assert trt_table.report_network("digits") is DIGITS
    assert trt_table.report_network("events-direction") is EVENTS and EVENTS.model.arch == "conv"
    assert len(DIGITS.model.hidden) == 2                    # static data: a layer must follow the reversed one
    for network in (EVENTS, DIGITS):                        # the TRT group's neuron: soft reset, rectangular
        assert network == network.with_values(PAPER_NEURONS["trt"])
        assert (network.neuron.reset, network.neuron.surrogate) == ("soft", "rectangular")
