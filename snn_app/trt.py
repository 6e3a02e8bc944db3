"""Glue for the Temporal reversal (TRT) page: one sample run both ways, and the preset TRT-versus-baseline runs.

The presets are the experiments of ``snn_core.experiments.trt_table`` with a page name: each sets the dataset
and T on top of the reproduction report's network and training (or the sidebar's), and pairs a baseline
(``trt = off``) with TRT (``trt = on``) on the same seeds. TRT costs about two passes a step, so the baseline trains
twice the epochs (compute-matched) in every preset but one, labelled "equal epochs, not compute-matched". One
preset is a control: a random time permutation instead of the reversal ("does any perturbation help?"). Three
are per-term ablations (one of TRT's added loss terms kept, the others off). Last, the factorial study
(``snn_core.experiments.trt_sign``): how large TRT's effect is against a compute-matched baseline over network,
BatchNorm statistics and epochs, each cell with its Holm-adjusted p, on the report's seeds and its run cache.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

from snn_core.config.check import require_valid
from snn_core.config.run_config import RunConfig, parse_assignments
from snn_core.experiments import trt_sign, trt_table
from snn_core.experiments.batch import RunCache, default_cache_dir
from snn_core.experiments.compare import compare_configs, compare_result
from snn_core.experiments.trt_table import EXPERIMENTS, report_network
from snn_core.methods.trt.branches import branches, cut_spikes, perturb_time
from snn_core.report.verdict import holm_family, verdict
from snn_core.results import Comparison
from snn_core.training.evaluate import sample_inputs
from snn_core.training.trainer import Trainer
from snn_viz import trt_figures as figs

from .downloads import comparison_rows
from .jobs import Job, Snapshot, batch_work, train_steps
from .training import describe

TRAIN_SAMPLES = 400          # small enough that the baseline overfits: where the pilot saw TRT help
SETTINGS = {"report": "the reproduction report's", "sidebar": f"the sidebar's, with {TRAIN_SAMPLES} training samples"}
WAYS = ("original", "reversed")
PRESETS = {experiment.page_name: experiment for experiment in EXPERIMENTS if experiment.page_name}
DEFAULT_EXPERIMENTS = ("events-shape, T = 4",)
EXPERIMENTS_JOB, DEMO_JOB, SIGN_JOB = "trt-experiments", "trt-demo", "trt-sign"   # the page's job names
INTRO = (                 # the page's opening paragraph
    "**TRT** (Zuo et al. 2024) is a training-only regulariser. Every training batch also runs with its **time axis "
    "reversed**, and the loss pulls the two outputs together. Event clips are reversed at the input. A static "
    "image repeats the same frame at every step, so reversing it would change nothing; there the first spiking "
    "layer's spike train is reversed and layers 2..L run on it. A **star head** classifies the element-wise "
    "product of the two branches' firing rates. **Inference is unchanged**: the test set runs the original path "
    "and the main readout only, so any gain costs no time at test. Training costs about two passes a step.")
DIRECTION_TRAP = (
    "TRT teaches the network that a clip and its reversal mean the same thing. That holds for **what** "
    "moves (a shape stays a square backwards), but not for **how** it moves. Played backwards, a left-moving "
    "clip is a right-moving one, so on `events-direction` TRT asks for the label *left* on what is really a "
    "*right* clip. DVS Gesture has the same trap: its clockwise and counter-clockwise arm-rotation classes "
    "are each other's time reversal.\n\n"
    "A catch, measured in docs/REPRODUCTION.md: the paper's reversal flips the frames but keeps each event's "
    "polarity, and a true playback would also swap ON and OFF (a brightness increase seen backwards is a "
    "decrease). A moving edge's ON/OFF layout therefore still shows its direction after the flip, and the "
    "network can agree both ways and still be right. The experiment *events-direction, playback* "
    "(`--trt-perturbation playback`) plays the clips really backwards.")   # the page's note on ``reversed_label``
TERM_LABELS = {"ce": "CE (original)", "ce_perturbed": "CE (perturbed branch)", "kl": "τ² KL consistency",
               "star": "star head CE", "total": "total (weighted)"}


def _two_layers(cfg: RunConfig) -> RunConfig:
    """An MLP with one hidden layer gets a second of the same size: on static data TRT reverses the first
    layer's spikes, and a layer must follow that cut for the order of steps to matter."""
    if cfg.model.arch == "mlp" and len(cfg.model.hidden) == 1:
        return cfg.with_values({"hidden": f"{cfg.model.hidden[0]},{cfg.model.hidden[0]}"})
    return cfg


