"""Encoders: shapes, the spike rules each one promises, the latency window, and determinism."""
from __future__ import annotations

import pytest
import torch

from snn_core.network.encoders import direct, encode, latency, poisson, to_time_major


def test_direct_repeats_the_input_at_every_step():
    x = torch.rand(3, 1, 8, 8)
    seq = direct(x, 5)
    assert seq.shape == (5, 3, 1, 8, 8)
    assert torch.equal(seq[4], x)


def test_poisson_rate_matches_intensity_and_is_seeded():
    x = torch.tensor([[0.0, 0.25, 0.75, 1.0]])
    seq = poisson(x, 4000, torch.Generator().manual_seed(1))
    rates = seq.mean(0).flatten().tolist()
    assert rates[0] == 0.0 and rates[3] == 1.0
    assert abs(rates[1] - 0.25) < 0.03 and abs(rates[2] - 0.75) < 0.03
    again = poisson(x, 4000, torch.Generator().manual_seed(1))
    assert torch.equal(seq, again)


def test_latency_gives_one_spike_brighter_earlier_and_none_for_zero():
    x = torch.tensor([[1.0, 0.5, 0.1, 0.0]])
    seq = latency(x, 9)
    assert seq.sum(0).flatten().tolist() == [1, 1, 1, 0]
    first = seq.argmax(0).flatten().tolist()[:3]
    assert first == [0, 4, 7]                     # round((1 - x) * 8)


def test_encode_rejects_unknown_names():
    with pytest.raises(ValueError, match="allowed: direct, poisson, latency"):
        encode(torch.zeros(1, 2), "delta", 4)


def test_event_frames_become_time_major():
    frames = torch.rand(2, 7, 2, 4, 4)
    assert to_time_major(frames).shape == (7, 2, 2, 4, 4)


def test_latency_window_packs_the_spikes_into_the_first_steps():
    from snn_core.network.encoders import encode
    x = torch.tensor([[1.0, 0.5, 0.1, 0.0]])
    seq = encode(x, "latency", 10, latency_window=5)             # t = round((1 - x) * 4) = 0, 2, 4 (3.6)
    assert seq.shape == (10, 1, 4) and seq[5:].sum() == 0
    assert seq.sum(0).flatten().tolist() == [1, 1, 1, 0]
    assert seq.argmax(0).flatten().tolist()[:3] == [0, 2, 4]
    assert torch.equal(encode(x, "latency", 10, latency_window=0), encode(x, "latency", 10))
    assert torch.equal(encode(x, "latency", 10, latency_window=10), encode(x, "latency", 10))
    assert torch.equal(encode(x, "direct", 10, latency_window=5), encode(x, "direct", 10))   # latency only
    with pytest.raises(ValueError, match="latency_window=11 is not valid"):
        encode(x, "latency", 10, latency_window=11)
