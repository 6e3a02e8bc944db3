"""The Fast & Deep first-spike regulariser: a hand value, and its effect on a training step."""
from __future__ import annotations

import math

import pytest
import torch

from snn_core.config.check import require_valid
from snn_core.config.run_config import RunConfig
from snn_core.methods.ttfs.regulariser import first_spike_regulariser
from snn_core.training.trainer import Trainer


def test_fast_and_deep_regulariser_hand_value_and_effect_on_training():
    logits = torch.tensor([[-1.0, -2.0], [-0.5, -3.0]])          # -t_first / tau_loss with tau_loss = 2
    labels = torch.tensor([1, 0])                                 # t_label = 4 and 1
    expected = 0.01 * (math.exp(4 / 2) + math.exp(1 / 2)) / 2     # alpha mean exp(t_label / tau_syn), tau_syn = 2
    assert float(first_spike_regulariser(logits, labels, 2.0, 2.0, 0.01)) == pytest.approx(expected)
    assert float(first_spike_regulariser(logits, labels, 2.0, 2.0, 0.0)) == 0.0
    tiny = {"encoding": "latency", "neuron": "cuba", "readout": "first-spike", "T": 6, "hidden": "8",
            "train-samples": 64, "test-samples": 20, "threshold": 0.3}
    plain = Trainer(RunConfig().with_values(tiny), device="cpu")
    regularised = Trainer(RunConfig().with_values({**tiny, "first-spike-reg": 0.5}), device="cpu")
    assert plain.step().loss < regularised.step().loss               # same seed and batch: only the term differs
    with pytest.raises(ValueError, match=r"first_spike_reg \(--first-spike-reg\)=0.5 needs first-spike times, "
                                         r"but readout='rate'; allowed: --readout first-spike, or 0"):
        require_valid(RunConfig().with_values({"first-spike-reg": 0.5}))
