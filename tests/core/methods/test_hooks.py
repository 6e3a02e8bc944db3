"""Method hooks: how a step's loss is put together, the registry's order, the trainer calling them."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from snn_core.methods.catalogue import METHODS
from snn_core.methods.hooks import BatchLoss, MethodHook, batch_loss
from snn_core.methods.registry import build_hooks, build_model
from snn_core.methods.trt.branches import TrtHook
from snn_core.methods.ttfs.regulariser import FirstSpikeRegulariser
from snn_core.training.trainer import Trainer

SMALL = {"test-samples": 20, "hidden": "8,6", "batch-size": 32}     # changes from the tiny base


class Adds(MethodHook):
    """Adds a constant to the loss and records what it was shown after each step."""

    def __init__(self, value: float):
        super().__init__()
        self.value, self.seen = value, []

    def extra_loss(self, out, y):
        return torch.tensor(self.value)

    def after_step(self, model, out, y):
        self.seen.append(out.logits.shape)


class Runs(MethodHook):
    """Runs the network its own way: a loss of 7, a logged term."""

    def run(self, model, x, y):
        out = model(x)
        return BatchLoss(out, torch.tensor(7.0), {"seven": torch.tensor(7.0)})


def _batch(cfg):
    model = build_model(cfg, (64,), 10)
    return model, torch.rand(3, 4, 64), torch.tensor([0, 1, 2, 3])


def test_without_hooks_the_loss_is_cross_entropy_and_nothing_is_logged(tiny):
    model, x, y = _batch(tiny(SMALL))
    step = batch_loss([], model.eval(), x, y)
    assert torch.equal(step.loss, F.cross_entropy(model(x).logits, y)) and step.terms == {}


def test_extra_terms_add_up_and_the_first_own_run_wins(tiny):
    model, x, y = _batch(tiny(SMALL))
    plain = batch_loss([], model.eval(), x, y).loss.item()
    assert batch_loss([Adds(1.0), Adds(0.5)], model, x, y).loss.item() == pytest.approx(plain + 1.5)
    step = batch_loss([Adds(1.0), Runs(), Runs()], model, x, y)
    assert step.loss.item() == 8.0 and set(step.terms) == {"seven"}


def test_a_trainer_step_adds_the_hooks_terms_and_shows_them_its_output(tiny):
    plain, hooked = (Trainer(tiny(SMALL), device="cpu") for _ in range(2))
    assert len(hooked.hooks) == 0
    hook = Adds(2.0)
    hooked.hooks.append(hook)
    assert hooked.step().loss == pytest.approx(plain.step().loss + 2.0)     # same seed, same batch
    assert hook.seen == [(32, 10)]                                          # the step's output, after the step


def test_the_registry_builds_the_hooks_a_config_switches_on_in_order(tiny):
    assert [factory.__qualname__ for method in METHODS for factory in method.hooks] == [
        "hook", "regulariser_hook", "weight_bump_hook"]                                  # TRT's, then TTFS's two
    cfg = tiny(SMALL, {"trt": "on", "readout": "first-spike", "first-spike-reg": 0.1})
    trainer = Trainer(cfg, device="cpu")
    assert [type(hook) for hook in trainer.hooks] == [TrtHook, FirstSpikeRegulariser]
    optimised = [p for group in trainer.optimizer.param_groups for p in group["params"]]
    assert optimised == [*trainer.model.parameters(), *trainer.hooks[0].head.parameters()]
    assert build_hooks(tiny(SMALL), trainer.model, trainer.dataset) == []
