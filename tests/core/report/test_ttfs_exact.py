"""The exact-engine TTFS table's tuning path: each arm keeps the setting with the best validation accuracy."""
from __future__ import annotations

from snn_core.report import ttfs_exact
from snn_core.report.parts import RunCounter


def test_tuning_two_settings_for_one_epoch_keeps_the_best_validation_accuracy():
    tiny = ttfs_exact.EXACT_BASE.with_values({"T": 6, "latency-window": 4, "hidden": "8", "epochs": 1,
                                              "train-samples": 80, "test-samples": 30, "tau-syn": 2})
    grid = ({"lr": 1e-3, "threshold": 0.3}, {"lr": 3e-2, "threshold": 1.0})
    tuned = ttfs_exact.tune(tiny, grid, workers=1, cache=None, counter=RunCounter())
    assert set(tuned) == {"TTFS", "relaxed"}
    for name, (cfg, scores) in tuned.items():
        assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
        best = grid[max(range(2), key=lambda i: (scores[i], -i))]
        assert (cfg.training.lr, cfg.neuron.threshold) == (best["lr"], best["threshold"])
        assert cfg.training.seed == ttfs_exact.TUNE_SEED and cfg.model.engine == "exact"
        assert cfg.neuron.max_spikes == ttfs_exact.ARMS[name]["max-spikes"]
        assert cfg.model.readout == ttfs_exact.ARMS[name]["readout"]
