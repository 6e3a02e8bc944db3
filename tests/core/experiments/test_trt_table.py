"""The TRT experiment table: each entry's arms, where it is shown, and the report's networks."""
import pytest

from snn_core.config.run_config import RunConfig
from snn_core.experiments import trt_table
from snn_core.experiments.trt_table import DIGITS, EVENTS, EXPERIMENTS, TERMS, TRTExperiment
from snn_core.methods.presets import PAPER_NEURONS


def test_every_experiment_is_shown_somewhere_under_a_name_of_its_own():
    for experiment in EXPERIMENTS:
        assert experiment.page_name or experiment.report_label, experiment
    pages = [e.page_name for e in EXPERIMENTS if e.page_name]
    labels = [e.report_label for e in EXPERIMENTS if e.report_label]
    assert len(set(pages)) == len(pages) == 11 and len(set(labels)) == len(labels) == 11


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.page_name or e.report_label)
def test_the_arms_differ_only_in_trt_and_the_epochs_of_the_compute_matched_base(experiment):
    start = trt_table.report_network(experiment.dataset)
    base, on = experiment.arms(start)
    assert (on.data.dataset, on.data.time_steps) == (experiment.dataset, experiment.time_steps)
    assert (on.methods.trt, on.methods.trt_perturbation) == ("on", experiment.perturbation)
    assert base.methods.trt == ("off" if experiment.base == "off" else "on")
    assert base.training.epochs == round(experiment.base_factor * on.training.epochs)
    assert base.with_values({"trt": "on", "trt-perturbation": experiment.perturbation,
                             "epochs": on.training.epochs, **TERMS[experiment.terms]}) == on
    assert on == start.with_values({"dataset": experiment.dataset, "T": experiment.time_steps, "trt": "on",
                                    "trt-perturbation": experiment.perturbation, **TERMS[experiment.terms]})


def test_each_ablation_keeps_exactly_one_of_trts_added_terms_against_no_trt():
    ablations = [e for e in EXPERIMENTS if e.terms != "all"]
    assert sorted(e.terms for e in ablations) == ["KL only", "reversed CE only", "star head only"]
    main = next(e for e in EXPERIMENTS if e.report_label == "events-shape, T=4: TRT vs off")
    for experiment in ablations:
        base, on = experiment.arms(EVENTS)
        assert base == main.arms(EVENTS)[0]                         # the same off arm: paired, and cached once
        weights = {"KL only": on.methods.trt_kl_weight, "reversed CE only": on.methods.trt_ce_reversed,
                   "star head only": on.methods.trt_star}
        assert {name for name, weight in weights.items() if weight > 0} == {experiment.terms}
        assert experiment.arm_labels == ("baseline", f"TRT ({experiment.terms})")


def test_trt_changes_reach_the_trt_arm_only():
    experiment = TRTExperiment("events-shape", 2, "?", base="permute", base_factor=1.5)
    base, on = experiment.arms(EVENTS, {"trt-star": 0, "trt-perturbation": "none"})
    assert (on.methods.trt_star, on.methods.trt_perturbation) == (0, "none")
    assert (base.methods.trt_star, base.methods.trt_perturbation) == (RunConfig().methods.trt_star, "permute")
    assert base.training.epochs == 30 and experiment.arm_labels == ("TRT with permute, 1.5× epochs", "TRT")


def test_the_report_trains_digits_on_its_mlp_and_the_event_clips_on_its_conv_net():
    assert trt_table.report_network("digits") is DIGITS
    assert trt_table.report_network("events-direction") is EVENTS and EVENTS.model.arch == "conv"
    assert len(DIGITS.model.hidden) == 2                    # static data: a layer must follow the reversed one
    for network in (EVENTS, DIGITS):                        # the TRT group's neuron: soft reset, rectangular
        assert network == network.with_values(PAPER_NEURONS["trt"])
        assert (network.neuron.reset, network.neuron.surrogate) == ("soft", "rectangular")
