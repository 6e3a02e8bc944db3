"""Decision metrics (snn_core.metrics.decisions) against a hand-counted case."""
from __future__ import annotations

import pytest
import torch

from snn_core.metrics.decisions import DecisionTally


def test_decision_tally_by_hand():
    spikes = torch.zeros(3, 3, 2)                                 # (T, B, C), labels 0, 1, 0
    spikes[0, 0, 0] = 1                                           # decides at 0, right
    spikes[2, 1, 0] = 1                                           # decides at 2, wrong
    tally = DecisionTally()                                       # sample 2 never decides
    tally.add(spikes, torch.zeros(3, 3, 2), torch.tensor([0, 1, 0]))
    summary = tally.summary()
    assert summary.decision_step_mean == 1.0 and summary.decision_step_median == 1.0
    assert summary.no_decision_fraction == pytest.approx(1 / 3)
    assert summary.accuracy_vs_tcut == pytest.approx([1 / 3, 1 / 3, 1 / 3])
