"""Verdict sentences and metric styles (snn_core.report.verdict) against hand-written answers."""
from snn_core.report.verdict import describe, style_of, verdict
from snn_core.results import PairedStat, numeric_metrics


def stats(mean, low, high, wins=0, losses=0, n=5):
    return PairedStat(mean, low, high, 0.1, n, None, wins, losses, n - wins - losses)


def test_a_clear_drop_is_reported_with_its_interval_and_seed_count():
    text = describe("nasfr", stats(-0.08, -0.10, -0.06, losses=5))
    assert text == "the variant lowered NASFR by 0.0800 [0.0600, 0.1000], 5/5 seeds"


def test_an_interval_across_zero_is_no_evidence_and_accuracy_reads_in_points():
    text = describe("test_accuracy", stats(-0.003, -0.011, 0.005, wins=2, losses=3))
    assert text == "test accuracy change -0.3 points [-1.1, +0.5]: no evidence of a difference (5 seeds)"


def test_one_seed_gives_no_interval():
    one = PairedStat(0.1, None, None, None, 1, "a confidence interval needs at least 2 seeds", 1, 0, 0)
    assert "too few for a confidence interval" in describe("test_accuracy", one)
    assert verdict({"test_accuracy": one, "other": one}) == [describe("test_accuracy", one)]


def test_nested_metrics_flatten_to_dotted_names_with_readable_labels():
    flat = numeric_metrics({"robustness": {"jitter": {"0": 0.9, "2": 0.8}}, "epochs_to_target": None,
                            "accuracy_vs_tcut": [0.1, 0.5]})
    assert flat == {"robustness.jitter.0": 0.9, "robustness.jitter.2": 0.8}
    assert style_of("robustness.jitter.2").label == "accuracy under input jitter sigma = 2 steps"
    assert style_of("robustness.deletion.0.3").label == "accuracy with input spikes deleted at p = 0.3"
    assert style_of("robustness.weight_noise.0.1").better == "higher"
    assert style_of("decision_step_mean").better == "lower"
