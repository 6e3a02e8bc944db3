"""The CUBA neuron against hand-computed values, and its spike cap."""
from __future__ import annotations

import math

import pytest
import torch

from snn_core.neurons.cuba import CUBAParams, cuba_sequence, cuba_spikes, membrane_tau


def test_cuba_constant_input_matches_hand_computed_values():
    # tau_s = 1: alpha = e^-1 = 0.367879, beta = e^-1/2 = 0.606531, 1 - beta = 0.393469; x = 1, V_th = 1
    # t=0: I = 1.000000, V_pre = 0.393469 * 1          = 0.393469
    # t=1: I = 1.367879, V_pre = 0.606531 * 0.393469 + 0.393469 * 1.367879 = 0.776870
    # t=2: I = 1.503215, V_pre = 0.606531 * 0.776870 + 0.393469 * 1.503215 = 1.062664 -> spike, V = 0.062664
    # t=3: I = 1.553002, V_pre = 0.606531 * 0.062664 + 0.393469 * 1.553002 = 0.649066
    # t=4: I = 1.571317, V_pre = 0.606531 * 0.649066 + 0.393469 * 1.571317 = 1.011944 -> spike, V = 0.011944
    out = cuba_sequence(torch.ones(5, 1), CUBAParams(tau_syn=1.0, threshold=1.0))
    assert out.v_pre[:, 0].tolist() == pytest.approx([0.393469, 0.776870, 1.062664, 0.649066, 1.011944], abs=1e-6)
    assert out.spikes[:, 0].tolist() == [0, 0, 1, 0, 1]
    assert out.v_post[:, 0].tolist() == pytest.approx([0.393469, 0.776870, 0.062664, 0.649066, 0.011944], abs=1e-6)
    capped = cuba_spikes(torch.ones(5, 1), CUBAParams(tau_syn=1.0, threshold=1.0, max_spikes=1))
    assert capped[:, 0].tolist() == [0, 0, 1, 0, 0]
    assert CUBAParams(tau_syn=1.0).alpha == pytest.approx(math.exp(-1))
    assert CUBAParams(tau_syn=1.0).beta == pytest.approx(math.exp(-0.5))
    assert membrane_tau(4.0) == 8.0 and CUBAParams(tau_syn=4.0).beta == math.exp(-1 / 8)


@pytest.mark.parametrize("cap", [1, 2, 3])
def test_cuba_never_exceeds_the_spike_cap(cap):
    gen = torch.Generator().manual_seed(cap)
    currents = 3 * torch.rand(40, 16, 12, generator=gen)                     # (T, B, N)
    params = CUBAParams(tau_syn=2.0, threshold=0.5, max_spikes=cap)
    spikes = cuba_spikes(currents, params)
    assert torch.equal(spikes, cuba_sequence(currents, params).spikes)
    counts = spikes.sum(0)
    assert counts.max() <= cap and counts.max() == cap
