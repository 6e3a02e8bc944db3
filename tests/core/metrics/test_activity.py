"""Firing-rate metrics against a hand-counted spike pattern; metrics sit below training in the import order."""
import subprocess
import sys

import pytest
import torch

from snn_core.metrics.activity import SpikeTally


def test_firing_rates_nasfr_and_silent_neurons_match_hand_counts():
    # layer a: T=2, 2 samples, 2 neurons; layer b: 4 neurons (2x2 map)
    a = torch.tensor([[[1, 0], [1, 0]], [[0, 0], [1, 0]]], dtype=torch.float)   # (T, B, N)
    b = torch.zeros(2, 2, 1, 2, 2)
    b[0, 0, 0, 0, 0] = 1
    tally = SpikeTally(["a", "b"])
    tally.add((a[:, :1], b[:, :1]))        # two batches of one sample each
    tally.add((a[:, 1:], b[:, 1:]))
    m = tally.summary()
    assert m.samples == 2 and m.time_steps == 2 and m.neurons == {"a": 2, "b": 4}
    assert m.firing_rate_per_step["a"] == [0.5, 0.25]          # 2/(2*2), 1/(2*2)
    assert m.firing_rate["a"] == pytest.approx(0.375)
    assert m.firing_rate_per_step["b"] == [0.125, 0.0]
    assert m.nasfr == pytest.approx(4 / (2 * 2 * 6))           # total spikes / (T M sum N)
    assert m.spikes_per_sample == {"a": 1.5, "b": 0.5}
    assert m.total_spikes_per_sample == 2.0
    assert m.silent_fraction == {"a": 0.5, "b": 0.75}
    assert m.total_silent_fraction == pytest.approx(4 / 6)


def test_summary_without_batches_is_an_error():
    with pytest.raises(ValueError, match="at least one evaluated sample"):
        SpikeTally(["a"]).summary()


def test_metrics_import_nothing_from_training_or_above():
    code = ("import pkgutil, sys, snn_core.metrics\n"
            "for m in pkgutil.iter_modules(snn_core.metrics.__path__): __import__('snn_core.metrics.' + m.name)\n"
            "above = ('snn_core.training', 'snn_core.experiments', 'snn_core.report')\n"
            "print(sorted(m for m in sys.modules if m.startswith(above)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
