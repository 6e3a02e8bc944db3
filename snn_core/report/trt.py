"""The TRT section of the reproduction report: tuned TRT against a tuned, compute-matched baseline on paired seeds, its
controls, and a verdict per paper claim (``reproduce.SECTIONS["trt"]``).

TRT runs two branches a step, so every baseline without TRT trains ``trt_table.COMPUTE_FACTOR`` times the epochs
(``compare.compute_matched``): that is the comparison, not an extra row. Before anything reports, each setting
(dataset, T) of the table is tuned on validation (``experiments.tuning``, seed ``TUNE_SEED``, apart from the
report's seeds): the baseline over its learning rate, TRT over its learning rate, λ and τ, each with the same
``budget.trials``; every row of that setting then trains the chosen points (an ablation or control changes only
what makes it one). The rows are the experiments of ``experiments.trt_table`` that carry a report label, in its
order: event clips with shape labels (invariant under time reversal) at T = 4 and T = 2, static digits (reversal
after the first spiking layer), event clips with direction labels (the paper's frame flip, and a true playback
that also swaps ON and OFF: a contrast, not a claim), controls at events-shape T = 4 (a random time permutation
instead of the reversal, and reversal against permutation), then the per-term ablations. Last,
``experiments.trt_sign``'s factorial study of what the size of TRT's effect depends on, every cell against a
compute-matched off arm, untuned, on its own seeds and data seeds.

Every paired test of the section is one family: each row's Δ accuracy, NASFR of the four TRT-against-off settings,
the main row's train–test gap and per-layer firing rates, and the study's cells (``report.trt_study``) get a
Holm-adjusted p beside the raw one (``verdict.holm_family``); a "no evidence" sentence carries its minimum
detectable effect, and an accuracy claim without evidence of a difference gets an equivalence test (TOST) within
±``EQUIVALENCE_MARGIN``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from statistics import mean
from typing import TYPE_CHECKING, NamedTuple

from ..config.run_config import RunConfig
from ..experiments import trt_sign, trt_table
from ..experiments.batch import RunCache, run_many
from ..experiments.compare import compare_configs, compare_result
from ..experiments.convergence import convergence_note
from ..experiments.stats import ALPHA
from ..experiments.tuning import TUNE_SEEDS, TunedArm, plan_tuning, tuning_table
from ..methods.presets import describe_neuron
from ..results.comparison import Comparison, MeanCI, PairedStat
from ..results.run_result import RunResult
from .budget import FULL, Budget
from .parts import ACCURACY, NASFR, RunCounter, bounds, claim_verdict, mean_of, required_bounds, topped_up
from .trt_study import sign_pairs, sign_study, stat_cells
from .verdict import describe, equivalence, holm_family

if TYPE_CHECKING:
    from ..experiments.executors import Executor

EQUIVALENCE_MARGIN = 0.01       # ±1 point of test accuracy: below what the paper reports TRT adding at small T
GAP = "train_test_gap"
Setting = tuple[str, int]       # (dataset, T): the experiments of one setting share its tuning


class Row(NamedTuple):
    label: str
    base: RunConfig
    variant: RunConfig


def settings() -> list[Setting]:
    """The distinct (dataset, T) of the report's experiments, in row order: one tuning each."""
    return list(dict.fromkeys(e.setting for e in trt_table.EXPERIMENTS if e.report_label))


def tune_settings(report_seeds: Sequence[int], trials: int, workers: int | Executor, cache: RunCache | None,
                  counter: RunCounter | None) -> dict[Setting, dict[str, TunedArm]]:
    """Every setting's two arms (``trt_table.tuning_arms``) tuned with ``trials`` points each on the tuning seeds,
    all settings' runs in one batch."""
    plans = {setting: plan_tuning(*trt_table.tuning_arms(trt_table.report_network(setting[0]), *setting), trials,
                                  seeds=TUNE_SEEDS, report_seeds=report_seeds) for setting in settings()}
    configs = [cfg for plan in plans.values() for cfg in plan.configs]
    slots = run_many(configs, workers=workers, cache=cache, progress=counter)
    tuned, start = {}, 0
    for setting, plan in plans.items():
        tuned[setting] = plan.result(slots[start:start + len(plan.configs)])
        start += len(plan.configs)
    return tuned


