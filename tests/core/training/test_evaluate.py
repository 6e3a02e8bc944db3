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
