"""Unit conversions: tau and decay, both ways."""
import pytest

from snn_core.neurons.units import decay_from_tau, tau_from_decay


def test_tau_and_decay_convert_both_ways():
    assert decay_from_tau(2.0) == pytest.approx(0.6065306597)
    assert tau_from_decay(decay_from_tau(3.7)) == pytest.approx(3.7)
    assert tau_from_decay(1.0) == float("inf")