def rows(tuned: Mapping[Setting, Mapping[str, TunedArm]] | None = None) -> list[Row]:
    """The comparisons of the section, each (label, base arm, variant arm): the ``trt_table`` experiments with a
    report label, on the report's network and training, with each setting's tuned points (none: the defaults)."""
    found = []
    for experiment in trt_table.EXPERIMENTS:
        if not experiment.report_label:
            continue
        arms = tuned[experiment.setting] if tuned else {}
        base_point, trt_point = (arms[name].point if arms else {} for name in trt_table.ARM_NAMES)
        start = trt_table.report_network(experiment.dataset)
        found.append(Row(experiment.report_label, *experiment.arms(start, trt_point, base_point)))
    return found


def run_rows(found: Sequence[Row], seeds: Sequence[int], workers: int | Executor, cache: RunCache | None,
             counter: RunCounter | None) -> dict[str, Comparison]:
    """Every row's comparison on ``seeds``, all rows' distinct runs in one batch (a shared base arm trains once)."""
    listed = [compare_configs(row.base, row.variant, seeds) for row in found]
    distinct = list(dict.fromkeys(cfg for configs in listed for cfg in configs))
    slots = dict(zip(distinct, run_many(distinct, workers=workers, cache=cache, progress=counter)))
    return {row.label: compare_result(row.base, row.variant, seeds, [slots[cfg] for cfg in configs])
            for row, configs in zip(found, listed)}


def _arrow(result: Comparison, metric: str, scale: float, digits: int) -> str:
    return " → ".join(f"{mean_of(summary[metric], f'{arm} {metric}') * scale:.{digits}f}"
                      for arm, summary in (("base", result.base_summary), ("variant", result.variant_summary)))


def _total_seconds(run: RunResult) -> float:
    """A finished batch run's wall time; ValueError for a run without timing (a batch records it for every run)."""
    if run.timing is None:
        raise ValueError(f"the run of seed {run.seed} has no timing; a finished batch run records one")
    return run.timing.total_seconds


def _seconds(result: Comparison) -> str:
    per_arm = [[_total_seconds(run) for run in runs if run.ok]
               for runs in ([pair.base for pair in result.per_seed], [pair.variant for pair in result.per_seed])]
    return " / ".join(f"{mean(times):.1f}" if times else "—" for times in per_arm)


def _delta(stats: MeanCI, scale: float, digits: int) -> str:
    found = bounds(stats)
    if found is None:
        return "—" if stats.mean is None else f"{stats.mean * scale:+.{digits}f}"
    centre, low, high = found
    return f"{centre * scale:+.{digits}f} [{low * scale:+.{digits}f}, {high * scale:+.{digits}f}]"


def table_row(label: str, result: Comparison, adjusted: float | None) -> str:
    """One Markdown row: accuracies, paired Δ with CI, p with its Holm-adjusted p, MDE, wins, NASFR, agreement,
    gap, seconds per run."""
    accuracy, nasfr = result.paired[ACCURACY], result.paired[NASFR]
    failed = f" ({result.failed_runs} runs failed)" if result.failed_runs else ""
    return (f"| {label}{failed} | {_arrow(result, ACCURACY, 100, 1)} | {_delta(accuracy, 100, 2)} | "
            f"{stat_cells(accuracy, adjusted)} | {accuracy.wins}/{accuracy.n} | "
            f"{_arrow(result, NASFR, 1, 3)} ({_delta(nasfr, 1, 3)}) | "
            f"{_arrow(result, 'reversal_agreement', 100, 1)} | {_arrow(result, GAP, 100, 1)} | "
            f"{_seconds(result)} |")


