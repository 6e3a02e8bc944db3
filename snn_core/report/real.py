"""The real-data section of the reproduction report: ASA (with its controls), TRT and the TTFS spike cap on N-MNIST.

The papers measured on event-camera data; this section runs the same paired comparisons on real N-MNIST
recordings read from ``data.data_dir``'s default places (``snn_core.data.folders.default_roots()``: a fetched
or copied N-MNIST first, else the samples bundled in ``data/samples``; with no Test/ folder a stratified fifth is
held out as test and the section says so). Every arm trains N-MNIST's dataset defaults
(``snn_core.data.REAL_DEFAULTS``) and differs in one method setting; the sample sizes are the ones the runs used.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..config.run_config import RunConfig, with_dataset_defaults
from ..experiments.batch import RunCache
from ..experiments.compare import compare
from ..methods.presets import PAPER_NEURONS, describe_neuron
from ..results.comparison import Comparison
from .asa import CALIBRATION_SAMPLES, arm_configs, calibrated_gate, pair, run_arms
from .asa_tables import asa_row, control_rows, redundancy_verdict
from .budget import FULL, Budget
from .parts import ACCURACY, RunCounter, claim_verdict
from .trt import table_row

if TYPE_CHECKING:
    from ..experiments.executors import Executor

NMNIST = RunConfig().with_values(with_dataset_defaults({"dataset": "nmnist", "robustness": "false"}))
# ASA on N-MNIST: the ASA paper's neuron; its controls shrink the current by clean ASA's mean gate on N-MNIST
NMNIST_ASA = NMNIST.with_values(PAPER_NEURONS["asa"])
# TTFS on N-MNIST: each input (polarity, pixel) spikes once at its first event, CUBA neurons, first-spike readout
NMNIST_TTFS = NMNIST.with_values({"event-frames": "first-spike", "neuron": "cuba", "readout": "first-spike"})


def _sample_sizes(result: Comparison) -> str:
    """What the runs trained and tested on (folder, sizes, split), from the first finished run's ``data.source``."""
    for seed in result.per_seed:
        for run in (seed.base, seed.variant):
            if run.ok:
                return run.data.source
    return "no run finished"


def _ttfs_row(label: str, result: Comparison) -> str:
    """Accuracy, spikes per sample and mean decision step, base → variant with the paired accuracy Δ."""
    def arrow(metric: str, scale: float, digits: int) -> str:     # "—" where no run measured it (no decision)
        return " → ".join(f"{summary[metric].mean * scale:.{digits}f}" if metric in summary else "—"
                          for summary in (result.base_summary, result.variant_summary))

    accuracy = result.paired[ACCURACY]
    return (f"| {label} | {arrow(ACCURACY, 100, 1)} | {100 * accuracy.mean:+.2f} "
            f"[{100 * accuracy.ci_low:+.2f}, {100 * accuracy.ci_high:+.2f}] | {accuracy.wins}/{accuracy.n} "
            f"| {arrow('spikes_per_sample', 1, 0)} | {arrow('decision_step_mean', 1, 2)} |")


def _accuracy_verdict(result: Comparison, claimed: str) -> str:
    accuracy = result.paired[ACCURACY]
    return claim_verdict(accuracy.ci_low, accuracy.ci_high, claimed)


