"""Models, recording and the trainer: shapes, determinism, learning, and an untouched global RNG."""
import pytest
import torch

from snn_core.config.run_config import RunConfig
from snn_core.data import load_dataset
from snn_core.methods.registry import build_model
from snn_core.training.evaluate import EVAL_BATCH, encoding_generator, eval_batches
from snn_core.training.trainer import Trainer

TINY = {"T": "3", "epochs": "2", "train-samples": "200", "test-samples": "60", "hidden": "32"}


def tiny(**extra):
    return RunConfig().with_values({**TINY, **extra})


def test_digits_split_is_stratified_deterministic_and_scaled():
    data = load_dataset(tiny(**{"train-samples": "1437", "test-samples": "360"}).data)
    assert data.train_x.shape == (1437, 1, 8, 8) and data.test_x.shape == (360, 1, 8, 8)
    assert 0.0 <= float(data.train_x.min()) and float(data.train_x.max()) == 1.0
    counts = torch.bincount(data.test_y, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    other = load_dataset(tiny(**{"data-seed": "1", "train-samples": "1437", "test-samples": "360"}).data)
    assert not torch.equal(data.test_y, other.test_y)


@pytest.mark.parametrize("arch,names", [("mlp", ["fc1"]), ("conv", ["conv1", "conv2", "fc1"])])
def test_forward_shapes_and_recording(arch, names):
    cfg = tiny(arch=arch, channels="4,8")
    model = build_model(cfg, (1, 8, 8), 10)
    x = torch.rand(3, 5, 1, 8, 8)                                  # (T, B, C, H, W)
    out = model(x)
    assert out.logits.shape == (5, 10) and out.trace is None
    assert [s.shape[:2] for s in out.spikes] == [(3, 5)] * len(names)
    traced = model(x, record=torch.tensor([1, 3]))
    assert [layer.name for layer in traced.trace.layers] == names
    first = traced.trace.layers[0]
    assert first.spikes.dtype == torch.bool and first.spikes.shape[:2] == (3, 2)
    assert first.v_pre.shape == first.v_post.shape == first.current.shape == first.spikes.shape
    assert torch.equal(first.spikes, traced.spikes[0][:, [1, 3]].bool())
    assert traced.trace.logits.shape == (3, 2, 10)


def test_conv_layers_pool_wide_inputs_before_convolving():
    model = build_model(tiny(arch="conv", channels="4,8", hidden=""), (2, 32, 32), 4)
    spikes = model(torch.rand(2, 1, 2, 32, 32)).spikes
    assert [tuple(s.shape[2:]) for s in spikes] == [(4, 16, 16), (8, 8, 8)]


def test_same_seed_same_run_different_seed_different_run():
    a, b, c = Trainer(tiny()), Trainer(tiny()), Trainer(tiny(seed="1"))
    losses = [[t.step().loss for _ in range(4)] for t in (a, b, c)]
    assert losses[0] == losses[1]
    assert losses[0] != losses[2]
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))


def test_training_does_not_touch_the_global_rng():
    state = torch.get_rng_state()
    trainer = Trainer(tiny(encoding="poisson"))
    trainer.step()
    assert torch.equal(state, torch.get_rng_state())


def test_loss_falls_and_epochs_are_recorded():
    trainer = Trainer(tiny(epochs="3", T="4", lr="0.01", **{"train-samples": "400"}))
    first = trainer.step().loss
    history = trainer.fit()
    assert [r.epoch for r in history] == [1, 2, 3] and trainer.finished
    assert history[-1].train_loss < first
    assert history[-1].test_accuracy > 0.5                          # 10 classes: chance is 0.1
    assert history[-1].steps == 3 * trainer.batches_per_epoch


def test_evaluate_traces_requested_samples_across_batches():
    trainer = Trainer(tiny(**{"test-samples": "300"}))
    evaluation = trainer.evaluate(record=[2, 299])                 # in two different eval batches
    assert evaluation.trace.layers[0].spikes.shape[1] == 2
    assert evaluation.activity.samples == 300 and len(evaluation.predictions) == 300
    with pytest.raises(ValueError, match="allowed: test indices 0..299"):
        trainer.evaluate(record=[300])


def test_eval_batches_cover_a_split_in_order_as_the_network_sees_it():
    trainer = Trainer(tiny(**{"test-samples": "300"}))
    batches = list(eval_batches(trainer))
    assert [b.start for b in batches] == [0, EVAL_BATCH]
    assert [tuple(b.inputs.shape) for b in batches] == [(3, EVAL_BATCH, 1, 8, 8), (3, 300 - EVAL_BATCH, 1, 8, 8)]
    assert torch.equal(torch.cat([b.labels for b in batches]), trainer.dataset.test_y)
    with pytest.raises(ValueError, match="split='val' is not known; allowed: test, train"):
        next(eval_batches(trainer, "val"))


def test_poisson_passes_repeat_and_a_shared_generator_continues_its_stream():
    trainer = Trainer(tiny(encoding="poisson"))
    first, again = next(eval_batches(trainer)), next(eval_batches(trainer))
    assert torch.equal(first.inputs, again.inputs)                 # every test pass sees the same spikes
    rng = encoding_generator(trainer.cfg.training.seed)
    list(eval_batches(trainer, "test", rng))
    continued, fresh = next(eval_batches(trainer, "train", rng)), next(eval_batches(trainer, "train"))
    assert not torch.equal(continued.inputs, fresh.inputs)        # generalisation: train after test, one stream


def test_mlp_without_hidden_layers_is_rejected():
    with pytest.raises(ValueError, match="at least one hidden layer"):
        Trainer(tiny(hidden=""))


@pytest.mark.parametrize("dataset,classes", [("events-shape", 5), ("events-direction", 4)])
def test_event_datasets_train_a_conv_net_end_to_end(dataset, classes):
    cfg = tiny(dataset=dataset, arch="conv", channels="4", T="4", **{"train-samples": "40", "test-samples": "20"})
    trainer = Trainer(cfg)
    assert trainer.dataset.frame_shape == (2, 32, 32) and trainer.dataset.n_classes == classes
    assert trainer.dataset.train_x.dtype == torch.uint8
    result = trainer.step()
    assert result.loss > 0
    evaluation = trainer.evaluate(record=[0])
    assert evaluation.trace.layers[0].spikes.shape == (4, 1, 4, 16, 16)


@pytest.mark.parametrize("schedule,last_factor", [("cosine", 0.0), ("constant", 1.0)])
def test_learning_rate_schedule(schedule, last_factor):
    trainer = Trainer(tiny(**{"lr-schedule": schedule, "lr": "0.01"}))
    trainer.fit()
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.01 * last_factor, abs=1e-9)
    halfway = trainer.batches_per_epoch * trainer.cfg.training.epochs / 2
    assert trainer._lr_factor(int(halfway)) == pytest.approx(0.5 if schedule == "cosine" else 1.0, abs=0.05)


def test_trace_samples_equals_what_a_full_evaluation_records():
    trainer = Trainer(tiny(arch="conv", channels="4"))
    trainer.run_epoch()
    full = trainer.evaluate(record=[5, 17])
    few = trainer.trace_samples([5, 17])
    assert few.predictions == tuple(full.predictions[[5, 17]].tolist())
    assert few.labels == tuple(trainer.dataset.test_y[[5, 17]].tolist())
    for a, b in zip(full.trace.layers, few.trace.layers):
        assert torch.equal(a.spikes, b.spikes) and torch.allclose(a.v_pre, b.v_pre, atol=1e-5)
    with pytest.raises(ValueError, match="allowed: 1 or more test indices 0..59"):
        trainer.trace_samples([60])