def convergence_row(label: str, result: Comparison) -> str:
    """Whether each arm's runs had settled on validation (``experiments.convergence``)."""
    notes = [convergence_note([getattr(pair, arm) for pair in result.per_seed]) for arm in ("base", "variant")]
    return f"| {label} | {' | '.join(notes)} |"


def _layers(result: Comparison) -> list[str]:
    return [name for name in result.paired if name.startswith("layer_firing_rates.")]


def layer_rates(result: Comparison, adjusted: Mapping[str, float | None]) -> list[str]:
    """Per-layer firing rate, base → variant, with the paired difference and its sentence (Holm within the
    section: ``adjusted`` by metric name)."""
    return [f"| {name.split('.', 1)[1]} | {_arrow(result, name, 1, 3)} | {_delta(result.paired[name], 1, 3)} | "
            f"{_named(describe(name, result.paired[name], adjusted_p=adjusted.get(name)), 'TRT')} |"
            for name in _layers(result)]


def _named(sentence: str, variant: str) -> str:
    return sentence.replace("the variant", variant)


def _result(results: dict[str, Comparison], time_steps: int = 4, dataset: str = "events-shape",
            **fields) -> tuple[str, Comparison]:
    """(label, result) of the one reported experiment with this dataset and T whose other fields (``trt_table``'s
    ``TRTExperiment``) are ``fields`` or their defaults."""
    wanted = trt_table.TRTExperiment(dataset, time_steps, "", **fields)
    same = ("dataset", "time_steps", "perturbation", "base", "base_factor", "terms")
    (label,) = [e.report_label for e in trt_table.EXPERIMENTS
                if e.report_label and all(getattr(e, name) == getattr(wanted, name) for name in same)]
    return label, results[label]


def main_settings(results: dict[str, Comparison]) -> dict[str, tuple[str, Comparison]]:
    """The four settings where TRT as the paper runs it meets a baseline: claim text -> (label, result)."""
    return {"events-shape, T=4": _result(results), "events-shape, T=2": _result(results, 2),
            "digits, T=4": _result(results, dataset="digits"),
            "events-direction, T=4": _result(results, dataset="events-direction")}


def family(results: dict[str, Comparison], study: trt_sign.SignStudy | None) -> dict[str, PairedStat]:
    """Every paired test of the section by a key of its own: each row's Δ accuracy, NASFR of the main settings,
    the main row's train–test gap and per-layer firing rates, and the study's cells."""
    tests = {f"{label}|{ACCURACY}": result.paired[ACCURACY] for label, result in results.items()}
    tests.update({f"{label}|{NASFR}": result.paired[NASFR] for label, result in main_settings(results).values()})
    label, main = _result(results)
    tests.update({f"{label}|{name}": main.paired[name] for name in (GAP, *_layers(main))})
    for index, cell in enumerate(study.cells if study else ()):
        tests[f"cell {index}"] = cell.delta
    return tests


def _claim(claim: str, label: str, result: Comparison, metric: str, claimed: str,
           adjusted: Mapping[str, float | None], variant: str = "TRT", note: str = "") -> str:
    """A claim row: the measured sentence (with a TOST sentence where an accuracy row shows no evidence of a
    difference) and the verdict, both with the row's Holm-adjusted p."""
    stats, p = result.paired[metric], adjusted.get(f"{label}|{metric}")
    measured = _named(describe(metric, stats, adjusted_p=p), variant)
    found = bounds(stats)
    evidence = found is not None and (found[1] > 0 or found[2] < 0) and (p is None or p < ALPHA)
    if metric == ACCURACY and not evidence:
        measured += f"; {equivalence(stats, EQUIVALENCE_MARGIN, metric)}"
    _, low, high = required_bounds(stats, f"{label}: {metric}")
    verdict = claim_verdict(low, high, claimed, stats.n, adjusted_p=p)
    return f"| {claim} | {measured}{note} | {verdict} |"


