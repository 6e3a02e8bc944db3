"""Verdict sentences and metric styles (snn_core.report.verdict) against hand-written answers."""
import pytest

from snn_core.experiments.stats import paired
from snn_core.report.verdict import describe, equivalence, holm_family, reached_by, style_of, verdict
from snn_core.results import PairedStat, numeric_metrics


def stats(mean, low, high, wins=0, losses=0, n=5, p_value=None, mde=None):
    return PairedStat(mean, low, high, 0.1, n, None, wins, losses, n - wins - losses, p_value, mde)


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


def test_evidence_gives_the_raw_and_the_holm_adjusted_p():
    text = describe("test_accuracy", stats(0.02, 0.01, 0.03, wins=5, p_value=0.004, mde=0.009), adjusted_p=0.012)
    assert text == ("the variant raised test accuracy by 2.0 points [1.0, 3.0], 5/5 seeds, p = 0.004, "
                    "Holm-adjusted p = 0.012")
    assert describe("nasfr", stats(-0.08, -0.10, -0.06, losses=5, p_value=0.0002)).endswith("5/5 seeds, p < 0.001")


def test_no_evidence_carries_the_minimum_detectable_effect_in_the_metrics_units():
    text = describe("test_accuracy", stats(-0.003, -0.011, 0.005, wins=2, losses=3, p_value=0.31, mde=0.0123))
    assert text == ("test accuracy change -0.3 points [-1.1, +0.5], p = 0.310: no evidence of a difference "
                    "(5 seeds); these 5 seeds detect a difference of ±1.2 points with 80% power")


def test_an_interval_off_zero_is_no_evidence_when_holm_says_so():
    text = describe("test_accuracy", stats(0.02, 0.001, 0.039, wins=4, losses=1, p_value=0.04, mde=0.025),
                    adjusted_p=0.12)
    assert text == ("test accuracy change +2.0 points [+0.1, +3.9], p = 0.040, Holm-adjusted p = 0.120: no evidence "
                    "of a difference after Holm's correction (5 seeds); these 5 seeds detect a difference of ±2.5 "
                    "points with 80% power")


def test_differences_all_zero_read_as_no_change_not_as_an_interval():
    same = PairedStat(**paired([0.9, 0.8, 0.7, 0.6], [0.9, 0.8, 0.7, 0.6]))
    assert describe("test_accuracy", same) == "test accuracy: no change in any of 4 runs"
    shifted = PairedStat(**paired([0.9, 0.8, 0.7], [0.91, 0.81, 0.71]))      # every run up by one point
    assert describe("test_accuracy", shifted).startswith("the variant raised test accuracy by 1.0 points [1.0, 1.0]")


def test_holm_family_adjusts_the_rows_p_values_together():
    family = {"a": stats(0, -1, 1, p_value=0.01), "b": stats(0, -1, 1, p_value=0.04),
              "c": stats(0, -1, 1, p_value=0.03), "one seed": stats(0, None, None, n=1)}
    assert holm_family(family) == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06, "one seed": None})
    rows = {"test_accuracy": stats(0.02, 0.01, 0.03, wins=5, p_value=0.02), "nasfr": stats(0.1, 0.05, 0.2, wins=5,
                                                                                          p_value=0.03)}
    assert verdict(rows, adjusted=holm_family(rows))[0].endswith("p = 0.020, Holm-adjusted p = 0.040")
    assert "Holm" not in verdict(rows)[0]


def test_equivalence_is_tost_with_the_margin_in_the_metrics_units():
    # d = (0.5, 1, 0, 1, 0.5) points: mean 0.6, sd 0.4183, 90% interval 0.6 -/+ 2.131847 * 0.4183 / sqrt(5); the upper
    # one-sided test at the margin 0.5 is SciPy's ttest_1samp(d, 0.5, alternative="less"): p = 0.6893
    close = PairedStat(**paired([0.9] * 5, [0.905, 0.91, 0.9, 0.91, 0.905]))
    assert equivalence(close, 0.02, "test_accuracy") == ("test accuracy equivalent within ±2.0 points (TOST p < 0.001, "
                                                         "5 seeds)")
    assert equivalence(close, 0.005, "test_accuracy") == (
        "test accuracy not shown equivalent within ±0.5 points (TOST p = 0.689, 5 seeds); the 90% interval "
        "[+0.2, +1.0] reaches past the margin")
    one = PairedStat(0.01, None, None, None, 1, "a confidence interval needs at least 2 seeds", 1, 0, 0)
    assert equivalence(one, 0.01, "test_accuracy") == ("test accuracy: 1 paired seed(s), too few to test "
                                                       "equivalence within ±1.0 points")
    for margin in (0.0, -0.01, float("nan")):
        with pytest.raises(ValueError, match="allowed: a positive number"):
            equivalence(one, margin, "test_accuracy")


def test_epochs_to_target_counts_the_runs_that_reached_it_and_never_averages_the_others():
    assert reached_by([3, None, 5], 10) == "reached by epoch 5 in 2 of 3 runs (the other 1 not within 10 epochs)"
    assert reached_by([2, 2], 4) == "reached by epoch 2 in 2 of 2 runs"
    assert reached_by([1], 1) == "reached by epoch 1 in 1 of 1 run"
    assert reached_by([None, None], 4) == "not reached within 4 epochs in any of 2 runs"
    with pytest.raises(ValueError, match=r"allowed: 1 or more entries, each an epoch in 1..4 or None"):
        reached_by([5], 4)
    with pytest.raises(ValueError, match="allowed: 1 or more entries"):
        reached_by([], 4)
    with pytest.raises(ValueError, match="max_epochs=0 is not valid; allowed: an integer >= 1"):
        reached_by([1], 0)
