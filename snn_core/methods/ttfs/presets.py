"""Named starting points, as CLI-name values for ``RunConfig().with_values``.

``TTFS_PRESET`` is the TTFS-versus-relaxed setting of shared/papers/ttfs.md §5.1 (digits, latency code,
current-based LIF with tau_m = 2 tau_s, first-spike readout), tuned so that both K = 1 (TTFS) and
K = 0 (unlimited, the relaxed network) train to about 94-96% in about 8 s each on one core. The
spike cap K (``max-spikes``) is left at the TTFS value; the comparison changes only it.

How they were chosen: first by hand, from the pilot of ttfs.md §5.1 and a few trial runs whose *test*
accuracy was read (before there was a validation split); then checked on validation accuracy only by
``python -m snn_core.experiments.ttfs_preset_search`` (a grid of tau-syn 4/8 x latency-window 16/32 x
lr 3e-3/1e-2, both arms K = 1 and unlimited on tuning seed 100, the point whose worse arm validates best).
That search (2026-11-27, 144 validation images) kept tau-syn 8 and latency-window 16 and moved lr from 3e-3
(K = 1 94.4%, unlimited 94.4%) to 1e-2 (95.1%, 97.2%); the gap is one to four validation images, so the
choice is weak, but it is made on validation, not test. The exact engine's claim table tunes its own arms
the same way (``report.ttfs_exact``).

Why these values:
- latency-window 16 of T = 32: pixels spike in the first 16 steps (bright = early), leaving 16 silent
  steps for the network to answer. Spreading the spikes over all 32 steps put the dim pixels' spikes
  after most decisions and cost about 3 points of accuracy.
- tau-syn 8 (tau_m = 16): a synaptic current lasting about half the input window; tau_s = 2 made
  both variants decide after ~4 steps at ~89% (ttfs.md §5.1).
- tau-loss 4 as in the pilot of ttfs.md §5.1; hidden 128 as there (64-128-10); lr 1e-2 from the search above
  (the pilot's 3e-3 validated slightly worse for both arms).
"""
from __future__ import annotations

from ...config.run_config import RunConfig

TTFS_PRESET = {
    "dataset": "digits",
    "encoding": "latency",
    "T": 32,
    "latency-window": 16,
    "arch": "mlp",
    "hidden": "128",
    "readout": "first-spike",
    "tau-loss": 4.0,
    "neuron": "cuba",
    "tau-syn": 8.0,
    "threshold": 1.0,
    "max-spikes": 1,
    "epochs": 10,
    "batch-size": 64,
    "lr": 1e-2,
    "lr-schedule": "cosine",
    "target-accuracy": 0.9,
}


def ttfs_config(**changes) -> RunConfig:
    """The TTFS preset as a config, with CLI-name ``changes`` on top (``ttfs_config(**{"max-spikes": 0})``)."""
    return RunConfig().with_values({**TTFS_PRESET, **changes})
