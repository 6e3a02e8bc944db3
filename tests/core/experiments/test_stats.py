"""Statistics for fair comparisons: CIs against t tables, hand-computed values and the former closed-form series."""
import math

import pytest

from snn_core.experiments.stats import holm, mde, mean_ci, p_value, paired, tost, tost_summary


def t_of(result: dict) -> float:
    """The t quantile a ``mean_ci`` result used: its half-width over sd / sqrt(n)."""
    return (result["ci_high"] - result["mean"]) * math.sqrt(result["n"]) / result["sd"]


@pytest.mark.parametrize("df,expected", [(1, 12.706205), (2, 4.302653), (4, 2.776445), (9, 2.262157),
                                         (29, 2.045230), (2000, 1.961151)])
def test_the_95_percent_interval_uses_the_tabled_t(df, expected):
    assert t_of(mean_ci(range(df + 1))) == pytest.approx(expected, abs=1e-6)


def test_other_confidences_use_their_quantile():
    assert t_of(mean_ci([1.0, 2.0, 4.0, 8.0], confidence=0.99)) == pytest.approx(5.840909, abs=1e-6)   # t_{.995,3}
    assert t_of(mean_ci([1.0, 2.0, 4.0, 8.0, 3.0, 5.0], confidence=0.0)) == 0.0                          # t_{.5,5}
    for confidence in (1.0, -0.1, math.nan):
        with pytest.raises(ValueError, match="allowed: 0 <= confidence < 1"):
            mean_ci([1.0, 2.0], confidence)


def test_paired_ci_against_a_hand_computed_case():
    # d = (2, 3, 0, 3): mean 2, sd sqrt(6/3) = sqrt(2), CI = 2 -/+ 3.182446 * sqrt(2) / 2
    result = paired([90, 92, 91, 93], [92, 95, 91, 96])
    assert result["mean"] == pytest.approx(2.0)
    assert result["sd"] == pytest.approx(math.sqrt(2))
    assert result["ci_low"] == pytest.approx(2 - 2.250329, abs=1e-6)
    assert result["ci_high"] == pytest.approx(2 + 2.250329, abs=1e-6)
    assert (result["wins"], result["losses"], result["ties"], result["n"]) == (3, 0, 1, 4)
    assert result["note"] is None


def test_the_interval_is_the_one_the_closed_form_series_gave():
    """The quantile was a closed-form series inverted by bisection before SciPy's: the same keys, the same numbers
    (to rounding)."""
    result = paired([90, 92, 91, 93], [92, 95, 91, 96])
    assert list(result) == ["mean", "ci_low", "ci_high", "sd", "n", "note", "wins", "losses", "ties", "p_value", "mde"]
    assert result["ci_low"] == pytest.approx(-0.25032936322818244, abs=1e-12)
    assert result["ci_high"] == pytest.approx(4.2503293632281824, abs=1e-12)


def test_one_seed_has_no_ci_but_a_reason():
    single = mean_ci([0.9])
    assert single["mean"] == 0.9 and single["ci_low"] is None and single["sd"] is None
    assert "at least 2 seeds" in single["note"]
    assert mean_ci([])["mean"] is None and mean_ci([])["n"] == 0


def test_the_paired_p_value_and_the_detectable_effect_against_hand_computed_answers():
    # d = (2, 3, 0, 3): t = 2 / (sqrt(2) / 2) = 2.828427 on 3 df; SciPy's ttest_rel gives p = 0.0662756
    result = paired([90, 92, 91, 93], [92, 95, 91, 96])
    assert result["p_value"] == pytest.approx(0.0662756, abs=1e-6)
    # MDE = (t_.975,3 + t_.8,3) sd / sqrt(n) = (3.182446 + 0.978472) * sqrt(2) / 2
    assert result["mde"] == pytest.approx((3.182446 + 0.978472) * math.sqrt(2) / 2, abs=1e-5)
    assert mde(1.0, 10) == pytest.approx((2.262157 + 0.883408) / math.sqrt(10), abs=1e-5)
    assert p_value([0.01, 0.01, 0.01]) == 0.0 and p_value([0.0, 0.0]) == 1.0      # zero variance: no t
    assert p_value([0.5]) is None and mde(None, 1) is None and mde(0.3, 1) is None
    with pytest.raises(ValueError, match="allowed: both in"):
        mde(1.0, 5, alpha=0.0)


def test_holm_against_a_hand_computed_family():
    # sorted 0.01, 0.03, 0.04 -> 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, max(0.06, 1 x 0.04) = 0.06; None stays out
    assert holm([0.01, 0.04, None, 0.03]) == pytest.approx([0.03, 0.06, None, 0.06])
    assert holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])                      # capped at 1
    assert holm([]) == [] and holm([0.02]) == [0.02]


def test_tost_is_two_one_sided_t_tests_and_its_90_percent_interval():
    diffs = [0.5, 1.0, 0.0, 1.0, 0.5]              # mean 0.6, sd 0.41833, se 0.18708
    # the larger one-sided p: P(T_4 < (0.6 - 1.5) / 0.18708), SciPy's ttest_1samp(diffs, 1.5, alternative="less")
    assert tost(diffs, 1.5) == pytest.approx(0.0042905, abs=1e-6)
    result = tost_summary(0.6, math.sqrt(0.175), 5, 1.5)
    assert result.p == pytest.approx(tost(diffs, 1.5))
    assert result.low == pytest.approx(0.6 - 2.131847 * math.sqrt(0.175 / 5), abs=1e-6)
    assert tost(diffs, 0.5) > 0.05                                            # the interval reaches past 0.5
    assert tost([0.2, 0.2], 0.5) == 0.0 and tost([0.7, 0.7], 0.5) == 1.0      # zero variance
    assert tost([0.1], 0.5) is None and tost_summary(0.1, None, 1, 0.5).p is None
    for margin in (0.0, -1.0, math.inf):
        with pytest.raises(ValueError, match="allowed: a positive number"):
            tost(diffs, margin)