def real_section(seeds: list[int], workers: int | Executor, cache: RunCache | None, log: Callable[[str], None],
                 counter: RunCounter, budget: Budget = FULL) -> str:
    """ASA (clean) against no ASA and its controls, TRT against none, and K = 1 against an uncapped neuron, on
    real N-MNIST recordings."""
    def run(label: str, base: RunConfig, variant: RunConfig) -> Comparison:
        log(f"real data: {label}")
        return compare(base, variant, seeds, workers=workers, cache=cache, progress=counter)

    log("real data: calibrating the controls' gate on clean ASA")
    gate = calibrated_gate(NMNIST_ASA, seeds[0])
    log(f"real data: ASA (clean) and its controls at gate {gate:g} vs off")
    asa_arms = {label: cfg for label, cfg in arm_configs(NMNIST_ASA, gate).items() if label != "faithful"}
    asa_slots = run_arms(asa_arms, seeds, workers, cache, counter)
    controls = [label for label in asa_arms if label not in ("off", "clean")]
    against_off = {label: pair(asa_arms, asa_slots, seeds, "off", label) for label in asa_arms if label != "off"}
    clean_vs = {c: pair(asa_arms, asa_slots, seeds, c, "clean") for c in controls}
    asa = against_off["clean"]
    trt = run("TRT vs off", NMNIST, NMNIST.with_values({"trt": "on"}))
    ttfs = run("K=1 vs unlimited", NMNIST_TTFS.with_values({"max-spikes": 0}),
               NMNIST_TTFS.with_values({"max-spikes": 1}))
    change, points = asa_row("clean vs off", asa)[1]
    model = NMNIST.model
    lines = [
        "## Real data: N-MNIST recordings", "",
        f"N-MNIST (ATIS recordings of MNIST digits, 34×34, 2 polarities). Data: {_sample_sizes(asa)}. The network is "
        f"N-MNIST's default: conv {'-'.join(map(str, model.channels))} + fc {'-'.join(map(str, model.hidden))}, "
        f"rate readout, T = {NMNIST.data.time_steps} "
        f"time bins per recording (tonic ToFrame), event counts as input, {NMNIST.training.epochs} epochs, batch "
        f"{NMNIST.training.batch_size}; {len(seeds)} paired seeds. A sample this small (about 200 test recordings) "
        "moves accuracy in steps of 0.5 points.", "",
        "### ASA (clean) and its attenuation controls on N-MNIST", "",
        f"The ASA arms use the {describe_neuron('asa')}; the controls shrink the same conv layers' current by "
        f"g = {gate:g}, clean ASA's mean gate on N-MNIST (measured on {CALIBRATION_SAMPLES} test recordings after "
        f"training seed {seeds[0]}): constant, learnable from g, and V_th / g in every layer. Target as in the ASA "
        "section: NASFR at least 40% lower, accuracy at most 1 point worse.", "",
        "| comparison | NASFR base → variant | NASFR change [95% CI] | accuracy change, points [95% CI] | "
        "accuracy wins | target |", "|---|---|---|---|---|---|",
        *(asa_row(f"{label} vs off", result)[0] for label, result in against_off.items()), "",
        f"Clean ASA against no ASA: NASFR "
        f"{claim_verdict(change.ci_low, change.ci_high, 'down')}; "
        f"accuracy {claim_verdict(points.ci_low, points.ci_high, 'up')}.", "",
        *control_rows({("clean", c): result for c, result in clean_vs.items()}), "",
        *redundancy_verdict(against_off, clean_vs), "",
        "### TRT on N-MNIST", "",
        "| comparison (base → variant) | test accuracy % | Δ accuracy, points [95% CI] | wins | NASFR (Δ [95% CI]) | "
        "reversal agreement % | train–test gap % | s per run (base / variant) |",
        "|---|---|---|---|---|---|---|---|", table_row("off → TRT (frames reversed at the input)", trt), "",
        f"Accuracy {_accuracy_verdict(trt, 'up')} (the paper: TRT improves accuracy on DVS data).", "",
        "### TTFS spike cap on N-MNIST", "",
        "Input: each (polarity, pixel) spikes once, in the time bin of its first event (`--event-frames "
        "first-spike`); CUBA neurons, first-spike readout, the discrete engine.", "",
        "| comparison (base → variant) | test accuracy % | Δ accuracy, points [95% CI] | wins | spikes per sample | "
        "mean decision step |", "|---|---|---|---|---|---|", _ttfs_row("unlimited → K = 1", ttfs), "",
        f"Accuracy with K = 1 against an uncapped neuron: {_accuracy_verdict(ttfs, 'down')} (the relaxed-TTFS "
        "paper: more spikes per neuron give more accuracy).",
    ]
    return "\n".join(lines)
