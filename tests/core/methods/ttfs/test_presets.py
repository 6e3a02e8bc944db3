"""The TTFS presets: one per engine, the exact one with Fast & Deep's loss settings, each a config that runs."""
from __future__ import annotations

import pytest

from snn_core.config.check import check
from snn_core.methods.ttfs.presets import FAST_AND_DEEP, PRESETS, exact_config, preset_for, ttfs_config


def test_every_engine_preset_passes_the_config_check_at_k_one():
    for engine in PRESETS:
        cfg = preset_for(engine)
        assert check(cfg) == [] and cfg.neuron.max_spikes == 1 and cfg.model.engine == engine
    assert preset_for("discrete") == ttfs_config() and preset_for("exact") == exact_config()


def test_the_exact_preset_uses_fast_and_deeps_loss_settings():
    cfg = exact_config()
    assert FAST_AND_DEEP == {"tau-loss": 0.8, "first-spike-reg": 0.005, "lr": 3e-3, "threshold": 0.5}
    assert (cfg.model.tau_loss, cfg.model.first_spike_reg, cfg.training.lr, cfg.neuron.threshold) == \
        (0.8, 0.005, 3e-3, 0.5)
    assert cfg.model.tau_loss == pytest.approx(0.2 * cfg.neuron.tau_syn)          # Fast & Deep: tau_loss = 0.2 tau_s
    assert cfg.model.readout == "first-spike" and (cfg.data.time_steps, cfg.data.latency_window) == (16, 8)


def test_an_engine_without_a_preset_is_refused_by_name():
    with pytest.raises(ValueError, match="engine='fused' has no TTFS preset; allowed: discrete, exact"):
        preset_for("fused")
