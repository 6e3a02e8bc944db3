"""Glue for the Temporal reversal (TRT) page: one sample run both ways, and the preset TRT-versus-baseline runs.

The presets follow the pilot of the method's notes (a small training set, where a network overfits, and
T from 2 to 8): each sets the dataset and T on top of the reproduction report's network and training (or
the sidebar's), and pairs a baseline (``trt = off``) with TRT (``trt = on``) on the same seeds. Two of them are controls: a
random time permutation instead of the reversal ("does any perturbation help?"), and a baseline trained
twice as many epochs, as TRT costs about two passes a step ("does more compute help?").
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import torch

from snn_core.experiments.compare import compare, compute_matched
from snn_core.config.run_config import RunConfig, parse_assignments
from snn_core.report.trt import DIGITS, EVENTS
from snn_core.training.trainer import Trainer
from snn_core.methods.trt import branches, check_setup, perturb_time
from snn_core.experiments.batch import DEFAULT_CACHE_DIR, RunCache

from .training import train_to_end

TRAIN_SAMPLES = 400          # small enough that the baseline overfits: where the pilot saw TRT help
SETTINGS = {"report": "the reproduction report's", "sidebar": f"the sidebar's, with {TRAIN_SAMPLES} training samples"}
WAYS = ("original", "reversed")


class Experiment(NamedTuple):
    dataset: str
    time_steps: int
    question: str
    perturbation: str = "reverse"
    base_factor: float = 1.0          # the baseline trains this many times the epochs (compute-matched control)

    @property
    def arm_labels(self) -> tuple[str, str]:
        base = "baseline" if self.base_factor == 1 else f"baseline, {self.base_factor:g}× epochs"
        return base, "TRT" if self.perturbation == "reverse" else f"TRT with {self.perturbation}"


EXPERIMENTS = {
    "events-shape, T = 2": Experiment("events-shape", 2, "Shape labels survive a reversal; at T = 2 a network "
                                                         "sees least and overfits most."),
    "events-shape, T = 4": Experiment("events-shape", 4, "Shape labels survive a reversal: the setting where TRT "
                                                         "should help."),
    "events-shape, T = 8": Experiment("events-shape", 8, "More steps: the baseline gets closer to its ceiling, "
                                                         "leaving TRT less to add."),
    "digits, T = 4": Experiment("digits", 4, "Static images: TRT reverses the first layer's spike train, which "
                                             "direct encoding makes nearly periodic, so expect little."),
    "events-direction, T = 4": Experiment("events-direction", 4, "Direction labels with the paper's reversal, "
                                                                 "which flips the frames but keeps ON/OFF: a "
                                                                 "moving edge's polarity layout still shows its "
                                                                 "direction, so the network can agree both ways "
                                                                 "and still be right."),
    "events-direction, playback (T = 4)": Experiment(
        "events-direction", 4, "Direction labels with the clip really played backwards (frames flipped and ON/OFF "
                               "swapped): TRT now pulls a left-moving clip towards its right-moving twin.",
        perturbation="playback"),
    "control: permutation (events-shape, T = 4)": Experiment(
        "events-shape", 4, "Same losses with a random order of the time steps instead of the reversal: separates "
                           "'reversal helps' from 'any time perturbation helps'.", perturbation="permute"),
    "control: baseline 2× epochs (events-shape, T = 4)": Experiment(
        "events-shape", 4, "The baseline trains twice the epochs, about TRT's cost: separates 'TRT helps' from "
                           "'more compute helps'.", base_factor=2.0),
}
DEFAULT_EXPERIMENTS = ("events-shape, T = 4",)
TERM_LABELS = {"ce": "CE (original)", "ce_perturbed": "CE (perturbed branch)", "kl": "τ² KL consistency",
               "star": "star head CE", "total": "total (weighted)"}


def _two_layers(cfg: RunConfig) -> RunConfig:
    """An MLP with one hidden layer gets a second of the same size: on static data TRT reverses the first
    layer's spikes, and a layer must follow that cut for the order of steps to matter."""
    if cfg.model.arch == "mlp" and len(cfg.model.hidden) == 1:
        return cfg.with_values({"hidden": f"{cfg.model.hidden[0]},{cfg.model.hidden[0]}"})
    return cfg


