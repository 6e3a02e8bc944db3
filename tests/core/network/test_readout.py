"""The spiking readouts: first-spike times by hand, their gradient, the tie break, count and first-spike logits."""
from __future__ import annotations

import torch

from snn_core.network.readout import (
    first_spike_predictions,
    first_spike_times,
    running_first_spike_times,
    spiking_readout,
)
from snn_core.neurons.cuba import CUBAParams, cuba_spikes


def test_first_spike_time_hand_cases_and_gradient():
    spikes = torch.zeros(5, 1, 3)               # (T, B, C): silent, first spike at 2, spikes at 0 and 3
    spikes[2, 0, 1] = 1
    spikes[0, 0, 2] = spikes[3, 0, 2] = 1
    assert first_spike_times(spikes)[0].tolist() == [5, 2, 0]
    running = running_first_spike_times(spikes)[:, 0]          # (T, C), silent-so-far counts as T
    assert running.tolist() == [[5, 5, 0], [5, 5, 0], [5, 2, 0], [5, 2, 0], [5, 2, 0]]

    drive = torch.ones(5, 1, 2, requires_grad=True)               # (T, B, C); the second output stays silent
    scale = torch.tensor([1.0, 0.1])
    spikes_out = cuba_spikes(drive * scale, CUBAParams(tau_syn=1.0, threshold=1.0, max_spikes=1))
    t_first = first_spike_times(spikes_out)                       # first spike at step 2 (see the CUBA test)
    assert t_first[0].tolist() == [2.0, 5.0]
    t_first.sum().backward()
    assert torch.isfinite(drive.grad).all()
    assert drive.grad[:, 0, 0].abs().sum() > 0 and drive.grad[:, 0, 1].abs().sum() > 0


def test_tie_break_picks_the_higher_membrane():
    t_first = torch.tensor([[2.0, 2.0, 5.0], [5.0, 5.0, 5.0], [3.0, 1.0, 1.0]])
    v_max = torch.tensor([[1.1, 1.4, 9.0], [0.2, 0.7, 0.1], [5.0, 1.2, 1.0]])
    assert first_spike_predictions(t_first, v_max).tolist() == [1, 1, 1]


def test_spiking_readouts_logits_and_predictions():
    spikes = torch.zeros(4, 2, 3)                                 # (T, B, C)
    spikes[1, 0, 0] = spikes[1, 0, 2] = spikes[3, 0, 2] = 1       # sample 0: tie at step 1
    spikes[0, 1, 1] = spikes[2, 1, 0] = spikes[3, 1, 0] = 1
    v_pre = torch.zeros(4, 2, 3)
    v_pre[1, 0, 2] = 2.0
    v_pre[1, 0, 0] = 1.5
    count = spiking_readout("count", spikes, v_pre, 4.0)
    assert count.logits.tolist() == spikes.sum(0).tolist() == [[1, 0, 2], [2, 1, 0]]
    first = spiking_readout("first-spike", spikes, v_pre, 2.0)
    assert first.logits.tolist() == [[-0.5, -2.0, -0.5], [-1.0, 0.0, -2.0]]
    assert first.predictions.tolist() == [2, 1]
    assert first.step_logits[-1].tolist() == first.logits.tolist()
