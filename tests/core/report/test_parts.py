"""Pieces the report's sections share."""
from snn_core.report.parts import topped_up


def test_topped_up_adds_the_next_unused_seeds_and_keeps_enough_as_they_are():
    assert topped_up([0, 1], 5) == [0, 1, 2, 3, 4]
    assert topped_up([3, 7], 4) == [3, 7, 8, 9]
    assert topped_up([0, 1, 2], 2) == [0, 1, 2]
    assert topped_up([], 2) == [0, 1]
