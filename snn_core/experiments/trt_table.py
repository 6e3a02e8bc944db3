"""The TRT experiments, written once: each one's two arms, its question, and whether the report and the page show it.

Every experiment pairs two arms on the same seeds, on one network and training (the report's ``EVENTS`` or
``DIGITS``, or the page's sidebar) with the experiment's dataset and T: a base arm (no TRT, or TRT with another
time perturbation) and a TRT arm. The report (``report.trt``) trains the entries with a ``report_label`` on
``report_network`` with each arm's tuned settings; the TRT page offers the entries with a ``page_name`` as
presets, on that network at its default settings unless the user picks the sidebar's (the report's runs share its
run cache only where tuning kept the defaults). The pilot of the method's notes chose the settings: a small
training set, where a network overfits, and T from 2 to 8. Both networks use the TRT group's neuron
(``methods.presets.PAPER_NEURONS["trt"]``: soft reset, rectangular surrogate). The per-term ablations (``TERMS``)
keep one of TRT's three added loss terms and switch the others off.

TRT runs two branches a step, so a baseline without TRT trains ``COMPUTE_FACTOR`` times the epochs by default
(``compare.compute_matched``): that is the comparison, and an equal-epochs baseline is a labelled extra on the
page. Each arm is tuned on validation over its own settings (``tuning_arms``: TRT over ``TRT_SPACE``, the baseline
over ``BASE_SPACE``) with the same number of trials, and a tuned point reaches an arm through ``arms``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ..config.run_config import RunConfig
from ..methods.presets import PAPER_NEURONS
from .compare import compute_matched
from .tuning import Arm

NEURON = PAPER_NEURONS["trt"]
EVENTS = RunConfig().with_values({"dataset": "events-shape", "arch": "conv", "channels": "8", "hidden": "64",
                                  "T": 4, "epochs": 20, "train-samples": 400, "test-samples": 300, **NEURON})
DIGITS = RunConfig().with_values({"dataset": "digits", "hidden": "64,64", "T": 4, "epochs": 20,
                                  "train-samples": 200, **NEURON})
TERMS: dict[str, dict[str, float]] = {     # which of TRT's added loss terms a TRT arm keeps: weight changes
    "all": {},
    "KL only": {"trt-ce-reversed": 0.0, "trt-star": 0.0},
    "reversed CE only": {"trt-kl-weight": 0.0, "trt-star": 0.0},
    "star head only": {"trt-kl-weight": 0.0, "trt-ce-reversed": 0.0},
}
COMPUTE_FACTOR = 2          # TRT costs about two passes a step: the compute-matched baseline trains this many epochs
LRS = (1e-3, 3e-3, 1e-2)    # Adam learning rates either arm may choose (the report's default 3e-3 in the middle)
BASE_SPACE = {"lr": (3e-4, *LRS)}          # the baseline's own setting: its learning rate (4 points)
TRT_SPACE = {"lr": LRS, "trt-kl-weight": (0.5, 1.0, 2.0), "trt-tau": (1.0, 2.0, 4.0)}   # TRT's: lr, λ and τ
ARM_NAMES = (f"no TRT, {COMPUTE_FACTOR}× epochs", "TRT")       # the tuned arms (``tuning_arms``): baseline, TRT


def report_network(dataset: str) -> RunConfig:
    """The report's network and training for ``dataset``: ``DIGITS`` for the one static dataset, else ``EVENTS``."""
    return DIGITS if dataset == "digits" else EVENTS


class TRTExperiment(NamedTuple):
    """One experiment: a base arm against a TRT arm, where it is shown, and the question it answers."""

    dataset: str
    time_steps: int
    question: str
    page_name: str | None = None        # its name among the TRT page's presets; None: not on the page
    report_label: str | None = None     # its row label in the reproduction report; None: not in the report
    perturbation: str = "reverse"       # the TRT arm's time perturbation
    base: str = "off"                   # the base arm: "off" (no TRT) or the perturbation TRT runs with there
    base_factor: float | None = None    # the base arm trains this many times the epochs; None: compute-matched
    terms: str = "all"                  # the TRT arm's loss terms, a key of TERMS (per-term ablation)

    @property
    def epoch_factor(self) -> float:
        """The base arm's epochs over TRT's: ``base_factor``, else compute-matched (``COMPUTE_FACTOR`` for a base
        without TRT, 1 for a base that runs TRT's two branches too)."""
        if self.base_factor is not None:
            return self.base_factor
        return COMPUTE_FACTOR if self.base == "off" else 1

    @property
    def arm_labels(self) -> tuple[str, str]:
        """(base, TRT) as the page names the arms: "baseline, 2× epochs", "TRT with permute", ..."""
        base = "baseline" if self.base == "off" else _trt_label(self.base)
        trt = _trt_label(self.perturbation)
        return (base if self.epoch_factor == 1 else f"{base}, {self.epoch_factor:g}× epochs",
                trt if self.terms == "all" else f"{trt} ({self.terms})")

    def arms(self, start: RunConfig, trt_changes: Mapping[str, object] | None = None,
             base_changes: Mapping[str, object] | None = None) -> tuple[RunConfig, RunConfig]:
        """(base, TRT) on ``start``'s network and training with this dataset and T. ``trt_changes`` (CLI names: a
        tuned point, the page's ablations) apply to every arm that runs TRT, after the TRT arm's perturbation and
        loss terms (a TRT base keeps its own perturbation: the two differ in that only); ``base_changes`` (a tuned
        point) apply to a base arm without TRT."""
        off = start.with_values({"dataset": self.dataset, "T": self.time_steps, "trt": "off"})
        changes = dict(trt_changes or {})
        on = off.with_values({"trt": "on", "trt-perturbation": self.perturbation, **TERMS[self.terms], **changes})
        base = (off.with_values(dict(base_changes or {})) if self.base == "off"
                else off.with_values({"trt": "on", **changes, "trt-perturbation": self.base}))
        return compute_matched(base, self.epoch_factor), on

    @property
    def setting(self) -> tuple[str, int]:
        """(dataset, T): the experiments of one setting share its tuning (``tuning_arms``)."""
        return self.dataset, self.time_steps


