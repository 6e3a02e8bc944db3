"""The trainer: determinism, learning, an untouched global RNG, evaluation records, schedules and refusals."""

import pytest
import torch

from snn_core.config.run_config import RunConfig
from snn_core.training.trainer import Trainer

TRAINING = {"epochs": 2, "train-samples": 200, "test-samples": 60, "hidden": 32}   # changes from the tiny base


def test_same_seed_same_run_different_seed_different_run(tiny):
    a, b, c = Trainer(tiny(TRAINING)), Trainer(tiny(TRAINING)), Trainer(tiny(TRAINING, seed="1"))
    losses = [[t.step().loss for _ in range(4)] for t in (a, b, c)]
    assert losses[0] == losses[1]
    assert losses[0] != losses[2]
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))


def test_training_does_not_touch_the_global_rng(tiny):
    state = torch.get_rng_state()
    trainer = Trainer(tiny(TRAINING, encoding="poisson"))
    trainer.step()
    assert torch.equal(state, torch.get_rng_state())


def test_loss_falls_and_epochs_are_recorded(tiny):
    trainer = Trainer(tiny(TRAINING, epochs="3", T="4", lr="0.01", **{"train-samples": "400"}))
    first = trainer.step().loss
    history = trainer.fit()
    assert [r.epoch for r in history] == [1, 2, 3] and trainer.finished
    assert history[-1].train_loss < first
    assert history[-1].test_accuracy > 0.5                          # 10 classes: chance is 0.1
    assert history[-1].steps == 3 * trainer.batches_per_epoch


def test_evaluate_traces_requested_samples_across_batches(tiny):
    trainer = Trainer(tiny(TRAINING, **{"test-samples": "300"}))
    evaluation = trainer.evaluate(record=[2, 299])                 # in two different eval batches
    assert evaluation.trace.layers[0].spikes.shape[1] == 2
    assert evaluation.activity.samples == 300 and len(evaluation.predictions) == 300
    with pytest.raises(ValueError, match="allowed: test indices 0..299"):
        trainer.evaluate(record=[300])


def test_mlp_without_hidden_layers_is_rejected(tiny):
    with pytest.raises(ValueError, match="at least one hidden layer"):
        Trainer(tiny(TRAINING, hidden=""))


@pytest.mark.parametrize("dataset,classes", [("events-shape", 5), ("events-direction", 4)])
def test_event_datasets_train_a_conv_net_end_to_end(tiny, dataset, classes):
    cfg = tiny(TRAINING, dataset=dataset, arch="conv", channels="4", T="4",
               **{"train-samples": "40", "test-samples": "20"})
    trainer = Trainer(cfg)
    assert trainer.dataset.frame_shape == (2, 32, 32) and trainer.dataset.n_classes == classes
    assert trainer.dataset.train_x.dtype == torch.uint8
    result = trainer.step()
    assert result.loss > 0
    evaluation = trainer.evaluate(record=[0])
    assert evaluation.trace.layers[0].spikes.shape == (4, 1, 4, 16, 16)


@pytest.mark.parametrize("schedule,last_factor", [("cosine", 0.0), ("constant", 1.0)])
def test_learning_rate_schedule(tiny, schedule, last_factor):
    trainer = Trainer(tiny(TRAINING, **{"lr-schedule": schedule, "lr": "0.01"}))
    trainer.fit()
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.01 * last_factor, abs=1e-9)
    halfway = trainer.batches_per_epoch * trainer.cfg.training.epochs / 2
    assert trainer._lr_factor(int(halfway)) == pytest.approx(0.5 if schedule == "cosine" else 1.0, abs=0.05)


def test_trace_samples_equals_what_a_full_evaluation_records(tiny):
    trainer = Trainer(tiny(TRAINING, arch="conv", channels="4"))
    trainer.run_epoch()
    full = trainer.evaluate(record=[5, 17])
    few = trainer.trace_samples([5, 17])
    assert few.predictions == tuple(full.predictions[[5, 17]].tolist())
    assert few.labels == tuple(trainer.dataset.test_y[[5, 17]].tolist())
    for a, b in zip(full.trace.layers, few.trace.layers):
        assert torch.equal(a.spikes, b.spikes) and torch.allclose(a.v_pre, b.v_pre, atol=1e-5)
    with pytest.raises(ValueError, match="allowed: 1 or more test indices 0..59"):
        trainer.trace_samples([60])


def test_the_trainer_refuses_a_config_that_cannot_run():
    cfg = RunConfig().with_values({"first-spike-reg": 0.5})
    with pytest.raises(ValueError, match=r"model.first_spike_reg \(--first-spike-reg\)=0.5"):
        Trainer(cfg, device="cpu")


def test_a_single_leftover_sample_joins_the_last_batch(tiny):
    """65 samples in batches of 32: 32 then 33, never a batch of one (ASA faithful and BatchNorm need two)."""
    trainer = Trainer(tiny(train_samples=65, batch_size=32, asa="faithful", arch="conv", channels="4",
                           dataset="events-shape", hidden=""))
    assert trainer.batches_per_epoch == 2
    trainer.step()
    record = trainer.step().epoch_finished
    assert record is not None and record.steps == 2


def test_a_step_reports_the_cross_entropy_on_the_original_input_beside_its_objective(tiny):
    """Plain training minimises the cross-entropy itself; TRT adds its reversed-input terms to the objective, while
    ``cross_entropy`` stays the quantity both runs share (the live charts compare runs on it)."""
    plain = Trainer(tiny(TRAINING)).step()
    assert plain.cross_entropy == pytest.approx(plain.loss)
    conv = {**TRAINING, "dataset": "events-shape", "arch": "conv", "channels": "4", "hidden": "16", "T": "4",
            "train-samples": 48, "test-samples": 20, "batch-size": 16}
    base, trt = Trainer(tiny(conv)), Trainer(tiny(conv, trt="on"))
    first, with_terms = base.step(), trt.step()
    assert with_terms.loss > with_terms.cross_entropy + 1e-3                  # the extra terms are in the objective
    assert with_terms.cross_entropy == pytest.approx(first.cross_entropy, rel=1e-5)   # same weights, same batch
