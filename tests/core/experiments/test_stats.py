"""Statistics for fair comparisons: CIs against t tables, hand-computed values and the former closed-form series."""
import math

import pytest

from snn_core.experiments.stats import mean_ci, paired


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
    assert list(result) == ["mean", "ci_low", "ci_high", "sd", "n", "note", "wins", "losses", "ties"]
    assert result["ci_low"] == pytest.approx(-0.25032936322818244, abs=1e-12)
    assert result["ci_high"] == pytest.approx(4.2503293632281824, abs=1e-12)


def test_one_seed_has_no_ci_but_a_reason():
    single = mean_ci([0.9])
    assert single["mean"] == 0.9 and single["ci_low"] is None and single["sd"] is None
    assert "at least 2 seeds" in single["note"]
    assert mean_ci([])["mean"] is None and mean_ci([])["n"] == 0
