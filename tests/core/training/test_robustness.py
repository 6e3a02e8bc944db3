"""Robustness of a trained network (snn_core.training.robustness): every kind and level, repeatable, clean
accuracy reused."""
import pytest
import torch

from snn_core.config.run_config import RunConfig
from snn_core.metrics.robustness import (
    LEVELS,
    deletion,
)
from snn_core.training.evaluate import accuracy
from snn_core.training.robustness import robustness
from snn_core.training.trainer import Trainer


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def trained():
    cfg = RunConfig().with_values({"encoding": "latency", "T": 8, "latency-window": 6, "hidden": "32",
                                   "neuron": "cuba", "tau-syn": 2, "threshold": 0.5, "lr": 0.01, "batch-size": 16,
                                   "epochs": 2, "train-samples": 300, "test-samples": 60})
    trainer = Trainer(cfg, device="cpu")
    trainer.fit()
    return trainer


def test_robustness_reports_every_kind_and_level_and_repeats_exactly(trained):
    result = robustness(trained)
    assert list(result) == list(LEVELS)
    assert list(result["jitter"]) == ["0", "1", "2", "4"] and list(result["deletion"]) == ["0", "0.1", "0.3"]
    assert list(result["weight_noise"]) == ["0", "0.1", "0.2"]
    assert {curve["0"] for curve in result.values()} == {trained.evaluate().accuracy}
    assert result == robustness(trained)                                        # fixed noise seed
    before = [p.detach().clone() for p in trained.model.parameters()]
    robustness(trained, {"weight_noise": (0.5,)})
    assert all(torch.equal(p, b) for p, b in zip(trained.model.parameters(), before))


def test_total_deletion_leaves_a_latency_net_at_chance_or_worse(trained):
    silenced = accuracy(trained, lambda frames: deletion(frames, 1.0, gen()))
    assert silenced <= 0.2 < trained.evaluate().accuracy
    with pytest.raises(ValueError, match="robustness kinds \\['dropout'\\] are not known"):
        robustness(trained, {"dropout": (0.1,)})


def test_clean_accuracy_reuses_the_latest_evaluation_only_while_the_weights_are_unchanged():
    cfg = RunConfig().with_values({"encoding": "latency", "T": 4, "hidden": "8", "epochs": 2,
                                   "train-samples": 64, "test-samples": 30, "batch-size": 16})
    trainer = Trainer(cfg, device="cpu")
    trainer.run_epoch()
    assert trainer.evaluated_weights_current
    assert robustness(trainer, {"deletion": (0.5,)})["deletion"]["0"] == trainer.last_evaluation.accuracy
    trainer.step()                                                       # weights moved since that evaluation
    assert not trainer.evaluated_weights_current
    assert robustness(trainer, {"deletion": (0.5,)})["deletion"]["0"] == accuracy(trainer)
