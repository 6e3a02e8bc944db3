"""Redundancy metrics (channel patterns, similarity proxies, MPD) against hand-computed answers."""
import json
import math

import numpy as np
import pytest
import torch

from snn_core import cli
from snn_core.config.run_config import RunConfig
from snn_core.experiments.run import evaluation_metrics
from snn_core.metrics.redundancy import (
    PatternThresholds,
    RedundancyTally,
    channel_similarity_sums,
    classify_channels,
    mpd_histogram,
    temporal_similarity_sums,
    would_fire_fraction,
)
from snn_core.training.trainer import Trainer


def test_classifier_on_constructed_maps():
    maps = torch.zeros(4, 4, 4)
    maps[0] = 0.9                       # fires everywhere -> noise
    maps[2, 1:3, 1:3] = 0.8             # a 2x2 blob: 4/16 pixels above 0.5, mean 0.2 -> normal
    maps[3, 0, 0] = 0.1                 # mean 0.1/16 = 0.00625 < 0.01 -> null
    assert classify_channels(maps).tolist() == [0, 2, 1, 2]      # channel 1 silent -> null


def test_classifier_threshold_edges():
    half = torch.zeros(1, 2, 4)
    half[0, 0] = 0.9                    # exactly 50% of pixels above 0.5: not MORE than half -> normal
    assert classify_channels(half).tolist() == [1]
    half[0, 1, 0] = 0.9                 # 5/8 > 50% -> noise
    assert classify_channels(half).tolist() == [0]
    at_rate = torch.full((1, 2, 2), 0.5)     # rate exactly 0.5 is not ABOVE 0.5 -> normal
    assert classify_channels(at_rate).tolist() == [1]
    at_null = torch.full((1, 2, 2), 0.01, dtype=torch.float64)   # mean exactly 0.01: not below -> normal
    assert classify_channels(at_null).tolist() == [1]
    strict = PatternThresholds(noise_rate=0.4, noise_pixel_fraction=0.2, null_rate=0.05)
    assert classify_channels(at_rate, strict).tolist() == [0]
    assert classify_channels(at_null, strict).tolist() == [2]


@pytest.mark.parametrize("kwargs", [{"noise_rate": 1.0}, {"noise_pixel_fraction": -0.1},
                                    {"null_rate": -0.01}, {"null_rate": 0.3}])
