"""One run's result (snn_core.experiments.run): decision metrics of a first-spike run, epochs to target."""
from __future__ import annotations

from snn_core.training.trainer import Trainer

FIRST_SPIKE = {"readout": "first-spike", "encoding": "latency", "max-spikes": 1, "neuron": "cuba", "T": 6,
               "epochs": 2, "train-samples": 60, "threshold": 0.3}      # changes from the tiny base


def test_tiny_first_spike_run_reports_decision_metrics(tiny):
    from snn_core.experiments.run import run_result
    trainer = Trainer(tiny(FIRST_SPIKE), device="cpu")
    trainer.fit()
    decision = run_result(trainer).metrics.decision
    assert 0.0 <= decision.no_decision_fraction <= 1.0
    assert len(decision.accuracy_vs_tcut) == 6
    assert all(0.0 <= a <= 1.0 for a in decision.accuracy_vs_tcut)
    assert "decision_step_mean" in run_result(trainer).to_json()["metrics"]           # the JSON keeps today's keys
    rate = Trainer(tiny(T=2, hidden=8, train_samples=40, test_samples=20), device="cpu")
    rate.fit()
    assert run_result(rate).metrics.decision is None
    assert "accuracy_vs_tcut" not in run_result(rate).to_json()["metrics"]


def test_epochs_to_target_is_the_first_epoch_at_or_above_the_target():
    from snn_core.experiments.run import epochs_to_target
    from snn_core.training.trainer import EpochRecord
    history = [EpochRecord(epoch, epoch, 0.0, 0.0, 0.0, accuracy, 0.0, 0.0, 0.0, {})
               for epoch, accuracy in enumerate([0.5, 0.89, 0.9, 0.95, 0.85], start=1)]
    assert epochs_to_target(history, 0.9) == 3
    assert epochs_to_target(history, 0.5) == 1
    assert epochs_to_target(history, 0.96) is None
    assert epochs_to_target([], 0.1) is None