def preset_network(sidebar: RunConfig, settings: str, dataset: str) -> RunConfig:
    """The network and training a preset runs on, per ``settings``: ``report``, the reproduction report's
    (``trt_table.report_network``: the page's runs are then the report's runs and share its cache), or
    ``sidebar``, the sidebar's with a small training set."""
    if settings == "report":
        return report_network(dataset)
    if settings == "sidebar":
        return _two_layers(sidebar.with_values({"train-samples": TRAIN_SAMPLES}))
    raise ValueError(f"settings={settings!r} is not known; allowed: {', '.join(SETTINGS)}")


def experiment_arms(sidebar: RunConfig, name: str, trt_changes: str = "",
                    settings: str = "report") -> tuple[RunConfig, RunConfig]:
    """(baseline, TRT) of a preset; ``trt_changes`` (``"trt-star=0 trt-kl-weight=2"``) applies to the TRT arm
    only, and must name TRT settings (the arms may differ in nothing else)."""
    if name not in PRESETS:
        raise ValueError(f"experiment {name!r} is not known; allowed: {', '.join(PRESETS)}")
    changes = parse_assignments(trt_changes) if trt_changes.strip() else {}
    foreign = [key for key in changes if not key.startswith("trt-")]
    if foreign:
        raise ValueError(f"TRT arm changes {', '.join(foreign)} are not TRT settings; allowed: trt-perturbation, "
                         "trt-kl-weight, trt-tau, trt-ce-reversed, trt-star, trt-bn-stats")
    experiment = PRESETS[name]
    off, on = experiment.arms(preset_network(sidebar, settings, experiment.dataset), changes)
    require_valid(on)               # the TRT arm has every rule of the baseline and TRT's own
    return off, on


def chosen_arms(sidebar: RunConfig, names: list[str], trt_changes: str,
                settings: str) -> dict[str, tuple[RunConfig, RunConfig]]:
    """Experiment -> (baseline, TRT) of each chosen preset (``experiment_arms``); ValueError with the page's message
    when none is chosen or one cannot run."""
    if not names:
        raise ValueError("Pick at least one experiment.")
    try:
        return {name: experiment_arms(sidebar, name, trt_changes, settings) for name in names}
    except ValueError as problem:
        raise ValueError(f"Cannot run these experiments: {problem}") from None


def experiments_job(arms: dict[str, tuple[RunConfig, RunConfig]], seeds: int, workers: int) -> Job:
    """Every experiment's comparison on seeds 0..seeds-1 as one background job (one pool for all their runs), with
    the on-disk run cache: a repeat is free, and a cancelled job resumes where it stopped."""
    seeds_list = list(range(seeds))
    configs = [cfg for off, on in arms.values() for cfg in compare_configs(off, on, seeds_list)]
    work = batch_work(configs, workers=workers, cache=RunCache(default_cache_dir()))
    return Job("TRT experiments", len(configs), work, {"arms": arms, "seeds": seeds_list})


class ExperimentsRun(NamedTuple):
    """What the experiments job gave so far: the arms it ran (the page says when the settings above changed since)
    and, per experiment with a seed whose two arms both finished, its comparison."""
    arms: dict[str, tuple[RunConfig, RunConfig]]
    results: dict[str, Comparison]


