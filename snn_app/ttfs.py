"""Glue for the TTFS page: the K sweep (cached runs, CIs per K) and one trained run at a chosen K, both as
background jobs (``snn_app.jobs``)."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping

import numpy as np
import streamlit as st

from snn_core.config.check import check, one_line
from snn_core.config.run_config import RunConfig
from snn_core.experiments.batch import DEFAULT_CACHE_DIR, RunCache
from snn_core.experiments.compare import sweep_configs, sweep_result
from snn_core.experiments.stats import mean_ci
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
PANELS = (                       # (metric, title, y title, percent?) of the trade-off figures
    ("test_accuracy", "Test accuracy", "test accuracy", True),
    ("spikes_per_sample", "Spikes per sample", "spikes per sample", False),
    ("decision_step_mean", "Decision step (first output spike)", "time step", False),
    ("no_decision_fraction", "No decision (no output spike)", "share of test samples", True))


def k_label(k: int) -> str:
    return "∞" if int(k) == 0 else str(int(k))


def load_into_sidebar(cfg: RunConfig) -> None:
    """Button callback: the sidebar's widgets (and the session config) take ``cfg``'s values."""
    sidebar.seed_widgets(cfg)
    st.session_state.config = cfg


def page_config(start: RunConfig, engine: str, epochs: int) -> RunConfig:
    """The page's base run: ``start`` (preset or sidebar) with the page's engine and epochs."""
    return start.with_values({"engine": engine, "epochs": epochs})


def engine_problem(cfg: RunConfig, k: int) -> str | None:
    """Why ``cfg`` cannot run with spike cap ``k`` (``check``'s problems on one line), or None."""
    problems = check(cfg.with_values({"max-spikes": k}))
    return one_line(problems) if problems else None


def sweep_values(cfg: RunConfig) -> tuple[list[int], dict[str, str]]:
    """The K values this engine can run, and for each one left out the reason."""
    problems = {k: engine_problem(cfg, k) for k in K_CHOICES}
    return [k for k, p in problems.items() if p is None], {k_label(k): p for k, p in problems.items() if p}


def sweep_job(cfg: RunConfig, values: list[int], seeds: int) -> Job:
    """The sweep of max-spikes over ``values`` on seeds 0.. as a background job on ``SWEEP_WORKERS`` processes, cached
    on disk (a repeat is free; a cancelled sweep resumes where it stopped)."""
    configs = sweep_configs(cfg, "max-spikes", [str(k) for k in values], range(seeds))
    return Job("K sweep", len(configs), batch_work(configs, workers=SWEEP_WORKERS, cache=RunCache(DEFAULT_CACHE_DIR)),
               {"cfg": cfg, "seeds": list(range(seeds)), "configs": configs, "key": (cfg.to_json(), seeds)})


def sweep_of(snap: Snapshot) -> dict:
    """``compare.sweep``'s result from the job's runs finished so far (each K lists its finished seeds)."""
    meta = snap.meta
    return sweep_result(meta["cfg"], "max-spikes", meta["seeds"], meta["configs"], snap.slots)


def _metrics(point: dict) -> list[dict]:
    return [run["metrics"] for run in point["runs"] if run["error"] is None]


def _stats(values: list) -> dict:
    return mean_ci([v for v in values if v is not None])


def tradeoff_panels(result: dict) -> list[tuple[str, str, bool, dict[str, dict]]]:
    """(title, y title, percent?, ``mean_ci`` per K) of each trade-off metric the runs report (a rate
    readout has no decision metrics), accuracy under the middle jitter level last."""
    panels = [(title, y_title, percent, per_k(result, lambda m, name=name: m.get(name)))
              for name, title, y_title, percent in PANELS]
    level = middle_level(result, "jitter")
    if level is not None:
        panels.append((f"Accuracy under jitter σ = {level} steps", "test accuracy", True,
                       robustness_at(result, "jitter", level)))
    return [panel for panel in panels if any(s["mean"] is not None for s in panel[3].values())]


def per_k(result: dict, extract: Callable[[dict], float | None]) -> dict[str, dict]:
    """K label -> ``mean_ci`` of ``extract(metrics)`` over the point's successful runs (None skipped)."""
    return {k_label(p["value"]): _stats([extract(m) for m in _metrics(p)]) for p in result["points"]}


def curve_per_k(result: dict, extract: Callable[[dict], list], labels: tuple[str, ...] | None = None
                ) -> dict[str, tuple[list[int], list[dict]]]:
    """K label -> (1-based index, ``mean_ci`` per index) of a per-run list such as ``accuracy_vs_tcut``."""
    curves = {}
    for point in result["points"]:
        label = k_label(point["value"])
        lists = [values for values in map(extract, _metrics(point)) if values]
        if (labels is None or label in labels) and lists:
            length = min(len(values) for values in lists)
            curves[label] = (list(range(1, length + 1)), [_stats([v[i] for v in lists]) for i in range(length)])
    return curves


def tcut_curves(result: dict) -> dict[str, tuple[list[int], list[dict]]]:
    """Accuracy vs t_cut for the sweep's two ends, K = 1 (TTFS) and its largest K (unlimited: ∞)."""
    ends = (k_label(result["points"][0]["value"]), k_label(result["points"][-1]["value"]))
    return curve_per_k(result, lambda m: m.get("accuracy_vs_tcut"), ends)


def epoch_curves(result: dict) -> dict[str, tuple[list[int], list[dict]]]:
    """K label -> (epoch, ``mean_ci`` of test accuracy after that epoch) over the seeds."""
    curves = {}
    for point in result["points"]:
        histories = [[r["test_accuracy"] for r in run["history"]] for run in point["runs"] if run["error"] is None]
        if histories:
            length = min(len(h) for h in histories)
            curves[k_label(point["value"])] = (list(range(1, length + 1)),
                                               [_stats([h[i] for h in histories]) for i in range(length)])
    return curves


def robustness_curves(result: dict) -> dict[str, dict[str, tuple[list[float], list[dict]]]]:
    """Noise kind -> K label -> (levels with 0 = clean first, ``mean_ci`` of accuracy at each level).

    Levels are read from the runs' ``robustness`` dicts (string keys); an empty dict when no run has one.
    """
    kinds: dict[str, dict] = {}
    for point in result["points"]:
        runs = [m for m in _metrics(point) if m.get("robustness")]
        for kind, by_level in (runs[0]["robustness"] if runs else {}).items():
            levels = sorted(by_level, key=float)
            stats = [_stats([m["test_accuracy"] for m in runs])]
            stats += [_stats([m["robustness"][kind][level] for m in runs]) for level in levels]
            kinds.setdefault(kind, {})[k_label(point["value"])] = ([0.0, *map(float, levels)], stats)
    return kinds


def robustness_at(result: dict, kind: str, level: str) -> dict[str, dict]:
    return per_k(result, lambda m: (m.get("robustness") or {}).get(kind, {}).get(level))


def middle_level(result: dict, kind: str) -> str | None:
    """The middle noise level of ``kind`` that the runs measured (the trade-off figure shows one level)."""
    for point in result["points"]:
        for metrics in _metrics(point):
            levels = sorted((metrics.get("robustness") or {}).get(kind, {}), key=float)
            if levels:
                return levels[len(levels) // 2]
    return None


def silent_per_k(result: dict) -> dict[str, dict[str, dict]]:
    """K label -> layer -> ``mean_ci`` of the share of neurons silent on the whole test set."""
    table = {}
    for point in result["points"]:
        runs = _metrics(point)
        if runs:
            layers = runs[0]["layer_silent_fraction"]
            table[k_label(point["value"])] = {layer: _stats([m["layer_silent_fraction"][layer] for m in runs])
                                              for layer in layers}
    return table


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
