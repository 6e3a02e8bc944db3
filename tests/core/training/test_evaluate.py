"""The evaluation batches (snn_core.training.evaluate): order, coverage and the encoding generator's stream."""
import pytest
import torch

from snn_core.training.evaluate import EVAL_BATCH, encoding_generator, eval_batches
from snn_core.training.trainer import Trainer

TRAINING = {"epochs": 2, "train-samples": 200, "test-samples": 60, "hidden": 32}   # changes from the tiny base


def test_eval_batches_cover_a_split_in_order_as_the_network_sees_it(tiny):
    trainer = Trainer(tiny(TRAINING, **{"test-samples": "300"}))
    batches = list(eval_batches(trainer))
    assert [b.start for b in batches] == [0, EVAL_BATCH]
    assert [tuple(b.inputs.shape) for b in batches] == [(3, EVAL_BATCH, 1, 8, 8), (3, 300 - EVAL_BATCH, 1, 8, 8)]
    assert torch.equal(torch.cat([b.labels for b in batches]), trainer.dataset.test_y)
    with pytest.raises(ValueError, match="split='val' is not known; allowed: test, train"):
        next(eval_batches(trainer, "val"))


def test_poisson_passes_repeat_and_a_shared_generator_continues_its_stream(tiny):
    trainer = Trainer(tiny(TRAINING, encoding="poisson"))
    first, again = next(eval_batches(trainer)), next(eval_batches(trainer))
    assert torch.equal(first.inputs, again.inputs)                 # every test pass sees the same spikes
    rng = encoding_generator(trainer.cfg.training.seed)
    list(eval_batches(trainer, "test", rng))
    continued, fresh = next(eval_batches(trainer, "train", rng)), next(eval_batches(trainer, "train"))
    assert not torch.equal(continued.inputs, fresh.inputs)        # generalisation: train after test, one stream


def test_a_single_leftover_sample_joins_the_last_batch_in_evaluation_too(tiny):
    """257 test clips: one batch of 257 rather than 256 + 1, so faithful ASA's batch-pooled masks can evaluate."""
    from snn_core.training.evaluate import batch_bounds, eval_batches
    from snn_core.training.trainer import Trainer

    assert batch_bounds(257, 256) == [(0, 257)] and batch_bounds(513, 256) == [(0, 256), (256, 513)]
    assert batch_bounds(1, 256) == [(0, 1)] and batch_bounds(512, 256) == [(0, 256), (256, 512)]
    trainer = Trainer(tiny(dataset="events-shape", arch="conv", channels="4", hidden="", asa="faithful",
                           train_samples=20, test_samples=257, batch_size=256))   # faithful: eval batch = training's
    assert [len(batch.labels) for batch in eval_batches(trainer)] == [257]
    trainer.fit()
    assert trainer.history[-1].test_accuracy >= 0.0
