"""Robustness perturbations do what they say; the robustness metric pairs across runs; nested metrics flatten."""
import pytest
import torch
from torch import nn

from snn_core.config.run_config import RunConfig
from snn_core.experiments.compare import numeric_metrics
from snn_core.metrics.robustness import (
    LEVELS,
    deletion,
    fold,
    jitter,
    noise_generator,
    robustness_curves,
    synapse_weights,
    weight_noise,
)
from snn_core.network.encoders import latency
from snn_core.report.verdict import style_of
from snn_core.training.evaluate import accuracy
from snn_core.training.robustness import robustness
from snn_core.training.trainer import Trainer


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


@pytest.fixture(scope="module")
def trained():
    cfg = RunConfig().with_values({"encoding": "latency", "T": 8, "latency-window": 6, "hidden": "32",
                                   "neuron": "cuba", "tau-syn": 2, "threshold": 0.5, "lr": 0.01, "batch-size": 16,
                                   "epochs": 2, "train-samples": 300, "test-samples": 60})
    trainer = Trainer(cfg, device="cpu")
    trainer.fit()
    return trainer


def test_robustness_reports_every_kind_and_level_and_repeats_exactly(trained):
    result = robustness(trained)
    assert list(result) == list(LEVELS)
    assert list(result["jitter"]) == ["0", "1", "2", "4"] and list(result["deletion"]) == ["0", "0.1", "0.3"]
    assert list(result["weight_noise"]) == ["0", "0.1", "0.2"]
    assert {curve["0"] for curve in result.values()} == {trained.evaluate().accuracy}
    assert result == robustness(trained)                                        # fixed noise seed
    before = [p.detach().clone() for p in trained.model.parameters()]
    robustness(trained, {"weight_noise": (0.5,)})
    assert all(torch.equal(p, b) for p, b in zip(trained.model.parameters(), before))


def test_total_deletion_leaves_a_latency_net_at_chance_or_worse(trained):
    silenced = accuracy(trained, lambda frames: deletion(frames, 1.0, gen()))
    assert silenced <= 0.2 < trained.evaluate().accuracy
    with pytest.raises(ValueError, match="robustness kinds \\['dropout'\\] are not known"):
        robustness(trained, {"dropout": (0.1,)})


def test_nested_metrics_flatten_to_dotted_names_with_readable_labels():
    flat = numeric_metrics({"robustness": {"jitter": {"0": 0.9, "2": 0.8}}, "epochs_to_target": None,
                            "accuracy_vs_tcut": [0.1, 0.5]})
    assert flat == {"robustness.jitter.0": 0.9, "robustness.jitter.2": 0.8}
    assert style_of("robustness.jitter.2").label == "accuracy under input jitter sigma = 2 steps"
    assert style_of("robustness.deletion.0.3").label == "accuracy with input spikes deleted at p = 0.3"
    assert style_of("robustness.weight_noise.0.1").better == "higher"
    assert style_of("decision_step_mean").better == "lower"


def test_clean_accuracy_reuses_the_latest_evaluation_only_while_the_weights_are_unchanged():
    cfg = RunConfig().with_values({"encoding": "latency", "T": 4, "hidden": "8", "epochs": 2,
                                   "train-samples": 64, "test-samples": 30, "batch-size": 16})
    trainer = Trainer(cfg, device="cpu")
    trainer.run_epoch()
    assert trainer.evaluated_weights_current
    assert robustness(trainer, {"deletion": (0.5,)})["deletion"]["0"] == trainer.last_evaluation.accuracy
    trainer.step()                                                       # weights moved since that evaluation
    assert not trainer.evaluated_weights_current
    assert robustness(trainer, {"deletion": (0.5,)})["deletion"]["0"] == accuracy(trainer)
