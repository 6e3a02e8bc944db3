"""The real-data section of the reproduction report: ASA (tuned, with its controls), TRT and the TTFS spike cap on
N-MNIST.

The papers measured on event-camera data; this section runs the same paired comparisons on real N-MNIST
recordings read from ``data.data_dir``'s default places (``snn_core.data.folders.default_roots()``: a fetched
or copied N-MNIST first, else the samples bundled in ``data/samples``; with no Test/ folder a stratified fifth is
held out as test and the section says so). Every arm trains N-MNIST's dataset defaults
(``snn_core.data.REAL_DEFAULTS``); the sample sizes are the ones the runs used. ASA's arms are tuned with one budget
(``report.asa.TunedStudy``: off, clean ASA, the learned and the random gate), and TRT's baseline is compute-matched
(twice the epochs: TRT runs two branches per step, ``experiments.compare.compute_matched``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..config.run_config import RunConfig, with_dataset_defaults
from ..experiments.batch import RunCache
from ..experiments.compare import compare, compute_matched
from ..methods.presets import PAPER_NEURONS, describe_neuron
from ..results.comparison import Comparison
from .asa import OFF, TunedStudy
from .asa_tables import comparison_rows, family
from .budget import FULL, Budget
from .parts import ACCURACY, RunCounter, claim_verdict, mean_of, required_bounds
from .trt import table_row
from .verdict import holm_family

if TYPE_CHECKING:
    from ..experiments.executors import Executor

NMNIST = RunConfig().with_values(with_dataset_defaults({"dataset": "nmnist", "robustness": "false"}))
# ASA on N-MNIST: the ASA paper's neuron; every arm tuned on N-MNIST's validation split
NMNIST_ASA = NMNIST.with_values(PAPER_NEURONS["asa"])
# TTFS on N-MNIST: each input (polarity, pixel) spikes once at its first event, CUBA neurons, first-spike readout
NMNIST_TTFS = NMNIST.with_values({"event-frames": "first-spike", "neuron": "cuba", "readout": "first-spike"})


def _sample_sizes(result: Comparison) -> str:
    """What the runs trained and tested on (folder, sizes, split), from the first finished run's ``data.source``."""
    for seed in result.per_seed:
        for run in (seed.base, seed.variant):
            if run.ok:
                if run.data is None:
                    raise ValueError(f"the finished run of seed {run.seed} has no data source; a finished run "
                                     "records one")
                return run.data.source
    return "no run finished"


def _ttfs_row(label: str, result: Comparison) -> str:
    """Accuracy, spikes per sample and mean decision step, base → variant with the paired accuracy Δ."""
    def arrow(metric: str, scale: float, digits: int) -> str:     # "—" where no run measured it (no decision)
        return " → ".join(f"{mean_of(summary[metric], f'{label}: {arm} {metric}') * scale:.{digits}f}"
                          if metric in summary else "—"
                          for arm, summary in (("base", result.base_summary), ("variant", result.variant_summary)))

    accuracy = result.paired[ACCURACY]
    change, low, high = required_bounds(accuracy, f"{label}: {ACCURACY}")
    return (f"| {label} | {arrow(ACCURACY, 100, 1)} | {100 * change:+.2f} "
            f"[{100 * low:+.2f}, {100 * high:+.2f}] | {accuracy.wins}/{accuracy.n} "
            f"| {arrow('spikes_per_sample', 1, 0)} | {arrow('decision_step_mean', 1, 2)} |")


def _accuracy_verdict(result: Comparison, claimed: str, adjusted_p: float | None) -> str:
    accuracy = result.paired[ACCURACY]
    _, low, high = required_bounds(accuracy, f"the paired {ACCURACY}")
    return claim_verdict(low, high, claimed, accuracy.n, adjusted_p=adjusted_p)