def experiment_results(snap: Snapshot) -> ExperimentsRun:
    """Each experiment's ``compare`` result from the job's runs finished so far (the seeds with both arms done);
    experiments with no such seed yet are left out."""
    arms, seeds = snap.meta["arms"], snap.meta["seeds"]
    results, width = {}, 2 * len(seeds)
    for number, (name, (off, on)) in enumerate(arms.items()):
        result = compare_result(off, on, seeds, snap.slots[number * width:(number + 1) * width])
        if result.seeds:
            results[name] = result
    return ExperimentsRun(arms, results)


def experiments_caption(arms: dict[str, tuple[RunConfig, RunConfig]], seeds: int) -> str:
    """What the chosen experiments run on: the first baseline's settings, and the seeds against the report's."""
    first = next(iter(arms.values()))[0]
    return (f"First baseline: {describe(first).split(' · seed')[0]}. Seeds 0..{seeds - 1} here, a quick look; the "
            "reproduction report (docs/REPRODUCTION.md) uses 10. Finished runs are cached, so a repeat is instant.")


def experiments_table(results: dict[str, Comparison]) -> pd.DataFrame:
    """Every experiment's runs, one row per (experiment, seed, arm), for the download panel."""
    return pd.concat([comparison_rows(result, experiment=name) for name, result in results.items()],
                     ignore_index=True)


def verdict_text(name: str, result: Comparison) -> str:
    """Experiment ``name``'s verdict as Markdown: a line naming the arms, then one bullet per agreement metric
    (``verdict``'s sentences with p Holm-adjusted over the metrics shown, "the variant" called by the TRT arm's
    name)."""
    baseline, trt = PRESETS[name].arm_labels
    shown = {metric: result.paired[metric] for metric in figs.AGREEMENT_METRICS if metric in result.paired}
    sentences = verdict(result.paired, figs.AGREEMENT_METRICS, holm_family(shown))
    return f"**{name}**, {trt} against {baseline}:\n" + "\n".join(f"- {s.replace('the variant', trt)}"
                                                                   for s in sentences)


def sign_job(seeds: int, data_seeds: int, workers: int) -> Job:
    """The factorial study on seeds and data seeds 0..n-1 as one background job, with the on-disk run cache: the
    report's study (``trt_sign.SEEDS`` x ``DATA_SEEDS``) comes from it once ``reproduce`` has run it."""
    seeds_list, data_list = list(range(seeds)), list(range(data_seeds))
    configs = trt_sign.study_configs(trt_sign.cells(trt_sign.BASE, trt_sign.FACTORS), seeds_list, data_list)
    work = batch_work(configs, workers=workers, cache=RunCache(default_cache_dir()))
    return Job("TRT factorial study", len(configs), work,
               {"seeds": seeds_list, "data_seeds": data_list, "configs": configs})


def sign_result(snap: Snapshot | None) -> trt_sign.SignStudy | None:
    """``trt_sign.study_result`` of the job's runs finished so far (pairs with a run missing are left out); None
    without a job, or before any cell has a finished pair."""
    if snap is None:
        return None
    meta = snap.meta
    study = trt_sign.cells(trt_sign.BASE, trt_sign.FACTORS)
    result = trt_sign.study_result(study, meta["seeds"], meta["data_seeds"], meta["configs"], snap.slots,
                                   trt_sign.FACTORS)
    return result if any(cell.delta.n for cell in result.cells) else None


def sign_study_text() -> str:
    """The factorial study in words: its factors, its base setting, its compute-matched off arm and its pairs."""
    base = trt_sign.BASE.data
    return (f"The size of TRT's gain differs between settings. The **factorial study** trains TRT and a baseline "
            f"with {trt_table.COMPUTE_FACTOR}× TRT's epochs (compute-matched) in every combination of "
            f"{sign_factors()} on {base.dataset} (T = {base.time_steps}, {base.train_samples} training clips, the "
            "TRT group's neuron: soft reset, rectangular surrogate), on pairs of a seed *and* a data seed (a new "
            "training set per data seed). Every cell is shown with its paired t-test's p, Holm-adjusted over the "
            "cells, and the smallest difference its pairs would find with 80% power (MDE). Runs the reproduction "
            "report made come from the cache.")


