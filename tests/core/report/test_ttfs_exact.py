"""The exact-engine TTFS table's tuning path: each arm keeps the setting with the best validation accuracy."""
from __future__ import annotations

import pytest

from snn_core.report import ttfs_exact
from snn_core.report.parts import RunCounter
from snn_core.report.ttfs_exact import pick_by_validation, validation_scores


def slot(validation: float | None, test: float, error: str | None = None) -> dict:
    return {"error": error, "metrics": None if error else {"validation_accuracy": validation, "test_accuracy": test}}


def test_pick_reads_validation_never_test():
    slots = [slot(0.80, 0.95), slot(0.90, 0.70), slot(0.90, 0.99), slot(None, 1.0, "ValueError: boom")]
    assert validation_scores(slots) == [0.80, 0.90, 0.90, None]
    assert pick_by_validation(slots) == 1                         # best validation, first of a tie; test ignored
    with pytest.raises(ValueError, match="no tuning run reported a validation accuracy; allowed: .*--validation"):
        pick_by_validation([slot(None, 0.9), slot(None, 0.5, "RuntimeError: x")])


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
