"""Glue for the Temporal reversal (TRT) page: one sample run both ways, and the preset TRT-versus-baseline runs.

The presets are the experiments of ``snn_core.experiments.trt_table`` with a page name: each sets the dataset
and T on top of the reproduction report's network and training (or the sidebar's), and pairs a baseline
(``trt = off``) with TRT (``trt = on``) on the same seeds. Two of them are controls: a random time permutation
instead of the reversal ("does any perturbation help?"), and a baseline trained twice as many epochs, as TRT
costs about two passes a step ("does more compute help?"). Three are per-term ablations (one of TRT's added
loss terms kept, the others off). Last, the sign study (``snn_core.experiments.trt_sign``): when TRT helps and when
it hurts, over network, BatchNorm statistics, epochs and loss terms, on the report's seeds and its run cache.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from snn_core.config.check import require_valid
from snn_core.config.run_config import RunConfig, parse_assignments
from snn_core.experiments import trt_sign
from snn_core.experiments.batch import DEFAULT_CACHE_DIR, RunCache
from snn_core.experiments.compare import compare_configs, compare_result
from snn_core.experiments.trt_table import EXPERIMENTS, report_network
from snn_core.methods.trt.branches import branches, cut_spikes, perturb_time
from snn_core.training.evaluate import sample_inputs
from snn_core.training.trainer import Trainer

from .jobs import Job, Snapshot, batch_work, train_steps

TRAIN_SAMPLES = 400          # small enough that the baseline overfits: where the pilot saw TRT help
SETTINGS = {"report": "the reproduction report's", "sidebar": f"the sidebar's, with {TRAIN_SAMPLES} training samples"}
WAYS = ("original", "reversed")
PRESETS = {experiment.page_name: experiment for experiment in EXPERIMENTS if experiment.page_name}
DEFAULT_EXPERIMENTS = ("events-shape, T = 4",)
EXPERIMENTS_JOB, DEMO_JOB, SIGN_JOB = "trt-experiments", "trt-demo", "trt-sign"   # the page's job names
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


def experiments_job(arms: dict[str, tuple[RunConfig, RunConfig]], seeds: int, workers: int) -> Job:
    """Every experiment's comparison on seeds 0..seeds-1 as one background job (one pool for all their runs), with
    the on-disk run cache: a repeat is free, and a cancelled job resumes where it stopped."""
    seeds_list = list(range(seeds))
    configs = [cfg for off, on in arms.values() for cfg in compare_configs(off, on, seeds_list)]
    return Job("TRT experiments", len(configs), batch_work(configs, workers=workers, cache=RunCache(DEFAULT_CACHE_DIR)),
               {"arms": arms, "seeds": seeds_list})


def experiment_results(snap: Snapshot) -> dict[str, dict]:
    """Experiment -> ``compare``'s result from the job's runs finished so far (the seeds with both arms done);
    experiments with no such seed yet are left out."""
    arms, seeds = snap.meta["arms"], snap.meta["seeds"]
    results, width = {}, 2 * len(seeds)
    for number, (name, (off, on)) in enumerate(arms.items()):
        result = compare_result(off, on, seeds, snap.slots[number * width:(number + 1) * width])
        if result["seeds"]:
            results[name] = result
    return results


def sign_job(seeds: int, data_seeds: int, workers: int) -> Job:
    """The sign study on seeds and data seeds 0..n-1 as one background job, with the on-disk run cache: the
    report's study (``trt_sign.SEEDS`` x ``DATA_SEEDS``) comes from it once ``reproduce`` has run it."""
    seeds_list, data_list = list(range(seeds)), list(range(data_seeds))
    configs = trt_sign.study_configs(trt_sign.cells(trt_sign.BASE, trt_sign.FACTORS), seeds_list, data_list)
    return Job("TRT sign study", len(configs), batch_work(configs, workers=workers, cache=RunCache(DEFAULT_CACHE_DIR)),
               {"seeds": seeds_list, "data_seeds": data_list, "configs": configs})


def sign_result(snap: Snapshot) -> dict:
    """``trt_sign.study_result`` of the job's runs finished so far (pairs with a run missing are left out)."""
    meta = snap.meta
    study = trt_sign.cells(trt_sign.BASE, trt_sign.FACTORS)
    return trt_sign.study_result(study, meta["seeds"], meta["data_seeds"], meta["configs"], snap.slots,
                                 trt_sign.FACTORS)


def sign_factors() -> str:
    """The study's factors with their levels, for the page's text: "network (MLP 128-128 or conv 8 + fc 64); ..."."""
    return "; ".join(f"{factor.name} ({' or '.join(factor.levels)})" for factor in trt_sign.FACTORS)


def sign_rows(result: dict) -> list[dict]:
    """The study as table rows: each cell's levels, both arms' accuracy in %, Δ in points with its CI, and sign."""
    rows = []
    for cell in result["cells"]:
        delta = cell["delta"]
        ci = "—" if delta["ci_low"] is None else f"[{delta['ci_low'] * 100:+.1f}, {delta['ci_high'] * 100:+.1f}]"
        arms = {f"{arm} %": None if cell[key]["mean"] is None else round(cell[key]["mean"] * 100, 1)
                for arm, key in (("off", "off"), ("TRT", "on"))}
        rows.append({**cell["levels"], **arms, "Δ points": None if delta["mean"] is None else
                     round(delta["mean"] * 100, 2), "95% CI": ci, "wins": f"{delta['wins']}/{delta['n']}",
                     "TRT": trt_sign.sign(delta)})
    return rows


def sign_effects(result: dict) -> str:
    """Each factor's effect on TRT's Δ as one sentence: the mean Δ at its second level minus at its first, with CI."""
    parts = []
    for name, effect in result["effects"].items():
        first, second = effect["factor_levels"]
        if effect["mean"] is None:
            continue
        ci = "" if effect["ci_low"] is None else f" [{effect['ci_low'] * 100:+.1f}, {effect['ci_high'] * 100:+.1f}]"
        parts.append(f"{name} {first} → {second}: {effect['mean'] * 100:+.1f}{ci}")
    return ("Effect of each factor on TRT − off (points, paired over the pairs, other factors averaged): "
            + "; ".join(parts) + ".") if parts else ""


def mean_loss_terms(result: dict) -> dict[str, list[float]]:
    """Each loss term of the TRT arm per epoch, averaged over the seeds that finished (empty without terms)."""
    histories = [run["variant"]["history"] for run in result["per_seed"] if not run["variant"]["error"]]
    terms = [[record.get("loss_terms") or {} for record in history] for history in histories]
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
