"""Robustness perturbations (snn_core.metrics.robustness) do what they say; the curves measure each level once."""
import pytest
import torch
from torch import nn

from snn_core.metrics.robustness import (
    deletion,
    fold,
    jitter,
    noise_generator,
    robustness_curves,
    synapse_weights,
    weight_noise,
)
from snn_core.network.encoders import latency


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def latency_frames(batch: int = 64, steps: int = 20) -> torch.Tensor:
    x = torch.rand(batch, 1, 8, 8, generator=gen(1)) * (torch.rand(batch, 1, 8, 8, generator=gen(2)) > 0.3)
    return latency(x, steps)                                                   # (T, B, 1, 8, 8)


def test_fold_reflects_at_both_ends():
    assert fold(torch.tensor([-3, -1, 0, 4, 5, 6, 9, 13]), 6).tolist() == [3, 1, 0, 4, 5, 4, 1, 3]
    assert fold(torch.tensor([-2, 0, 3]), 1).tolist() == [0, 0, 0]


def test_jitter_moves_spikes_but_keeps_every_count():
    frames = latency_frames()
    moved = jitter(frames, 2.0, gen())
    assert torch.equal(moved.sum(0), frames.sum(0))                            # every input keeps its spike
    assert moved.min() >= 0 and set(moved.unique().tolist()) <= {0.0, 1.0, 2.0}
    spiking = frames.sum(0) > 0
    shift = (moved.argmax(0) - frames.argmax(0)).float()[spiking]            # one spike per input: its step
    assert (shift != 0).float().mean() > 0.5                                   # |round(N(0, 4))| >= 1: p = 0.80
    assert shift.abs().mean() < 3.0                                            # ~E|N(0, 2^2)| = 1.6, folded


def test_jitter_keeps_event_counts_above_one_and_analog_values():
    counts = torch.randint(0, 4, (10, 8, 2, 4, 4), generator=gen(3)).float()  # (T, B, P, H, W) event counts
    moved = jitter(counts, 1.5, gen())
    assert torch.equal(moved.sum(0), counts.sum(0)) and not torch.equal(moved, counts)
    analog = torch.rand(6, 4, 5, generator=gen(4))                             # direct encoding: real values
    shifted = jitter(analog, 1.0, gen())
    assert torch.allclose(shifted.sum(0), analog.sum(0)) and not torch.equal(shifted, analog)


def test_sigma_zero_and_p_zero_are_the_identity():
    frames = latency_frames()
    assert torch.equal(jitter(frames, 0.0, gen()), frames)
    assert torch.equal(deletion(frames, 0.0, gen()), frames)
    assert torch.equal(deletion(frames, 1.0, gen()), torch.zeros_like(frames))


def test_deletion_removes_about_p_of_the_spikes_and_never_adds():
    frames = latency_frames(batch=256)
    for p in (0.1, 0.3):
        kept = deletion(frames, p, gen())
        assert (kept <= frames).all()
        assert 1 - kept.sum() / frames.sum() == pytest.approx(p, abs=0.02)    # ~8000 spikes: sd 0.005
    counts = torch.full((50, 40), 5.0)
    thinned = deletion(counts, 0.4, gen())
    assert (thinned == thinned.round()).all() and (thinned <= 5).all()
    assert thinned.mean() == pytest.approx(3.0, abs=0.1)                       # Binomial(5, 0.6)


def test_a_fixed_seed_gives_the_same_noise_and_another_seed_other_noise():
    frames = latency_frames()
    assert torch.equal(jitter(frames, 2.0, gen(5)), jitter(frames, 2.0, gen(5)))
    assert not torch.equal(jitter(frames, 2.0, gen(5)), jitter(frames, 2.0, gen(6)))
    assert torch.equal(deletion(frames, 0.3, noise_generator("deletion", 0.3)),
                       deletion(frames, 0.3, noise_generator("deletion", 0.3)))
    assert noise_generator("jitter", 1.0).initial_seed() != noise_generator("jitter", 2.0).initial_seed()


def test_weight_noise_scales_every_synapse_and_restores_it():
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 4))
    before = [p.detach().clone() for p in model.parameters()]
    assert [w.shape for w in synapse_weights(model)] == [(3, 2, 3, 3), (4, 12)]
    with weight_noise(model, 0.2, gen()):
        conv, linear = synapse_weights(model)
        ratio = torch.cat([(conv / before[0]).flatten(), (linear / before[4]).flatten()]).detach()
        assert float(ratio.std()) == pytest.approx(0.2, abs=0.05) and float(ratio.mean()) == pytest.approx(1, abs=0.05)
        assert torch.equal(model[1].weight, before[2])                          # BatchNorm scale is not a synapse
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before))
    with pytest.raises(RuntimeError):
        with weight_noise(model, 0.5, gen()):
            raise RuntimeError("interrupted")
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before))  # restored even on an error


def test_bad_levels_name_the_perturbation():
    with pytest.raises(ValueError, match="deletion p=1.5 is not valid; allowed: a number in 0..1"):
        deletion(latency_frames(), 1.5, gen())
    with pytest.raises(ValueError, match="jitter sigma=-1 is not valid"):
        jitter(latency_frames(), -1, gen())


def test_curves_measure_each_level_through_the_given_accuracy_and_reuse_a_given_clean_value():
    model = nn.Linear(2, 1, bias=False)
    frames = torch.ones(4, 3, 2)                                               # (T, B, N): 24 events
    calls = []

    def kept_events(perturb):                                                  # fraction of the events left
        calls.append(perturb)
        return float((frames if perturb is None else perturb(frames)).sum()) / 24

    levels = {"jitter": (3.0,), "deletion": (1.0,)}
    assert robustness_curves(kept_events, model, levels, clean=0.75) == {"jitter": {"0": 0.75, "3": 1.0},
                                                                         "deletion": {"0": 0.75, "1": 0.0}}
    assert len(calls) == 2 and None not in calls                               # one call per level
    assert robustness_curves(kept_events, model, {"deletion": (1.0,)}) == {"deletion": {"0": 1.0, "1": 0.0}}
    assert calls[2] is None and len(calls) == 4                                # clean measured first
