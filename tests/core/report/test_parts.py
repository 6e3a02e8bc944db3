"""Pieces the report's sections share."""
import pytest

from snn_core.report.parts import claim_verdict, topped_up


def test_topped_up_adds_the_next_unused_seeds_and_keeps_enough_as_they_are():
    assert topped_up([0, 1], 5) == [0, 1, 2, 3, 4]
    assert topped_up([3, 7], 4) == [3, 7, 8, 9]
    assert topped_up([0, 1, 2], 2) == [0, 1, 2]
    assert topped_up([], 2) == [0, 1]


def test_claim_verdicts_by_side_of_zero():
    assert claim_verdict(0.01, 0.03, "up") == "up: reproduced (direction)"
    assert claim_verdict(-0.03, -0.01, "up") == "down: not reproduced"
    assert claim_verdict(-0.01, 0.03, "down") == "mixed: the CI includes 0, no evidence either way"


def test_a_zero_width_interval_at_zero_is_no_change_not_mixed():
    assert claim_verdict(0.0, 0.0, "down", 5) == "no change in any of 5 runs: not reproduced"
    assert claim_verdict(0.0, 0.0, "up") == "no change in any run: not reproduced"
    assert claim_verdict(0.02, 0.02, "up", 3) == "up: reproduced (direction)"      # every run up by the same


def test_holm_can_withhold_a_claim_whose_interval_excludes_zero():
    assert claim_verdict(0.01, 0.03, "up", 5, adjusted_p=0.01) == "up: reproduced (direction)"
    assert claim_verdict(0.01, 0.03, "up", 5, adjusted_p=0.08) == (
        "mixed: the CI excludes 0 but the Holm-adjusted p = 0.080 is not below 0.05")
    with pytest.raises(ValueError, match="claimed='higher' is not valid; allowed: 'up' or 'down'"):
        claim_verdict(0.01, 0.03, "higher")
