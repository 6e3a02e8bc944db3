"""Statistics for fair comparisons: t quantiles and CIs against tables and hand-computed values."""
import math

import pytest

from snn_core.experiments.stats import mean_ci, paired, t_quantile, t_two_sided_cdf


@pytest.mark.parametrize("df,expected", [(1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (29, 2.045),
                                         (2000, 1.961)])
def test_t_quantile_matches_the_table(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=5e-4)


def test_t_distribution_closed_forms():
    # df = 1 (Cauchy): P(|T| <= t) = 2 atan(t) / pi; df = 2: t / sqrt(t^2 + 2)
    assert t_two_sided_cdf(1.0, 1) == pytest.approx(0.5)
    assert t_two_sided_cdf(3.0, 2) == pytest.approx(3 / math.sqrt(11))
    assert t_quantile(0.5, 5) == pytest.approx(0.0, abs=1e-12)
    assert t_quantile(0.995, 3) == pytest.approx(5.841, abs=5e-4)


def test_t_quantile_agrees_with_scipy_when_installed():
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 3, 7, 15, 40, 120):
        for p in (0.6, 0.9, 0.975, 0.999):
            assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9)


def test_paired_ci_against_a_hand_computed_case():
    # d = (2, 3, 0, 3): mean 2, sd sqrt(6/3) = sqrt(2), CI = 2 -/+ 3.182446 * sqrt(2) / 2
    result = paired([90, 92, 91, 93], [92, 95, 91, 96])
    assert result["mean"] == pytest.approx(2.0)
    assert result["sd"] == pytest.approx(math.sqrt(2))
    assert result["ci_low"] == pytest.approx(2 - 2.250329, abs=1e-6)
    assert result["ci_high"] == pytest.approx(2 + 2.250329, abs=1e-6)
    assert (result["wins"], result["losses"], result["ties"], result["n"]) == (3, 0, 1, 4)
    assert result["note"] is None


def test_one_seed_has_no_ci_but_a_reason():
    single = mean_ci([0.9])
    assert single["mean"] == 0.9 and single["ci_low"] is None and single["sd"] is None
    assert "at least 2 seeds" in single["note"]
    assert mean_ci([])["mean"] is None and mean_ci([])["n"] == 0
