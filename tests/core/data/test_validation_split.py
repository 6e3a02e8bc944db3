"""The validation split (snn_core.data.validation): held out of train, stratified, fixed by the data seed alone,
measured every epoch, and what a run reports; absent at --validation 0."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from snn_core.config.budget import estimate
from snn_core.config.run_config import RunConfig
from snn_core.data import DATASETS, load_dataset, real
from snn_core.data.validation import validation_indices
from snn_core.experiments.run import run_result
from snn_core.results import numeric_metrics
from snn_core.training import evaluate
from snn_core.training.trainer import Trainer


def _rows(x: torch.Tensor) -> list[bytes]:
    """The samples of ``x`` as a sorted multiset (one bytes string each), to compare splits by content."""
    return sorted(sample.numpy().tobytes() for sample in x)


@pytest.fixture(autouse=True)
def fresh_loads():
    load_dataset.cache_clear()
    yield
    load_dataset.cache_clear()


# --- the rule ------------------------------------------------------------------------------------------------


def test_each_class_gets_its_floor_and_the_largest_remainders_get_the_rest():
    labels = np.array([0] * 10 + [1] * 5 + [2] * 5)
    kept, held = validation_indices(labels, 0.25, seed=0)
    # round(0.25 * 20) = 5; floors 2, 1, 1; the one left goes to class 0 (remainder 0.5 against 0.25, 0.25)
    assert np.bincount(labels[held]).tolist() == [3, 1, 1]
    assert sorted([*kept, *held]) == list(range(20)) and not set(kept) & set(held)
    assert list(kept) == sorted(kept) and list(held) == sorted(held)
    # equal remainders and equal classes: the lower labels get the two left over (round(0.1 * 15) = 2)
    _, held = validation_indices(np.repeat([0, 1, 2], 5), 0.1, seed=0)
    assert np.bincount(np.repeat([0, 1, 2], 5)[held], minlength=3).tolist() == [1, 1, 0]


def test_fewer_than_two_validation_samples_or_fraction_zero_hold_out_none():
    labels = np.arange(10) % 2
    assert len(validation_indices(labels, 0.1, seed=0)[1]) == 0             # round(1.0) = 1: too few
    assert len(validation_indices(labels, 0.0, seed=0)[1]) == 0
    assert len(validation_indices(np.arange(3) % 2, 0.5, seed=0)[1]) == 0   # 2 held would leave 1 to train on
    assert len(validation_indices(np.arange(15) % 3, 0.1, seed=0)[1]) == 2  # round(1.5) = 2
    with pytest.raises(ValueError, match=r"validation=0\.6 is not valid; allowed: a fraction from 0 \(off\) to 0\.5"):
        validation_indices(labels, 0.6, seed=0)
    with pytest.raises(ValueError, match="validation"):
        RunConfig().with_values({"validation": "0.6"})


def test_which_samples_are_held_out_depends_on_the_data_seed():
    labels = np.arange(200) % 4
    first = validation_indices(labels, 0.2, seed=0)[1]
    assert np.array_equal(first, validation_indices(labels, 0.2, seed=0)[1])
    assert not np.array_equal(first, validation_indices(labels, 0.2, seed=1)[1])


# --- each dataset --------------------------------------------------------------------------------------------


def test_digits_validation_is_a_stratified_tenth_of_train_and_the_test_split_does_not_move():
    with_val = load_dataset(RunConfig().data)                                   # the default: validation 0.1
    without = load_dataset(RunConfig().with_values({"validation": 0}).data)
    assert (len(with_val.train_y), len(with_val.val_y), len(with_val.test_y)) == (1293, 144, 360)
    assert (len(without.train_y), len(without.val_y)) == (1437, 0) and without.val_x.shape == (0, 1, 8, 8)
    assert torch.equal(with_val.test_x, without.test_x) and torch.equal(with_val.test_y, without.test_y)
    # train and validation together are exactly the old training split: disjoint, nothing added or lost
    assert _rows(torch.cat([with_val.train_x, with_val.val_x])) == _rows(without.train_x)
    share = 0.1 * torch.bincount(without.train_y, minlength=10)
    assert (torch.bincount(with_val.val_y, minlength=10) - share).abs().max() < 1
    assert with_val.nbytes == without.nbytes == sum(t.nbytes for t in (
        with_val.train_x, with_val.train_y, with_val.val_x, with_val.val_y, with_val.test_x, with_val.test_y))


def test_event_validation_comes_out_of_the_generated_training_clips():
    base = {"dataset": "events-direction", "T": 2, "train-samples": 80, "test-samples": 20}
    with_val = load_dataset(RunConfig().with_values({**base, "validation": 0.25}).data)
    without = load_dataset(RunConfig().with_values({**base, "validation": 0}).data)
    assert (len(with_val.train_y), len(with_val.val_y), len(with_val.test_y)) == (60, 20, 20)
    assert torch.bincount(with_val.val_y).tolist() == [5, 5, 5, 5]               # 20 balanced clips per direction
    assert torch.equal(with_val.test_x, without.test_x)
    assert _rows(torch.cat([with_val.train_x, with_val.val_x])) == _rows(without.train_x)
    assert with_val.val_x.dtype == torch.uint8 and with_val.val_x.shape[1:] == with_val.train_x.shape[1:]


def test_a_real_dataset_holds_validation_out_of_its_training_recordings_without_reframing(real_data, monkeypatch):
    settings = {"dataset": "nmnist", "data-dir": str(real_data / "nmnist"), "T": 2, "train-samples": 50,
                "test-samples": 20, "data-seed": 3}
    without = load_dataset(RunConfig().with_values({**settings, "validation": 0}).data)
    load_dataset.cache_clear()
    monkeypatch.setattr(real, "_frame_files", lambda *a, **k: pytest.fail("reframed for another validation"))
    with_val = load_dataset(RunConfig().with_values({**settings, "validation": 0.2}).data)
    assert (len(with_val.train_y), len(with_val.val_y), len(with_val.test_y)) == (40, 10, 20)
    assert torch.equal(with_val.test_x, without.test_x)
    assert _rows(torch.cat([with_val.train_x, with_val.val_x])) == _rows(without.train_x)
    share = 0.2 * torch.bincount(without.train_y, minlength=10)
    assert (torch.bincount(with_val.val_y, minlength=10) - share).abs().max() < 1
    assert "40 training, 10 validation and 20 test recordings" in with_val.source
    assert "10 of the training recordings held out for validation (stratified, data-seed 3)" in with_val.source


# --- runs ----------------------------------------------------------------------------------------------------


def test_every_training_seed_and_method_arm_sees_the_same_validation_split(tiny):
    arms = [Trainer(tiny(seed=seed, **changes), device="cpu").dataset for seed, changes in (
        (0, {}), (5, {}), (0, {"trt": "on", "hidden": "8,8"}), (5, {"max-spikes": 1}))]
    assert len(arms[0].val_y) == 6                                   # round(0.1 * 64)
    for other in arms[1:]:
        assert torch.equal(other.val_x, arms[0].val_x) and torch.equal(other.train_y, arms[0].train_y)
    moved = Trainer(tiny(data_seed=1), device="cpu").dataset
    assert not torch.equal(moved.val_x, arms[0].val_x)


def test_each_epoch_records_validation_accuracy_and_the_run_reports_it(tiny):
    trainer = Trainer(tiny(epochs=2), device="cpu")
    trainer.fit()
    assert [r.validation_accuracy is not None for r in trainer.history] == [True, True]
    data = trainer.dataset
    trainer.model.eval()
    with torch.no_grad():            # direct encoding is deterministic: the same inputs evaluate sees
        predictions = trainer.forward(data.val_x).predictions
    by_hand = float((predictions == data.val_y).double().mean())
    assert trainer.history[-1].validation_accuracy == pytest.approx(by_hand)
    assert evaluate.validation_accuracy(trainer) == pytest.approx(by_hand)
    metrics = run_result(trainer).to_json()["metrics"]
    assert metrics["validation_accuracy"] == trainer.history[-1].validation_accuracy
    assert (metrics["train_samples"], metrics["validation_samples"], metrics["test_samples"]) == (58, 6, 40)
    assert "validation_accuracy" in numeric_metrics(metrics)                 # so comparisons pair it


def test_validation_zero_means_no_split_no_metric_and_no_pairing(tiny):
    trainer = Trainer(tiny(validation=0), device="cpu")
    trainer.fit()
    assert len(trainer.dataset.val_y) == 0 and trainer.history[-1].validation_accuracy is None
    metrics = run_result(trainer).to_json()["metrics"]
    assert metrics["validation_accuracy"] is None and metrics["validation_samples"] == 0
    assert "validation_accuracy" not in numeric_metrics(metrics)
    with pytest.raises(ValueError, match="the validation split is empty"):
        evaluate.accuracy(trainer, split="validation")


def test_the_memory_estimate_counts_a_validation_split_larger_than_the_test_set():
    base = RunConfig().with_values({"test-samples": 20, "validation": 0})
    info = DATASETS["digits"]
    larger = base.with_values({"validation": 0.5})                 # ceil(0.5 * 1437) = 719 > 256 = EVAL_BATCH
    assert estimate(larger, info).evaluation * 20 == estimate(base, info).evaluation * 256
    assert estimate(larger, info).dataset == estimate(base, info).dataset   # held out of train, not added to it