def real_section(seeds: list[int], workers: int | Executor, cache: RunCache | None, log: Callable[[str], None],
                 counter: RunCounter, budget: Budget = FULL) -> str:
    """ASA (clean) against no ASA and its controls, TRT against none, and K = 1 against an uncapped neuron, on
    real N-MNIST recordings."""
    def run(label: str, base: RunConfig, variant: RunConfig) -> Comparison:
        log(f"real data: {label}")
        return compare(base, variant, seeds, workers=workers, cache=cache, progress=counter)

    log(f"real data: ASA (clean) and its controls, tuned ({budget.trials} trials per arm), then {len(seeds)} seeds")
    study = TunedStudy(NMNIST_ASA, ("clean",), seeds, budget, workers, cache, counter)
    asa = study.versus[f"clean ASA − {OFF}"]
    trt = run("TRT vs off at twice the epochs", compute_matched(NMNIST, 2), NMNIST.with_values({"trt": "on"}))
    ttfs = run("K=1 vs unlimited", NMNIST_TTFS.with_values({"max-spikes": 0}),
               NMNIST_TTFS.with_values({"max-spikes": 1}))
    # one Holm family for the section: ASA's rows, TRT's and the spike cap's accuracy
    adjusted = study.adjusted = holm_family({**family(study.versus), "TRT: accuracy": trt.paired[ACCURACY],
                                  "K = 1: accuracy": ttfs.paired[ACCURACY]})
    trt_label = (f"off at {2 * NMNIST.training.epochs} epochs → TRT at {NMNIST.training.epochs} (frames reversed at "
                 "the input)")
    model = NMNIST.model
    lines = [
        "## Real data: N-MNIST recordings", "",
        f"N-MNIST (ATIS recordings of MNIST digits, 34×34, 2 polarities). Data: {_sample_sizes(asa)}. The network is "
        f"N-MNIST's default: conv {'-'.join(map(str, model.channels))} + fc {'-'.join(map(str, model.hidden))}, "
        f"rate readout, T = {NMNIST.data.time_steps} "
        f"time bins per recording (tonic ToFrame), event counts as input, {NMNIST.training.epochs} epochs, batch "
        f"{NMNIST.training.batch_size}; {len(seeds)} paired seeds. A sample this small (about 200 test recordings) "
        "moves accuracy in steps of 0.5 points.", "",
        "### ASA (clean) against its controls on N-MNIST (Holm-adjusted within these rows)", "",
        f"Every ASA arm uses the {describe_neuron('asa')}. Target as in the ASA section: NASFR at least 40% lower, "
        "accuracy at most 1 point worse.", "",
        *study.method_lines("N-MNIST's validation split"), "",
        *comparison_rows(study.versus, study.adjusted), "",
        *study.verdicts(), "",
        "### TRT on N-MNIST", "",
        "| comparison (base → variant) | test accuracy % | Δ accuracy, points [95% CI] | p (Holm) | MDE, points | "
        "wins | NASFR (Δ [95% CI]) | reversal agreement % | train–test gap % | s per run (base / variant) |",
        "|---|---|---|---|---|---|---|---|---|---|", table_row(trt_label, trt, adjusted["TRT: accuracy"]), "",
        "The baseline is compute-matched: TRT runs two branches per step, so off trains twice the epochs (the same "
        "gradient computations), as the default comparison.", "",
        f"Accuracy {_accuracy_verdict(trt, 'up', adjusted['TRT: accuracy'])} (the paper: TRT improves accuracy on "
        "DVS data).", "",
        "### TTFS spike cap on N-MNIST", "",
        "Input: each (polarity, pixel) spikes once, in the time bin of its first event (`--event-frames "
        "first-spike`); CUBA neurons, first-spike readout, the discrete engine.", "",
        "| comparison (base → variant) | test accuracy % | Δ accuracy, points [95% CI] | wins | spikes per sample | "
        "mean decision step |", "|---|---|---|---|---|---|", _ttfs_row("unlimited → K = 1", ttfs), "",
        f"Accuracy with K = 1 against an uncapped neuron: "
        f"{_accuracy_verdict(ttfs, 'down', adjusted['K = 1: accuracy'])} (the relaxed-TTFS "
        "paper: more spikes per neuron give more accuracy).",
    ]
    return "\n".join(lines)