def claims(results: dict[str, Comparison], adjusted: Mapping[str, float | None]) -> list[str]:
    """A verdict per paper claim from the measured rows (claim text, measured sentence, verdict); every baseline
    without TRT is the compute-matched one."""
    main = main_settings(results)
    shape4, shape2, digits = main["events-shape, T=4"], main["events-shape, T=2"], main["digits, T=4"]
    permutation = _result(results, base="permute")
    ablations = [_claim(f"{terms} improves accuracy on its own (events-shape, T=4; the method notes' pilot, not a "
                        "claim of the paper)", *_result(results, terms=terms), ACCURACY, "up", adjusted,
                        f"TRT ({terms})")
                 for terms in trt_table.TERMS if terms != "all"]
    firing = [_claim(f"v3: lower average firing rate (NASFR; {name})", *found, NASFR, "down", adjusted)
              for name, found in main.items()]
    gap_note = ("; the gap is training minus test accuracy, so where training accuracy saturates it mirrors Δ test "
                "accuracy: not separate evidence")
    return [
        "| paper's claim | measured here (TRT against the compute-matched baseline unless named) | verdict |",
        "|---|---|---|",
        "| 74.77% ImageNet top-1 with T = 2 | not measured (ImageNet is out of reach on a CPU) | — |",
        "| training-only: inference unchanged | the saved model is the plain network (no star head); with the same "
        "weights its outputs equal a model trained without TRT (tests/core/methods/test_trt.py) | "
        "holds by construction |",
        _claim("consistency with the time-reversed sample improves accuracy beyond its extra compute (events-shape, "
               "T=4)", *shape4, ACCURACY, "up", adjusted),
        _claim("large gains at low latency (events-shape, T=2)", *shape2, ACCURACY, "up", adjusted),
        _claim("static images: reversing the first layer's spikes improves accuracy (digits)", *digits, ACCURACY,
               "up", adjusted),
        _claim("v3: less overfitting (train–test gap falls; events-shape, T=4)", *shape4, GAP, "down",
               adjusted, note=gap_note),
        *firing,
        _claim("the reversal itself matters, not any reordering (reversal vs random permutation, both TRT; implied "
               "by the method, not stated)", *permutation, ACCURACY, "up", adjusted, "the reversal"),
        *ablations,
    ]


def tuning_lines(tuned: Mapping[Setting, Mapping[str, TunedArm]], trials: int) -> list[str]:
    """Each setting's tuning table (``tuning.tuning_table``) under its name."""
    lines = [f"Tuning (validation accuracy only, seed {', '.join(map(str, TUNE_SEEDS))}, apart from the reported "
             f"seeds; {trials} trials per arm, drawn from each arm's own settings):"]
    for (dataset, time_steps), arms in tuned.items():
        lines += ["", f"{dataset}, T = {time_steps}:", "", *tuning_table(arms)]
    return lines


