"""The exact-engine part of the TTFS section: TTFS against relaxed where TTFS's dead-neuron problem exists.

Arms (Bacho & Chu read relaxed networks by spike count, ttfs.md §4): TTFS is K = 1 with the first-spike
readout; relaxed is K = 10 (the exact engine's cap) with the count readout (BATS's pseudo-gradient,
``methods.ttfs.exact_network``). Both start from ``EXACT_BASE`` (``methods.ttfs.presets.EXACT_PRESET``) and each is
tuned over its *own* settings with the same number of trials (``experiments.tuning.tune``, ``budget.trials``),
on tuning seed 100, apart from the reported seeds, by validation accuracy only:

- TTFS over lr x V_th x tau_loss x the first-spike regulariser alpha (``TTFS_ARM``, 16 points): the readout's
  loss settings are TTFS's own knobs, and Fast & Deep's point (tau_loss = 0.2 tau_s = 0.8, alpha = 0.005, lr 3e-3,
  V_th 0.5) is the preset's own (``EXACT_PRESET``), so it is always one of TTFS's trials (the tuner tries each
  arm's starting point first), and the report says so.
- relaxed over lr x V_th (``RELAXED_ARM``, 4 points): the count readout has no tau_loss and no first-spike
  regulariser, so it gets its own knobs only.

The tuned arms then train on ``budget.min_seeds`` paired seeds (the report's, topped up): one seed gives both arms
the same batch order and the same normal draws of initial weights (scaled by V_th, ``exact_network._init``). The
claims are read as in the discrete table (``report.ttfs_claims``), Holm-corrected over the whole TTFS section.
Latency has no row: a count readout decides only at the end. The engines' per-layer agreement
(``methods.ttfs.equivalence``) is measured on the tuned TTFS network of the first seed, over the test set.

Cost on the 2-core machine (2026-12-06, one thread per run): a relaxed K = 10 run takes about 37 s, a K = 1 run
about 6 s (K = 5 would save only a fifth, and gave the same accuracy: the cap does not bind). The full profile's 8
tuning runs, 20 paired runs and the agreement run take about 5 minutes on 2 workers, the quick profile's 4, 6 and 1
about 2. ``python -m snn_core reproduce --sections ttfs`` runs it with the discrete part.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..config.run_config import RunConfig
from ..experiments.batch import RunCache
from ..experiments.compare import compare, with_seed
from ..experiments.stats import mean_ci
from ..experiments.tuning import TUNE_SEEDS, Arm, TunedArm, tune, tuning_table
from ..methods.ttfs.equivalence import engine_agreement
from ..methods.ttfs.exact_network import ExactNetwork
from ..methods.ttfs.presets import FAST_AND_DEEP, exact_config
from ..methods.ttfs.weight_bump import DEVIATIONS
from ..neurons.cuba import membrane_tau
from ..results.comparison import Comparison, MeanCI
from ..training.evaluate import sample_inputs
from ..training.trainer import Trainer
from .budget import FULL, Budget
from .parts import RunCounter, decision_of, metrics_of, topped_up
from .ttfs_claims import (
    ACCURACY_MARGIN,
    HEADER,
    Claim,
    convergence_line,
    failures,
    number,
    paired_values,
    percent,
    points,
    reached_row,
)
from .verdict import equivalence

if TYPE_CHECKING:
    from ..experiments.executors import Executor

# the exact engine's cost grows with spike slots, so T 16 and 64 hidden neurons (EXACT_PRESET); robustness off
EXACT_BASE = exact_config(robustness=False)
TTFS_ARM = Arm("TTFS", {"max-spikes": 1, "readout": "first-spike"},
               {"lr": (3e-3, 1e-2), "threshold": (0.5, 1.0), "tau-loss": (0.8, 4.0), "first-spike-reg": (0.005, 0.0)})
RELAXED_ARM = Arm("relaxed", {"max-spikes": 10, "readout": "count", "first-spike-reg": 0.0},
                  {"lr": (3e-3, 1e-2), "threshold": (0.5, 1.0)})
ARMS = (TTFS_ARM, RELAXED_ARM)
FAST_AND_DEEP_POINT = {name: FAST_AND_DEEP[name] for name in TTFS_ARM.space}
EARLY_EPOCH = 2


@dataclass(frozen=True)
class ExactPart:
    """What the exact-engine part measured: the tuned arms, the paired runs and their claim rows, the agreement."""
    tuned: dict[str, TunedArm]
    result: Comparison
    rows: list[Claim]
    agreement: list[str]


def claim_rows(result: Comparison) -> list[Claim]:
    """TTFS (base) versus relaxed (variant) on the exact engine, claim by claim (epochs to target: ``reached_row``)."""
    return [
        Claim("higher accuracy", "test accuracy", *paired_values(result, lambda run: metrics_of(run).test_accuracy),
              "up", "higher", percent, points),
        Claim("faster convergence", f"test accuracy after epoch {EARLY_EPOCH}",
              *paired_values(result, lambda run: run.history[EARLY_EPOCH - 1].test_accuracy), "up",
              "higher", percent, points),
        Claim("similar sparsity", "spikes per sample (all layers)",
              *paired_values(result, lambda run: metrics_of(run).spikes_per_sample), "similar", "lower", number(0),
              number(0, True)),
        Claim("(not claimed)", "silent neurons (fraction of all, test set)",
              *paired_values(result, lambda run: metrics_of(run).silent_fraction), "none", "lower", percent, points),
    ]


def agreement_lines(cfg: RunConfig) -> list[str]:
    """Train ``cfg`` (exact engine) here and measure both engines on the weights its run reports (the
    best-validation epoch's, as in the claims table) over the test set."""
    trainer = Trainer(cfg, "cpu")
    trainer.fit()
    trainer.select_reported_epoch()
    frames = sample_inputs(trainer, range(len(trainer.dataset.test_y)))          # (T, N, ...)
    model = trainer.model
    if not isinstance(model, ExactNetwork):
        raise ValueError(f"agreement_lines needs a config of the exact engine; this one built {type(model).__name__}")
    found = engine_agreement(model, frames)
    lines = ["| layer | first-spike bins agree, end to end | same, given the same input events | "
             "mean exact − discrete first spike (steps) | (sample, neuron) pairs with a spike |",
             "|---|---|---|---|---|"]
    for layer in found.layers:
        cells = [shown_fraction(layer.first_bin), shown_fraction(layer.same_input_bin),
                 "—" if layer.lag is None else f"{layer.lag:.2f}", str(layer.pairs)]
        lines.append(f"| {layer.name} | " + " | ".join(cells) + " |")
    return lines + ["", f"Predictions agree on {found.predictions:.1%} of the {frames.shape[1]} test samples."]


def shown_fraction(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def arm_setting(cfg: RunConfig) -> str:
    n, t, m = cfg.neuron, cfg.training, cfg.model
    if m.readout == "first-spike":
        return (f"K = {n.max_spikes}, first-spike readout (tau_loss {m.tau_loss:g}, regulariser alpha "
                f"{m.first_spike_reg:g}), lr {t.lr:g}, V_th {n.threshold:g}")
    return f"K = {n.max_spikes}, count readout, lr {t.lr:g}, V_th {n.threshold:g}"


def measure_exact(seeds: list[int], workers: int | Executor, cache: RunCache | None, log: Callable[[str], None],
                  counter: RunCounter, budget: Budget = FULL) -> ExactPart:
    """Tune both arms (``budget.trials`` each), train them on ``budget.min_seeds`` paired seeds (``seeds`` first,
    topped up) and measure the engines' agreement; the rows' Holm correction is the section's (``apply_holm``)."""
    used = topped_up(seeds, budget.min_seeds)[:budget.min_seeds]
    log(f"TTFS exact engine: tuning both arms on validation ({budget.trials} trials each)")
    tuned = tune(EXACT_BASE, ARMS, budget.trials, seeds=TUNE_SEEDS, report_seeds=used,
                 workers=workers, cache=cache, progress=counter)
    log("TTFS exact engine: tuned arms on paired seeds")
    result = compare(tuned["TTFS"].config, tuned["relaxed"].config, used, workers=workers, cache=cache,
                     progress=counter)
    log("TTFS exact engine: exact vs discrete agreement")
    return ExactPart(tuned, result, claim_rows(result), agreement_lines(with_seed(tuned["TTFS"].config, used[0])))


def tuning_lines(tuned: dict[str, TunedArm]) -> list[str]:
    """The tuning table, every trial's validation accuracy, and whether Fast & Deep's point was tried."""
    lines = tuning_table(tuned) + ["", "| arm | trial | validation accuracy |", "|---|---|---|"]
    for name, arm in tuned.items():
        for trial in arm.trials:
            point = ", ".join(f"{key} {value:g}" for key, value in trial.point.items())
            lines.append(f"| {name} | {point} | {'failed' if trial.score is None else f'{trial.score:.1%}'} |")
    tried = any(trial.point == FAST_AND_DEEP_POINT for trial in tuned["TTFS"].trials)
    return lines + ["", "Fast & Deep's point (tau_loss 0.8 = 0.2 tau_s, alpha 0.005, lr 0.003, V_th 0.5) was "
                        + ("one of TTFS's trials." if tried else "**not** among TTFS's trials at this budget.")]


def exact_lines(part: ExactPart) -> list[str]:
    """The exact engine's Markdown: setting, tuning, claims (Holm-adjusted already), deviations, agreement."""
    ttfs, relaxed, result = part.tuned["TTFS"].config, part.tuned["relaxed"].config, part.result
    d, t = EXACT_BASE.data, EXACT_BASE.training
    accuracy = part.rows[0].diff
    lines = ["### The exact event-based engine, each arm tuned on validation", "",
             f"Closed-form spike times with exact gradients and weight bumping after Fast & Deep "
             f"(`methods.ttfs.weight_bump`); {d.dataset}, latency code in the first {d.latency_window} of "
             f"T = {d.time_steps} steps, MLP {'-'.join(map(str, EXACT_BASE.model.hidden))}, CUBA (tau_s = "
             f"{EXACT_BASE.neuron.tau_syn:g}, tau_m = {membrane_tau(EXACT_BASE.neuron.tau_syn):g}), no BatchNorm, "
             f"{t.epochs} epochs (the best-validation epoch reported), batch {t.batch_size}, {d.validation:.0%} of "
             f"train held out for validation. Each arm was tuned over its own settings with "
             f"{len(part.tuned['TTFS'].trials)} trials on seed {', '.join(map(str, TUNE_SEEDS))} (not a reported "
             "seed), by validation accuracy; the test split chose nothing:", "", *tuning_lines(part.tuned), "",
             f"Chosen: TTFS {arm_setting(ttfs)}; relaxed {arm_setting(relaxed)} (BATS's count pseudo-gradient). "
             f"Then {accuracy.n} paired seeds on the test split; differences are relaxed − TTFS, p-values from "
             "paired t-tests with Holm's correction over every tested row of the TTFS section:", "",
             *HEADER, part.rows[0].row(), reached_row(result, t.target_accuracy, t.epochs),
             *(row.row() for row in part.rows[1:]), *failures(result), "", convergence_line(result), "",
             f"Accuracy: {equivalence(accuracy, ACCURACY_MARGIN, 'test_accuracy')}."]
    steps = [decision_of(pair.base).decision_step_mean for pair in result.per_seed if pair.base.ok]
    decision = MeanCI.from_json(mean_ci([step for step in steps if step is not None]))
    if decision.mean is not None:
        lines += ["", f"TTFS decides at step {decision.mean:.2f} on average (first output spike); the count "
                      "readout decides at the end of the window, so latency has no paired row here."]
    lines += ["", "Where this weight bumping differs from Fast & Deep's (`methods.ttfs.weight_bump.DEVIATIONS`):", "",
              *(f"- {deviation}" for deviation in DEVIATIONS)]
    lines += ["", "Exact against discrete engine on the same weights (the tuned TTFS network, seed "
                  f"{result.seeds[0]}, test set; `methods.ttfs.equivalence`). The discrete engine delivers a spike "
                  "of bin [k, k+1) at t = k, the exact one at its time, so agreement holds per layer given the same "
                  "input events and drifts end to end:", ""]
    return lines + part.agreement
