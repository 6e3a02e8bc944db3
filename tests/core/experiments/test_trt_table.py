"""The TRT experiment table: each entry's arms, where it is shown, and the report's networks."""
import pytest

from snn_core.config.run_config import RunConfig
from snn_core.experiments import trt_table
from snn_core.experiments.trt_table import DIGITS, EVENTS, EXPERIMENTS, TRTExperiment


def test_every_experiment_is_shown_somewhere_under_a_name_of_its_own():
    for experiment in EXPERIMENTS:
        assert experiment.page_name or experiment.report_label, experiment
    pages = [e.page_name for e in EXPERIMENTS if e.page_name]
    labels = [e.report_label for e in EXPERIMENTS if e.report_label]
    assert len(set(pages)) == len(pages) == 8 and len(set(labels)) == len(labels) == 8


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.page_name or e.report_label)
def test_the_arms_differ_only_in_trt_and_the_epochs_of_the_compute_matched_base(experiment):
    start = trt_table.report_network(experiment.dataset)
    base, on = experiment.arms(start)
    assert (on.data.dataset, on.data.time_steps) == (experiment.dataset, experiment.time_steps)
    assert (on.methods.trt, on.methods.trt_perturbation) == ("on", experiment.perturbation)
    assert base.methods.trt == ("off" if experiment.base == "off" else "on")
    assert base.training.epochs == round(experiment.base_factor * on.training.epochs)
    assert base.with_values({"trt": "on", "trt-perturbation": experiment.perturbation,
                             "epochs": on.training.epochs}) == on
    assert on == start.with_values({"dataset": experiment.dataset, "T": experiment.time_steps, "trt": "on",
                                    "trt-perturbation": experiment.perturbation})


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
