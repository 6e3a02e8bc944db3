"""The ASA section of the reproduction report: ASA against its tuned baseline *and* against its best control.

ASA multiplies conv currents by gates in (0, 1), so it lowers firing whatever it selects, and "off" at the ASA
paper's V_th = 0.3 behind a unit-variance BatchNorm fires densely. Every arm is therefore tuned over its own
settings with the same number of trials (``budget.trials``, ``experiments.tuning``) on a tuning seed apart from
the reported seeds, on validation accuracy: off over V_th, BatchNorm's initial γ and lr; clean and faithful ASA
over λ and lr; the learned scalar gate (attenuation) over its initial g and lr; the random gate (ASA's sparsity
without its selection, ``methods.asa.controls``) over its gated fraction and lr. ASA's verdict names the control
it beat: its best control (the control arm with the highest tuning validation score) and off, tuned. Nothing is
calibrated on the test split. Every arm uses the ASA paper's neuron (``methods.presets.PAPER_NEURONS``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..config.run_config import RunConfig
from ..experiments.batch import RunCache, run_many
from ..experiments.compare import compare_configs, compare_result, with_seed
from ..experiments.tuning import TUNE_SEEDS, Arm, TunedArm, tune, tuning_table
from ..methods.presets import PAPER_NEURONS, describe_neuron
from ..results.comparison import Comparison
from ..results.run_result import RunResult
from .asa_tables import arm_table, comparison_rows, family, noise_rows, paper_claims, selection_verdict
from .budget import FULL, Budget
from .parts import RunCounter, topped_up
from .verdict import holm_family

if TYPE_CHECKING:
    from ..experiments.executors import Executor

ASA_EPOCHS = 16       # a pilot (seed 0, 20 epochs): ASA off's validation accuracy peaked at epoch 16 (0.82; 0.79 at 10)
# 800 training clips (not 1000): 5 arms x (4 trials + 10 seeds) fit the section's 15 minutes on 2 workers
ASA_BASE = RunConfig().with_values({"dataset": "events-shape", "arch": "conv", "noise": 0.2, "epochs": ASA_EPOCHS,
                                     "train-samples": 800, "test-samples": 300, "robustness": False,
                                     **PAPER_NEURONS["asa"]})
# noisier clips for the noise-pattern claim (clean ASA against none); empty: a pilot (seed 0, off, 6 epochs, paper
# neuron) found noise channels only at noise 0.2 (conv1 1/16), none at 0.5 or 1.0 and conv2 1/32 at 2.0, so more
# noise buys no more noise channels here and the claim is read off the base setting's runs
ASA_NOISE_KNOB: tuple[float, ...] = ()
ASA_VARIANTS = ("clean", "faithful")
OFF, LEARNED, RANDOM = "off, tuned", "learned gate", "random gate"
CONTROLS = (OFF, LEARNED, RANDOM)
LEARNING_RATES = (1e-3, 3e-3)
DROPPED = ("The constant-gate and raised-threshold controls of earlier reports are dropped: a constant gate g is "
           "forward-identical to off with BatchNorm's γ started at g (g(γx̂ + β) = (gγ)x̂ + gβ, β starts at 0) "
           "and to V_th raised to V_th/g; they differ from it only in how the surrogate gradient is scaled, so "
           "off is tuned over BatchNorm's initial γ and V_th instead.")


def asa_arms(variants: Sequence[str] = ASA_VARIANTS) -> list[Arm]:
    """The section's arms, each with its own tuned settings (CLI names): off, the ASA ``variants``, the learned
    scalar gate and the random gate (its fraction 0 = ASA's own sub-important fraction at λ = 0.5)."""
    return [Arm(OFF, {}, {"threshold": (0.3, 0.6, 1.0), "bn-gamma": (1.0, 0.5), "lr": LEARNING_RATES}),
            *(Arm(f"{variant} ASA", {"asa": variant}, {"asa-lambda": (0.25, 0.5, 0.75), "lr": LEARNING_RATES})
              for variant in variants),
            Arm(LEARNED, {"asa": "scalar"}, {"asa-constant-gate": (0.3, 0.5, 0.7, 0.9), "lr": LEARNING_RATES}),
            Arm(RANDOM, {"asa": "random"}, {"asa-random-fraction": (0.0, 0.25, 0.75), "lr": LEARNING_RATES})]


def best_control(tuned: dict[str, TunedArm]) -> str:
    """The control arm whose tuning validation score is highest (ties: the first of ``CONTROLS``)."""
    return max(CONTROLS, key=lambda name: (tuned[name].score or -1.0, -CONTROLS.index(name)))


def run_arms(arms: dict[str, RunConfig], seeds: Sequence[int], workers: int | Executor, cache: RunCache | None,
             counter: RunCounter) -> dict[str, list[RunResult]]:
    """Every arm on every seed in one batch; label -> its slots in seed order."""
    configs = [with_seed(cfg, seed) for cfg in arms.values() for seed in seeds]
    slots = run_many(configs, workers=workers, cache=cache, progress=counter)
    return {label: slots[i * len(seeds):(i + 1) * len(seeds)] for i, label in enumerate(arms)}


def pair(arms: dict[str, RunConfig], slots: dict[str, list[RunResult]], seeds: Sequence[int], base: str,
         variant: str) -> Comparison:
    """The paired comparison ``variant`` − ``base`` from slots already run (``compare_result``)."""
    compare_configs(arms[base], arms[variant], seeds)                     # both arms checked, as compare does
    interleaved = [slot for b, v in zip(slots[base], slots[variant]) for slot in (b, v)]
    return compare_result(arms[base], arms[variant], seeds, interleaved)


class TunedStudy:
    """The arms tuned (``tuned``), run on the reported seeds (``slots``) and compared: each ASA variant against
    every control (``versus``: "<variant> ASA − <control>" -> comparison) with the section's Holm family."""

    def __init__(self, base: RunConfig, variants: Sequence[str], seeds: Sequence[int], budget: Budget,
                 workers: int | Executor, cache: RunCache | None, counter: RunCounter):
        self.tuned = tune(base, asa_arms(variants), budget.trials, seeds=TUNE_SEEDS, report_seeds=seeds,
                          workers=workers, cache=cache, progress=counter)
        self.arms = {name: arm.config for name, arm in self.tuned.items()}
        self.seeds, self.variants = list(seeds), [f"{variant} ASA" for variant in variants]
        self.slots = run_arms(self.arms, seeds, workers, cache, counter)
        self.best = best_control(self.tuned)
        self.versus = {f"{v} − {c}": pair(self.arms, self.slots, seeds, c, v) for v in self.variants for c in CONTROLS}
        self.adjusted = holm_family(family(self.versus))

    def verdicts(self) -> list[str]:
        """Per variant: what it beat, against its best control first, then every other control."""
        order = [self.best] + [name for name in CONTROLS if name != self.best]
        return [selection_verdict(v, {f"{v} − {c}": self.versus[f"{v} − {c}"] for c in order}, self.adjusted)
                for v in self.variants]

    def method_lines(self, data: str) -> list[str]:
        """How the arms were chosen: the budget, the tuning seed, the best control, the dropped controls."""
        return [f"Tuning (issue 26): every arm gets the same {len(next(iter(self.tuned.values())).trials)} trials "
                f"over its own settings, on {data} (tuning seed {', '.join(map(str, TUNE_SEEDS))}, never a reported "
                "seed), scored on validation accuracy at the epoch early stopping selects; the test split chooses and "
                "calibrates nothing. The random gate gates a random share of each sample's (time, channel) slices "
                "by a learnable gate (share 0 = ASA's own sub-important share at λ = 0.5). ASA's best control, "
                f"chosen on that validation score: **{self.best}**.", "", *tuning_table(self.tuned), "", DROPPED]


def asa_section(seeds: list[int], workers: int | Executor, cache: RunCache | None, log: Callable[[str], None],
                counter: RunCounter, budget: Budget = FULL) -> str:
    """Five tuned arms (off, clean, faithful, the learned and the random gate) on at least ``budget.min_seeds``
    paired seeds (the report's seeds topped up), the verdicts against the best control, the noise-pattern claim."""
    seeds = topped_up(seeds, budget.min_seeds)
    log(f"ASA: tuning 5 arms x {budget.trials} trials, then {len(seeds)} seeds each")
    study = TunedStudy(ASA_BASE, ASA_VARIANTS, seeds, budget, workers, cache, counter)
    noisy = {}
    for noise in ASA_NOISE_KNOB:
        log(f"ASA: clean vs off, noise {noise}")
        noisy_arms = {"off": study.arms[OFF].with_values({"noise": noise}),
                      "clean": study.arms["clean ASA"].with_values({"noise": noise})}
        noisy[noise] = pair(noisy_arms, run_arms(noisy_arms, seeds, workers, cache, counter), seeds, "off", "clean")
    b, n = ASA_BASE, ASA_BASE.data.noise_level
    against_off = {f"{label} vs off": pair(study.arms, study.slots, seeds, OFF, label) for label in study.arms
                   if label != OFF}
    lines = [
        "## ASA — Advance Spatial Attention (Yao et al., ICCV 2023)", "",
        f"events-shape (noise {n:g} events per pixel), conv {'-'.join(map(str, b.model.channels))} + fc "
        f"{'-'.join(map(str, b.model.hidden))}, T={b.data.time_steps}, {b.data.train_samples} training clips "
        f"({b.data.validation:.0%} of them held out for validation), {b.data.test_samples} test clips, "
        f"{b.training.epochs} epochs (the reported epoch chosen on validation accuracy; the arm table says whether "
        f"each run converged), batch {b.training.batch_size}, {len(seeds)} paired seeds (identical initial weights "
        f"in every arm; the report's seeds topped up to at least {budget.min_seeds}; profile {budget.name}). The "
        f"{describe_neuron('asa')} (α = 0.3, V_th = 0.3 before tuning, hard reset, rectangular surrogate of width "
        "0.5, as in the official code). Faithful ASA's masks are pooled over the batch, so it is evaluated on "
        "batches of its training size.", "",
        *study.method_lines("the same clips"), "",
        *arm_table(study.slots), "",
        "### ASA against its controls (Holm-adjusted within this section)", "",
        "Target (issue #5): NASFR at least 40% lower with accuracy at most 1 point worse (mean paired difference). "
        "Off, tuned is a control too: the baseline at its own best settings.", "",
        *comparison_rows(study.versus, study.adjusted), "",
        *study.verdicts(), "",
        *paper_claims(f"clean ASA − {OFF}", study.versus[f"clean ASA − {OFF}"], study.adjusted), "",
        "### Noise pattern → null pattern", "",
        *noise_rows({f"noise {n:g}": {label.removesuffix(" vs off"): result for label, result in against_off.items()
                                      if label.startswith(("clean", LEARNED, RANDOM))},
                     **{f"noise {k:g}": {"clean ASA": r} for k, r in noisy.items()}}),
    ]
    return "\n".join(lines)