def tuning_arms(start: RunConfig, dataset: str, time_steps: int) -> tuple[RunConfig, tuple[Arm, Arm]]:
    """The tuning of one setting (``experiments.tuning``): the base config (``start`` with the dataset and T, no
    robustness test: tuning reads validation accuracy only) and its two arms, the compute-matched baseline over
    ``BASE_SPACE`` and TRT over ``TRT_SPACE``."""
    base = start.with_values({"dataset": dataset, "T": time_steps, "robustness": False})
    epochs = compute_matched(base, COMPUTE_FACTOR).training.epochs
    return base, (Arm(ARM_NAMES[0], {"trt": "off", "epochs": epochs}, BASE_SPACE),
                  Arm(ARM_NAMES[1], {"trt": "on"}, TRT_SPACE))


def _trt_label(perturbation: str) -> str:
    return "TRT" if perturbation == "reverse" else f"TRT with {perturbation}"


EXPERIMENTS = (             # in the report's row order; the page lists its presets in the same order
    TRTExperiment("events-shape", 4, "Shape labels survive a reversal: the setting where TRT should help.",
                  "events-shape, T = 4", "events-shape, T=4: TRT vs off (2× epochs)"),
    TRTExperiment("events-shape", 2, "Shape labels survive a reversal; at T = 2 a network sees least and "
                                     "overfits most.",
                  "events-shape, T = 2", "events-shape, T=2: TRT vs off (2× epochs)"),
    TRTExperiment("events-shape", 8, "More steps: the baseline gets closer to its ceiling, leaving TRT less to add.",
                  "events-shape, T = 8"),
    TRTExperiment("digits", 4, "Static images: TRT reverses the first layer's spike train, which direct encoding "
                               "makes nearly periodic, so expect little.",
                  "digits, T = 4", "digits (static), T=4: TRT vs off (2× epochs)"),
    TRTExperiment("events-direction", 4, "Direction labels with the paper's reversal, which flips the frames but "
                                         "keeps ON/OFF: a moving edge's polarity layout still shows its direction, "
                                         "so the network can agree both ways and still be right.",
                  "events-direction, T = 4", "events-direction, T=4: TRT vs off (2× epochs)"),
    TRTExperiment("events-direction", 4, "Direction labels with the clip really played backwards (frames flipped "
                                         "and ON/OFF swapped): TRT now pulls a left-moving clip towards its "
                                         "right-moving twin.",
                  "events-direction, playback (T = 4)",
                  "events-direction, T=4: playback (flip T, swap ON/OFF) vs off (2× epochs)",
                  perturbation="playback"),
    TRTExperiment("events-shape", 4, "Same losses with a random order of the time steps instead of the reversal: "
                                     "separates 'reversal helps' from 'any time perturbation helps'.",
                  "control: permutation (events-shape, T = 4)",
                  "events-shape, T=4: permutation vs off (2× epochs)",
                  perturbation="permute"),
    TRTExperiment("events-shape", 4, "TRT with the reversal against TRT with a random permutation: does the "
                                     "reversal itself matter, not any reordering?",
                  report_label="events-shape, T=4: reversal vs permutation", base="permute"),
    TRTExperiment("events-shape", 4, "The baseline trains as many epochs as TRT, which costs about twice as much a "
                                     "step: not compute-matched, so a gain here may be only the extra compute.",
                  "equal epochs, not compute-matched (events-shape, T = 4)", base_factor=1),
    TRTExperiment("events-shape", 4, "Only the KL consistency term on top of CE (no CE on the reversed branch, "
                                     "no star head): in the method notes' pilot it carried most of the gain.",
                  "ablation: KL only (events-shape, T = 4)", "events-shape, T=4: KL only vs off (2× epochs)",
                  terms="KL only"),
    TRTExperiment("events-shape", 4, "Only CE on the reversed branch (plain augmentation with reversed clips, no "
                                     "consistency term, no star head).",
                  "ablation: reversed CE only (events-shape, T = 4)",
                  "events-shape, T=4: reversed CE only vs off (2× epochs)",
                  terms="reversed CE only"),
    TRTExperiment("events-shape", 4, "Only the star head (a training-only classifier on r ⊙ r̂) on top of CE.",
                  "ablation: star head only (events-shape, T = 4)",
                  "events-shape, T=4: star head only vs off (2× epochs)",
                  terms="star head only"),
)