def test_thresholds_are_validated(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        PatternThresholds(**kwargs)


def _spikes(*maps):
    """Spikes ``[T, 1, 1, 1, len]`` of one sample and channel, one map per step."""
    return torch.tensor(maps, dtype=torch.float).reshape(len(maps), 1, 1, 1, -1)


def test_temporal_similarity_identical_disjoint_partial_and_empty():
    assert temporal_similarity_sums(_spikes([1, 1, 0, 0], [1, 1, 0, 0])) == pytest.approx((1.0, 1))
    assert temporal_similarity_sums(_spikes([1, 1, 0, 0], [0, 0, 1, 1])) == (0.0, 1)
    # {0,1} vs {1,2,3}: overlap 1, cos = 1 / sqrt(2 * 3)
    assert temporal_similarity_sums(_spikes([1, 1, 0, 0], [0, 1, 1, 1])) == pytest.approx((1 / math.sqrt(6), 1))
    # steps: full, empty, empty, full -> pairs (full, empty) = 0 counted, (empty, empty) skipped, (empty, full) = 0
    assert temporal_similarity_sums(_spikes([1, 0], [0, 0], [0, 0], [1, 0])) == (0.0, 2)
    assert temporal_similarity_sums(_spikes([1, 0])) == (0.0, 0)          # T = 1: no pair


def test_channel_similarity_matches_hand_answer_and_pairwise_loop():
    a, b, c, empty = [1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0]
    one_step = torch.tensor([[a, b, c, empty, empty]], dtype=torch.float).reshape(1, 1, 5, 2, 2)
    # pairs: ab = 1/sqrt(6), ac = 0, bc = 2/sqrt(6); a/b/c with an empty map count as 0 (6 pairs);
    # the empty-empty pair is skipped -> 10 - 1 = 9 pairs
    total, count = channel_similarity_sums(one_step)
    assert count == 9 and total == pytest.approx(3 / math.sqrt(6))
    spikes = (torch.rand(3, 2, 6, 3, 3, generator=torch.Generator().manual_seed(0)) < 0.3).float()
    spikes[1, 0] = 0                                                      # a step where every map is empty
    brute_sum, brute_count = 0.0, 0
    for t in range(3):
        for m in range(2):
            maps = spikes[t, m].flatten(1)
            for i in range(6):
                for j in range(i + 1, 6):
                    ni, nj = maps[i].norm(), maps[j].norm()
                    if ni > 0 or nj > 0:
                        brute_count += 1
                        brute_sum += float(maps[i] @ maps[j] / (ni * nj)) if ni > 0 and nj > 0 else 0.0
    total, count = channel_similarity_sums(spikes)
    assert count == brute_count and total == pytest.approx(brute_sum)


def _random_conv_batch(seed):
    generator = torch.Generator().manual_seed(seed)
    conv = (torch.rand(4, 5, 3, 4, 4, generator=generator) < 0.4).float()     # (T, B, C, H, W)
    fc = (torch.rand(4, 5, 7, generator=generator) < 0.4).float()             # (T, B, N)
    return conv, fc


def test_accumulation_over_two_batches_equals_one_concatenated_batch():
    (conv_a, fc_a), (conv_b, fc_b) = _random_conv_batch(1), _random_conv_batch(2)
    split = RedundancyTally(["conv1", "fc1"])
    split.add((conv_a, fc_a))
    split.add((conv_b, fc_b))
    whole = RedundancyTally(["conv1", "fc1"])
    whole.add((torch.cat([conv_a, conv_b], 1), torch.cat([fc_a, fc_b], 1)))
    s, w = split.summary(), whole.summary()
    assert list(s.layers) == ["conv1"] and s.samples == w.samples == 10
    assert torch.allclose(s.firing_maps["conv1"], w.firing_maps["conv1"])
    assert s.layers["conv1"].to_dict() == pytest.approx(w.layers["conv1"].to_dict())
    assert s.patterns == w.patterns


def test_firing_maps_patterns_and_overall_match_hand_counts():
    spikes = torch.zeros(2, 2, 2, 1, 2)          # T=2, M=2, C=2, 1x2 maps
    spikes[:, :, 0] = 1                          # channel 0 fires always -> rate 1 -> noise
    spikes[0, 1, 1, 0, 1] = 1                    # channel 1: one spike at pixel 1 -> rate 1/4 there
    other = torch.zeros(2, 2, 1, 1, 1)           # a 1-channel layer that never fires -> null
    tally = RedundancyTally(["conv1", "conv2"])
    tally.add((spikes, other))
    r = tally.summary()
    assert r.firing_maps["conv1"].tolist() == [[[1.0, 1.0]], [[0.0, 0.25]]]
    assert r.patterns == {"conv1": ("noise", "normal"), "conv2": ("null",)}
    conv1 = r.layers["conv1"]
    assert (conv1.noise_channels, conv1.normal_channels, conv1.null_channels) == (0.5, 0.5, 0.0)
    assert r.pattern_fractions() == {"conv1": {"noise": 0.5, "normal": 0.5, "null": 0.0},
                                     "conv2": {"noise": 0.0, "normal": 0.0, "null": 1.0}}
    # temporal: channel 0 has 2 identical pairs (cos 1), channel 1 of sample 1 one pair with one empty map (0)
    assert conv1.temporal_similarity == pytest.approx(2 / 3)
    # channel: sample 1 at t=0 has cos([1,1],[0,1]) = 1/sqrt(2); the other 3 (t, m) give 0
    assert conv1.channel_similarity == pytest.approx(1 / math.sqrt(2) / 4)
    assert r.layers["conv2"].temporal_similarity is None and r.layers["conv2"].channel_similarity is None
    # overall is channel-weighted: conv1 has 2 channels, conv2 1
    assert r.overall.noise_channels == pytest.approx(1 / 3) and r.overall.null_channels == pytest.approx(1 / 3)
    assert r.overall.temporal_similarity == pytest.approx(2 / 3)      # conv2 undefined -> left out


def test_summary_without_conv_layers_is_none_and_without_batches_an_error():
    tally = RedundancyTally(["fc1"])
    with pytest.raises(ValueError, match="at least one evaluated sample"):
        tally.summary()
    tally.add((torch.ones(2, 3, 4),))
    assert tally.summary() is None


def test_mpd_histogram_and_would_fire_fraction_on_known_values():
    values = torch.tensor([-3.0, -0.5, 0.0, 0.2, 0.3, 0.9, 2.9, 3.5])
    counts, edges = mpd_histogram(values, bins=3, value_range=(-3, 3))
    assert edges.tolist() == [-3.0, -1.0, 1.0, 3.0]
    assert counts.tolist() == [1, 5, 1]                      # 3.5 is outside the range
    assert would_fire_fraction(values, 0.3) == pytest.approx(4 / 8)   # 0.3, 0.9, 2.9, 3.5
    with pytest.raises(ValueError, match="bins"):
        mpd_histogram(values, bins=0)
    with pytest.raises(ValueError, match="empty"):
        would_fire_fraction(torch.zeros(0), 0.3)


def _tiny(arch):
    return RunConfig.from_dict({
        "data": {"dataset": "digits", "time_steps": 3, "train_samples": 64, "test_samples": 20},
        "model": {"arch": arch, "channels": [4, 8], "hidden": [16]},
        "training": {"epochs": 1, "batch_size": 32},
    })


def test_conv_trainer_evaluate_reports_redundancy_and_mlp_none():
    evaluation = Trainer(_tiny("conv"), device="cpu").evaluate()
    redundancy = evaluation.redundancy
    assert list(redundancy.layers) == ["conv1", "conv2"]
    for name, scores in redundancy.layers.items():
        assert scores.noise_channels + scores.normal_channels + scores.null_channels == pytest.approx(1.0)
        assert redundancy.firing_maps[name].shape[0] == len(redundancy.patterns[name])
    assert redundancy.firing_maps["conv2"].shape[0] == 8 and redundancy.samples == 20
    assert Trainer(_tiny("mlp"), device="cpu").evaluate().redundancy is None
    assert evaluation_metrics(Trainer(_tiny("mlp"), device="cpu").evaluate(), 0.0).to_json()["redundancy"] is None


def test_cli_json_has_redundancy_keys(capsys):
    cli.main(["train", "--arch", "conv", "--channels", "4,8", "--hidden", "16", "--T", "3", "--epochs", "1",
              "--train-samples", "64", "--test-samples", "20", "--quiet"])
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    keys = {"noise_channels", "normal_channels", "null_channels", "temporal_similarity", "channel_similarity"}
    assert set(metrics["redundancy"]["layers"]) == {"conv1", "conv2"}
    assert all(set(scores) == keys for scores in metrics["redundancy"]["layers"].values())
    assert set(metrics["redundancy"]["overall"]) == keys
    for key in ("noise_channels", "null_channels", "temporal_similarity", "channel_similarity"):
        assert metrics[key] == metrics["redundancy"]["overall"][key]
    assert isinstance(metrics["noise_channels"], float) and np.isfinite(metrics["noise_channels"])
