"""Choosing settings reads validation accuracy, never test accuracy."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from snn_core.experiments.tuning import pick_by_validation, pick_for_all, validation_scores
from snn_core.results import RunResult

STORED = RunResult.from_json(json.loads(
    (Path(__file__).parents[1] / "results" / "current" / "train_digits.json").read_text()))


def slot(validation: float | None, test: float, error: str | None = None) -> RunResult:
    if error:
        return RunResult(STORED.config, cached=False, error=error)
    return replace(STORED, metrics=replace(STORED.metrics, validation_accuracy=validation, test_accuracy=test),
                   cached=False)


def test_pick_reads_validation_never_test():
    slots = [slot(0.80, 0.95), slot(0.90, 0.70), slot(0.90, 0.99), slot(None, 1.0, "ValueError: boom")]
    assert validation_scores(slots) == [0.80, 0.90, 0.90, None]
    assert pick_by_validation(slots) == 1                         # best validation, first of a tie; test ignored
    with pytest.raises(ValueError, match="no tuning run reported a validation accuracy; allowed: .*--validation"):
        pick_by_validation([slot(None, 0.9), slot(None, 0.5, "RuntimeError: x")])


def test_a_shared_point_is_the_one_whose_worst_arm_is_best():
    first = [slot(0.95, 0.5), slot(0.90, 0.5), slot(0.99, 0.99)]
    second = [slot(0.60, 0.99), slot(0.88, 0.5), slot(None, 0.99, "RuntimeError: diverged")]
    assert pick_for_all([first, second]) == 1          # min 0.60, 0.88, out (failed): point 1
    assert pick_for_all([first]) == 2


def test_the_ttfs_preset_search_marks_the_point_its_worse_arm_validates_best(monkeypatch, tiny):
    from snn_core.experiments import ttfs_preset_search as search_module
    small = tiny(encoding="latency", T=6, **{"latency-window": 4, "neuron": "cuba", "readout": "first-spike",
                                            "train-samples": 80})
    monkeypatch.setattr(search_module, "ttfs_config", lambda **changes: small.with_values(changes))
    grid = ({"tau-syn": 2.0, "lr": 1e-3}, {"tau-syn": 4.0, "lr": 3e-2})
    monkeypatch.setattr(search_module, "GRID", grid)
    chosen, lines = search_module.search()
    rows = [line for line in lines if line.startswith("| 2 ") or line.startswith("| 4 ")]
    assert len(rows) == 2 and sum(row.endswith("| yes |") for row in rows) == 1
    worse = [min(float(cell.rstrip("%")) for cell in row.split(" | ")[2:4]) for row in rows]
    assert chosen == grid[max(range(2), key=lambda i: (worse[i], -i))]
