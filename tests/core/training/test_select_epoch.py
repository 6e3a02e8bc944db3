"""The reported epoch (training.select_epoch): chosen on validation accuracy, its weights put back, never test."""
from __future__ import annotations

from snn_core.experiments.run import train_run
from snn_core.training.trainer import Trainer

# validation accuracy peaks at epoch 3 of 4 here (0.58, 0.58, 0.72, 0.70), test accuracy does not (0.70 vs 0.75)
FOUR_EPOCHS = {"epochs": 4, "train-samples": 200, "validation": 0.25, "lr": 0.1, "lr-schedule": "constant", "seed": 1,
               "robustness": "false"}


def best_validation_epoch(history) -> int:
    best = max(record.validation_accuracy for record in history)
    return next(record.epoch for record in history if record.validation_accuracy == best)    # first of ties


def test_a_run_reports_its_best_validation_epoch_with_that_epochs_weights(tiny):
    result = train_run(tiny(FOUR_EPOCHS), device="cpu")
    chosen = best_validation_epoch(result.history)
    record = result.history[chosen - 1]
    assert chosen < len(result.history)                                        # so the weights had to be put back
    assert result.metrics.selected_epoch == chosen
    assert (result.metrics.test_accuracy, result.metrics.validation_accuracy, result.metrics.nasfr) == \
        (record.test_accuracy, record.validation_accuracy, record.nasfr)


def test_the_restored_weights_are_the_chosen_epochs(tiny):
    trainer = Trainer(tiny(FOUR_EPOCHS), device="cpu")
    trainer.fit()
    record = trainer.select_reported_epoch()
    assert record.epoch == best_validation_epoch(trainer.history) == trainer.selected_epoch
    assert trainer.evaluate().accuracy == record.test_accuracy                  # re-measured on the put-back weights


def test_last_and_no_validation_split_report_the_final_epoch(tiny):
    for changes in ({"select-epoch": "last"}, {"validation": 0}):
        result = train_run(tiny(FOUR_EPOCHS, changes), device="cpu")
        assert result.metrics.selected_epoch == 4
        assert result.metrics.test_accuracy == result.history[-1].test_accuracy