def header(seeds: Sequence[int], budget: Budget) -> list[str]:
    """The section's heading and the paragraph that says what was run, tuned and tested."""
    events, digits = trt_table.EVENTS, trt_table.DIGITS
    return [
        "## TRT — temporal reversed training (Zuo et al., 2024)", "",
        f"{len(seeds)} paired seeds (the report's seeds topped up to at least {budget.min_seeds}, profile "
        f"{budget.name}). Events: conv {'-'.join(map(str, events.model.channels))} + fc "
        f"{'-'.join(map(str, events.model.hidden))}, {events.data.train_samples} training clips, "
        f"{events.data.test_samples} test clips, {events.training.epochs} epochs for TRT. Digits: MLP "
        f"{'-'.join(map(str, digits.model.hidden))}, direct encoding, {digits.data.train_samples} training images, "
        f"{digits.training.epochs} epochs for TRT. Both with the TRT group's neuron ({describe_neuron('trt')}; the "
        "defaults are hard reset and atan). **Compute-matched**: TRT runs two branches a step, so every baseline "
        f"without TRT trains {trt_table.COMPUTE_FACTOR}× the epochs; every \"vs off\" row is against that baseline. "
        "**Tuned**: per dataset and T, the baseline over its learning rate and TRT over its learning rate, λ and τ, "
        f"the same {budget.trials} trials each, chosen on validation accuracy (tables below); every run reports its "
        "best-validation epoch. TRT: L = CE(O) + a·CE(Ô) + λ·τ²·KL(p_τ(O) ‖ p_τ(Ô)) + b·CE(star head(r ⊙ r̂)), "
        "a = b = 1; event clips are reversed at the input, digits after the first spiking layer. Accuracy is that "
        "of the original path (inference is unchanged). Reversal agreement: fraction of test samples predicted "
        "the same on the original and the time-reversed sample, measured for both arms. Direction labels: the "
        "paper's reversal (frames flipped along T, polarity kept) is not a playback in reverse (that also swaps "
        "ON and OFF, `data.events.reverse_events`), and a moving edge's ON/OFF layout still shows its direction; "
        "the playback row trains TRT with the clip really played backwards (`--trt-perturbation playback`), "
        "where the invariance TRT asks for contradicts the labels. The ablation rows keep one of TRT's added terms "
        "and switch the other two off (weight 0). Statistics: p is the paired t-test's, Holm-adjusted over every "
        "test of this section (in brackets); MDE is the difference these seeds find with 80% power; \"equivalent\" "
        f"needs a TOST within ±{EQUIVALENCE_MARGIN * 100:g} point.", ""]


def trt_section(seeds: list[int], workers: int | Executor, cache: RunCache | None, log: Callable[[str], None],
                counter: RunCounter, budget: Budget = FULL) -> str:
    """Tuned TRT against its tuned, compute-matched baseline and controls on ``max(len(seeds), budget.min_seeds)``
    paired seeds, the factorial study, and verdicts with Holm's correction over the section."""
    seeds = topped_up(seeds, budget.min_seeds)
    log(f"TRT: tuning {len(settings())} settings, {budget.trials} trials per arm")
    tuned = tune_settings(seeds, budget.trials, workers, cache, counter)
    log("TRT: tuned arms on the report's seeds")
    results = run_rows(rows(tuned), seeds, workers, cache, counter)
    log("TRT: what the size of its effect depends on (factorial study)")
    study_seeds, data_seeds = sign_pairs(budget)
    study = trt_sign.run_study(study_seeds, data_seeds, trt_sign.BASE, trt_sign.FACTORS, workers=workers,
                               cache=cache, progress=counter)
    tests = family(results, study)
    adjusted = holm_family(tests)
    main_label, main = _result(results)
    by_metric = {key.split("|", 1)[1]: p for key, p in adjusted.items() if key.startswith(f"{main_label}|")}
    table = [
        "| comparison (base → variant) | test accuracy % | Δ accuracy, points [95% CI] | p (Holm) | MDE, points | "
        "wins | NASFR (Δ [95% CI]) | reversal agreement % | train–test gap % | s per run (base / variant) |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *[table_row(label, result, adjusted[f"{label}|{ACCURACY}"]) for label, result in results.items()]]
    convergence = ["", "Convergence (validation accuracy flat over the last epochs, `experiments.convergence`):", "",
                   "| comparison | base arm | variant arm |", "|---|---|---|",
                   *[convergence_row(label, result) for label, result in results.items()]]
    per_layer = ["", f"Firing rate per layer, {main_label} (reported whichever way it moves):", "",
                 "| layer | off → TRT | Δ [95% CI] | reading |", "|---|---|---|---|", *layer_rates(main, by_metric)]
    return "\n".join(header(seeds, budget) + tuning_lines(tuned, budget.trials) + ["", f"{len(tests)} tests in this "
                     "section's Holm family.", ""] + table + convergence + per_layer
                     + ["", *claims(results, adjusted), *sign_study(study, adjusted, len(seeds))])