def sign_factors() -> str:
    """The study's factors with their levels, for the page's text: "network (MLP 128-128 or conv 8 + fc 64); ..."."""
    return "; ".join(f"{factor.name} ({' or '.join(factor.levels)})" for factor in trt_sign.FACTORS)


def _rounded(value: float | None, digits: int, scale: float = 1.0) -> float | None:
    return None if value is None else round(value * scale, digits)


def sign_rows(result: trt_sign.SignStudy) -> list[dict]:
    """The study as table rows: each cell's levels, both arms' accuracy in %, Δ in points with its CI, p with its
    Holm-adjusted p over the cells, the MDE in points, and the cell's reading (``trt_sign.reading``)."""
    rows = []
    for cell, adjusted in zip(result.cells, trt_sign.holm_adjusted(result)):
        delta = cell.delta
        ci = "—" if delta.ci_low is None else f"[{delta.ci_low * 100:+.1f}, {delta.ci_high * 100:+.1f}]"
        arms = {f"{arm} %": None if stats.mean is None else round(stats.mean * 100, 1)
                for arm, stats in ((f"off ({trt_table.COMPUTE_FACTOR}× epochs)", cell.off), ("TRT", cell.on))}
        rows.append({**cell.levels, **arms, "Δ points": _rounded(delta.mean, 2, 100),
                     "95% CI": ci, "p": _rounded(delta.p_value, 3), "Holm p": _rounded(adjusted, 3),
                     "MDE points": _rounded(delta.mde, 2, 100), "wins": f"{delta.wins}/{delta.n}",
                     "reading": trt_sign.reading(delta, adjusted)})
    return rows


def sign_effects(result: trt_sign.SignStudy) -> str:
    """Each factor's effect on TRT's Δ as one sentence: the mean Δ at its second level minus at its first, with CI."""
    parts = []
    for name, effect in result.effects.items():
        (first, second), contrast = effect.levels, effect.contrast
        if contrast.mean is None:
            continue
        ci = "" if contrast.ci_low is None else f" [{contrast.ci_low * 100:+.1f}, {contrast.ci_high * 100:+.1f}]"
        parts.append(f"{name} {first} → {second}: {contrast.mean * 100:+.1f}{ci}")
    return ("Effect of each factor on TRT − off (points, paired over the pairs, other factors averaged): "
            + "; ".join(parts) + ".") if parts else ""


def mean_loss_terms(result: Comparison) -> dict[str, list[float]]:
    """Each loss term of the TRT arm per epoch, averaged over the seeds that finished (empty without terms)."""
    terms = [[record.loss_terms for record in pair.variant.history] for pair in result.per_seed if pair.variant.ok]
    if not terms or not terms[0] or not terms[0][0]:
        return {}
    names = list(terms[0][0])
    return {TERM_LABELS.get(name, name): [float(np.mean([run[epoch][name] for run in terms]))
                                          for epoch in range(len(terms[0]))] for name in names}


def demo_config(base: RunConfig, dataset: str, trt: bool) -> RunConfig:
    """The network the sample view trains: the sidebar settings on ``dataset`` with a small training set;
    ValueError listing the problems (``config.check``) when it cannot run."""
    cfg = _two_layers(base.with_values({"dataset": dataset, "train-samples": TRAIN_SAMPLES,
                                        "trt": "on" if trt else "off"}))
    require_valid(cfg)
    return cfg


def demo_job(cfg: RunConfig) -> Job:
    """The sample view's network trained to the end as a background job (its value: the ``Trainer``)."""
    return Job("Sample network", 1, lambda control: train_steps(control, cfg, "training"), {"cfg": cfg})