def preset_config(sidebar: RunConfig, settings: str, dataset: str, time_steps: int) -> RunConfig:
    """A preset's baseline: its dataset and T, TRT off, on the network and training of ``settings``:
    ``report``, the reproduction report's (``snn_core.report.trt.EVENTS`` / ``DIGITS``: the page's runs are then
    the report's runs and share its cache), or ``sidebar``, the sidebar's with a small training set."""
    if settings == "report":
        start = DIGITS if dataset == "digits" else EVENTS
    elif settings == "sidebar":
        start = _two_layers(sidebar.with_values({"train-samples": TRAIN_SAMPLES}))
    else:
        raise ValueError(f"settings={settings!r} is not known; allowed: {', '.join(SETTINGS)}")
    return start.with_values({"dataset": dataset, "T": time_steps, "trt": "off"})


def experiment_arms(sidebar: RunConfig, name: str, trt_changes: str = "",
                    settings: str = "report") -> tuple[RunConfig, RunConfig]:
    """(baseline, TRT) of a preset; ``trt_changes`` (``"trt-star=0 trt-kl-weight=2"``) applies to the TRT arm
    only, and must name TRT settings (the arms may differ in nothing else)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment {name!r} is not known; allowed: {', '.join(EXPERIMENTS)}")
    changes = parse_assignments(trt_changes) if trt_changes.strip() else {}
    foreign = [key for key in changes if not key.startswith("trt-")]
    if foreign:
        raise ValueError(f"TRT arm changes {', '.join(foreign)} are not TRT settings; allowed: trt-perturbation, "
                         "trt-kl-weight, trt-tau, trt-ce-reversed, trt-star")
    experiment = EXPERIMENTS[name]
    off = preset_config(sidebar, settings, experiment.dataset, experiment.time_steps)
    on = off.with_values({"trt": "on", "trt-perturbation": experiment.perturbation, **changes})
    check_setup(on, has_time_axis=experiment.dataset != "digits")     # digits is the one static dataset
    return (compute_matched(off, experiment.base_factor) if experiment.base_factor != 1 else off), on


def run_experiments(arms: dict[str, tuple[RunConfig, RunConfig]], seeds: int, workers: int,
                    progress: Callable[[float, str], None]) -> dict[str, dict]:
    """``compare`` of each experiment's arms on seeds 0..seeds-1 with the on-disk run cache (a repeat is free)."""
    cache, results = RunCache(DEFAULT_CACHE_DIR), {}
    for number, (name, (off, on)) in enumerate(arms.items()):
        def report(done: int, total: int, slot: dict, number=number, name=name) -> None:
            progress((number + done / total) / len(arms), f"{name}: {done} of {total} runs finished")

        results[name] = compare(off, on, range(seeds), workers=workers, cache=cache, progress=report)
    return results


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
    """The network the sample view trains: the sidebar settings on ``dataset`` with a small training set."""
    cfg = base.with_values({"dataset": dataset, "train-samples": TRAIN_SAMPLES, "trt": "on" if trt else "off"})
    return _two_layers(cfg)


def train_demo(cfg: RunConfig, progress: Callable[[float, str], None]) -> Trainer:
    return train_to_end(cfg, lambda run: progress(run.progress,
                                                  f"training: epoch {run.epoch + 1} of {cfg.training.epochs}"))


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
    if not 0 <= index < len(data.test_y):
        raise ValueError(f"test sample {index} is out of range; allowed: 0..{len(data.test_y) - 1}")
    trainer.model.eval()
    rng = torch.Generator().manual_seed(trainer.cfg.training.seed)
    x = trainer.inputs(data.test_x[index:index + 1], rng)                         # (T, 1, ...)
    outputs = branches(trainer.model, x, "reverse", data.has_time_axis)
    probabilities = {way: torch.softmax(out.logits[0].float(), 0).cpu().numpy() for way, out in zip(WAYS, outputs)}
    frames = spikes = None
    if data.has_time_axis:
        frames = {way: frames.cpu().numpy() for way, frames in zip(WAYS, (x[:, 0], perturb_time(x, "reverse")[:, 0]))}
    else:
        first = trainer.model.first_spikes(x)[:, 0].flatten(1).bool()               # (T, N)
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
