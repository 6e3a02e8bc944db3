"""Glue for the TTFS page: the K sweep (cached runs; its statistics per K come from
``snn_core.experiments.ttfs_sweep``) and one trained run at a chosen K, both as background jobs (``snn_app.jobs``)."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np
import streamlit as st

from snn_core.config.check import check, one_line
from snn_core.config.run_config import RunConfig
from snn_core.experiments.batch import RunCache, default_cache_dir
from snn_core.experiments.compare import sweep_configs, sweep_result
from snn_core.experiments.ttfs_sweep import JITTER, PARAMETER, KSweepStats, k_label, k_sweep_stats, robustness_column
from snn_core.results import MeanCI, Sweep
from snn_core.training.evaluate import sample_inputs
from snn_core.training.trainer import Trainer

from . import sidebar
from .jobs import Job, Snapshot, batch_work, train_steps

K_CHOICES = (1, 2, 3, 5, 0)      # 0 = unlimited: the relaxed end of the axis
SWEEP_JOB, SINGLE_JOB = "ttfs-sweep", "ttfs-single"     # the page's job names in the session
SWEEP_WORKERS = 2                # processes, one torch thread each
TRACED_SAMPLES = 16              # test samples the single run can show
KEPT_RUNS = 6                    # trained single runs kept per session
INPUT = "input"                  # the raster of the encoded input (not capped by K)
PRESET_NOTES = {                 # engine -> where its preset's settings come from (methods.ttfs.presets)
    "discrete": "The discrete preset (T 32, 128 hidden, τ_s 8, τ_loss 4, lr 0.01, V_th 1) was chosen on validation "
                "accuracy so that K = 1 and K = ∞ both train well.",
    "exact": "The exact preset uses Fast & Deep's loss settings (Göltz et al.): τ_loss = 0.2 τ_s = 0.8 steps, their "
             "first-spike regulariser α = 0.005, lr 0.003 and V_th 0.5, on a smaller network (T 16 with the pixels in "
             "the first 8 steps, τ_s 4, 64 hidden neurons). The reproduction report tunes it further on validation.",
}
PANELS = {                       # results_table column -> (title, y title, percent?) of its trade-off figure
    "test_accuracy": ("Test accuracy", "test accuracy", True),
    "spikes_per_sample": ("Spikes per sample", "spikes per sample", False),
    "decision_step_mean": ("Decision step (first output spike)", "time step", False),
    "no_decision_fraction": ("No decision (no output spike)", "share of test samples", True)}


def load_into_sidebar(cfg: RunConfig) -> None:
    """Button callback: the sidebar's widgets (and the session config) take ``cfg``'s values."""
    sidebar.seed_widgets(cfg)
    st.session_state.config = cfg


def page_config(start: RunConfig, engine: str, epochs: int) -> RunConfig:
    """The page's base run: ``start`` (preset or sidebar) with the page's engine and epochs."""
    return start.with_values({"engine": engine, "epochs": epochs})


def engine_problem(cfg: RunConfig, k: int) -> str | None:
    """Why ``cfg`` cannot run with spike cap ``k`` (``check``'s problems on one line), or None."""
    problems = check(cfg.with_values({PARAMETER: k}))
    return one_line(problems) if problems else None


def sweep_values(cfg: RunConfig) -> tuple[list[int], dict[str, str]]:
    """The K values this engine can run, and for each one left out the reason."""
    problems = {k: engine_problem(cfg, k) for k in K_CHOICES}
    return [k for k, p in problems.items() if p is None], {k_label(k): p for k, p in problems.items() if p}


def sweep_job(cfg: RunConfig, values: list[int], seeds: int) -> Job:
    """The sweep of max-spikes over ``values`` on seeds 0.. as a background job on ``SWEEP_WORKERS`` processes, cached
    on disk (a repeat is free; a cancelled sweep resumes where it stopped)."""
    configs = sweep_configs(cfg, PARAMETER, [str(k) for k in values], range(seeds))
    return Job("K sweep", len(configs), batch_work(configs, workers=SWEEP_WORKERS, cache=RunCache(default_cache_dir())),
               {"cfg": cfg, "seeds": list(range(seeds)), "configs": configs, "key": (cfg.to_json(), seeds)})


def sweep_of(snap: Snapshot) -> Sweep:
    """The sweep of the job's runs finished so far (each K lists its finished seeds)."""
    meta = snap.meta
    return sweep_result(meta["cfg"], PARAMETER, meta["seeds"], meta["configs"], snap.slots)


def sweep_stats(sweep: Sweep) -> KSweepStats:
    """What the page draws of ``sweep``: its statistics per K, with ``PANELS``' metrics as the trade-off."""
    return k_sweep_stats(sweep, tuple(PANELS))


def tradeoff_panels(stats: KSweepStats) -> list[tuple[str, str, bool, dict[str, MeanCI]]]:
    """(title, y title, percent?, ``MeanCI`` per K) of each trade-off metric the runs report (a rate readout has
    no decision metrics), accuracy under the middle jitter level last."""
    titles = dict(PANELS)
    if stats.jitter_level is not None:
        titles[robustness_column(JITTER, stats.jitter_level)] = (
            f"Accuracy under jitter σ = {stats.jitter_level} steps", "test accuracy", True)
    return [(*titles[column], per_k) for column, per_k in stats.tradeoff.items()]


def single_job(cfg: RunConfig) -> Job:
    """One run of ``cfg`` trained to the end as a background job (its value: the ``Trainer``)."""
    label = f"Run at K = {k_label(cfg.neuron.max_spikes)}"
    return Job(label, 1, lambda control: train_steps(control, cfg, label), {"cfg": cfg})


def keep_run(cfg: RunConfig, trainer: Trainer) -> None:
    """Keep a trained run per session (the last few), so returning to a K is instant."""
    runs = st.session_state.setdefault("ttfs_runs", OrderedDict())
    runs[cfg] = trainer
    runs.move_to_end(cfg)
    while len(runs) > KEPT_RUNS:
        runs.popitem(last=False)


def kept_run(cfg: RunConfig) -> Trainer | None:
    return st.session_state.get("ttfs_runs", {}).get(cfg)


def sample_rasters(trainer: Trainer, sample: int) -> dict[str, tuple[np.ndarray, list[str] | None]]:
    """Layer name -> (spikes ``[T, N]`` of test sample ``sample``, neuron labels), the encoded input first."""
    trace = trainer.trace_samples([sample])
    inputs = sample_inputs(trainer, [sample])                                       # (T, 1, C, H, W)
    rasters = {INPUT: (inputs[:, 0].flatten(1).bool().cpu().numpy(), None)}
    for layer in trace.trace.layers:
        labels = list(trainer.dataset.class_names) if layer.name == "out" else None
        rasters[layer.name] = (layer.spikes[:, 0].flatten(1).cpu().numpy(), labels)   # (T, N)
    return rasters


def max_spike_count(rasters: Mapping[str, tuple[np.ndarray, list | None]]) -> int:
    """The largest number of spikes any neuron of any spiking layer fired (the input is not capped)."""
    return max(int(spikes.sum(0).max()) for name, (spikes, _) in rasters.items() if name != INPUT)