class BothWays(NamedTuple):
    label: int
    class_names: tuple[str, ...]
    frames: dict[str, np.ndarray] | None      # event data: way -> event frames (T, 2, H, W)
    spikes: dict[str, np.ndarray] | None      # static data: way -> first spiking layer's spikes (T, N), bool
    layer: str                                # the layer whose spikes are reversed (static data)
    probabilities: dict[str, np.ndarray]      # way -> softmax of the logits, (classes,)


@torch.no_grad()
def both_ways(trainer: Trainer, index: int) -> BothWays:
    """Test sample ``index`` as the network sees it and reversed in time, with the output of each way.

    Event data reverse the input frames; static data reverse the first spiking layer's spikes and run
    layers 2..L on them (where TRT cuts). Inference never does this: it shows what TRT trains on.
    """
    data = trainer.dataset
    x = sample_inputs(trainer, [index])                   # (T, 1, ...) what trace_samples([index]) runs
    trainer.model.eval()
    outputs = branches(trainer.model, x, "reverse", data.has_time_axis)
    probabilities = {way: torch.softmax(out.logits[0].float(), 0).cpu().numpy() for way, out in zip(WAYS, outputs)}
    frames = spikes = None
    if data.has_time_axis:
        frames = {way: frames.cpu().numpy() for way, frames in zip(WAYS, (x[:, 0], perturb_time(x, "reverse")[:, 0]))}
    else:
        first = cut_spikes(trainer.model, x)[:, 0].flatten(1).bool()                # (T, N)
        spikes = {way: s.cpu().numpy() for way, s in zip(WAYS, (first, perturb_time(first, "reverse")))}
    return BothWays(int(data.test_y[index]), data.class_names, frames, spikes, trainer.model.layer_names[0],
                    probabilities)


def reversed_label(dataset: str, label: int) -> int | None:
    """The label a sample's time reversal really has, where it differs: a direction clip played backwards
    moves the opposite way (the same holds for DVS Gesture's clockwise and counter-clockwise classes)."""
    if dataset != "events-direction":
        return None
    from snn_core.data.events import REVERSED_DIRECTION

    return REVERSED_DIRECTION[label]


def network_line(trainer: Trainer) -> str:
    """The sample view's caption: which network runs the sample, with or without TRT, and its test accuracy."""
    return (f"Network: {describe(trainer.cfg)}, TRT {trainer.cfg.methods.trt}, "
            f"test accuracy {trainer.history[-1].test_accuracy:.1%}")


def both_ways_figures(view: BothWays, index: int) -> dict[str, Callable[[], go.Figure]]:
    """The sample view's figures by name, each built when first drawn: the input frames both ways (event data) or
    the first layer's spikes both ways (static data), then the outputs both ways."""
    if view.frames is not None:
        title = f"test sample {index}: {figs.plain(view.class_names[view.label])}, original and reversed"
        first = {"trt-frames": lambda: figs.frames_both_ways(view.frames, title)}
    else:
        first = {"trt-raster": lambda: figs.rasters_both_ways(view.spikes, view.layer)}
    return {**first, "trt-outputs": lambda: figs.outputs_both_ways(view.probabilities, view.class_names, view.label)}


def sample_notes(trainer: Trainer, view: BothWays) -> list[str]:
    """What the sample view must add in words: a reversal after the only spiking layer changes nothing, and a
    direction clip reversed moves the other way (TRT still asks for its label)."""
    notes = []
    if view.spikes is not None and len(trainer.model.layers) == 1:
        notes.append("This network has one spiking layer and a time-averaged readout: a reversal after that layer "
                     "cannot change the output (TRT needs a second layer here).")
    twin = reversed_label(trainer.dataset.name, view.label)
    if twin is not None:
        name = view.class_names[view.label]
        notes.append(f"Reversed, this **{name}** clip moves **{view.class_names[twin]}**: TRT would still ask for "
                     f"the label {name}.")
    return notes
