"""Plain-language verdicts of paired differences, e.g. "lowered NASFR by 0.08 [0.06, 0.10], 5/5 seeds, p = 0.001".

A difference counts as evidence only when its 95% confidence interval excludes zero and, within a family of tests
(a report section, the metrics of one comparison), its Holm-adjusted p-value is below 0.05 (``holm_family``).
Otherwise the sentence says "no evidence of a difference", gives the interval, and adds the minimum detectable
effect (``experiments.stats.MDE_LATEX``): how large a difference these seeds would have found with 80% power, so
"no evidence" is never read as "no effect". Differences that are all exactly 0 read "no change in any of n runs".
"Comparable" is a separate claim, made only by an equivalence test with a stated margin (``equivalence``, TOST);
epochs-to-target reads "reached by epoch E in m of n runs" (``reached_by``), never a mean over runs that did not
reach it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ..experiments.stats import ALPHA, POWER, holm, tost_summary
from ..results.comparison import MeanCI, PairedStat


class MetricStyle(NamedTuple):
    label: str
    scale: float          # multiply raw values by this for display (fractions -> points)
    unit: str
    digits: int
    better: str | None = None     # "higher" or "lower" when one direction is plainly better, else None


METRIC_STYLES = {
    "test_accuracy": MetricStyle("test accuracy", 100.0, " points", 1, "higher"),
    "nasfr": MetricStyle("NASFR", 1.0, "", 4),
    "spikes_per_sample": MetricStyle("spikes per sample", 1.0, "", 0, "lower"),
    "silent_fraction": MetricStyle("silent neurons", 100.0, " points", 1),
    "test_loss": MetricStyle("test loss", 1.0, "", 3, "lower"),
    "wall_seconds": MetricStyle("training time", 1.0, " s", 2, "lower"),
    "decision_step_mean": MetricStyle("mean decision step", 1.0, " steps", 2, "lower"),
    "decision_step_median": MetricStyle("median decision step", 1.0, " steps", 1, "lower"),
    "no_decision_fraction": MetricStyle("samples without a decision", 100.0, " points", 1, "lower"),
    "epochs_to_target": MetricStyle("epochs to the target accuracy", 1.0, " epochs", 1, "lower"),
    "reversal_agreement": MetricStyle("agreement of original and time-reversed predictions", 100.0, " points", 1,
                                      "higher"),
    "reversal_kl": MetricStyle("KL between original and time-reversed outputs", 1.0, "", 3, "lower"),
    "train_test_gap": MetricStyle("train-test accuracy gap", 100.0, " points", 1, "lower"),
    "cost.energy_pj": MetricStyle("energy per sample", 1e-3, " nJ", 2, "lower"),     # metrics.cost, priced
    "cost.synaptic_ops": MetricStyle("synaptic operations per sample", 1.0, "", 0, "lower"),
}
ROBUSTNESS_STYLES = {     # robustness.<kind>.<level>: test accuracy under that perturbation
    "jitter": "accuracy under input jitter sigma = {} steps",
    "deletion": "accuracy with input spikes deleted at p = {}",
    "weight_noise": "accuracy under weight noise sigma = {}",
}
HEADLINE_METRICS = ("test_accuracy", "nasfr", "spikes_per_sample", "cost.energy_pj", "silent_fraction", "wall_seconds")


def style_of(metric: str) -> MetricStyle:
    """How a metric is named and scaled; ``robustness.<kind>.<level>`` reads as an accuracy, per-layer
    metrics (``layer_firing_rates.fc1``) as rates."""
    if metric in METRIC_STYLES:
        return METRIC_STYLES[metric]
    parts = metric.split(".", 2)
    if len(parts) == 3 and parts[0] == "robustness" and parts[1] in ROBUSTNESS_STYLES:
        return MetricStyle(ROBUSTNESS_STYLES[parts[1]].format(parts[2]), 100.0, " points", 1, "higher")
    family, _, layer = metric.partition(".")
    return MetricStyle(f"{family.replace('_', ' ')} of {layer}" if layer else family.replace("_", " "), 1.0, "", 4)


def _number(value: float, style: MetricStyle, signed: bool = False) -> str:
    return f"{value * style.scale:{'+' if signed else ''}.{style.digits}f}"


def interval(stats: PairedStat, style: MetricStyle) -> str:
    if stats.ci_low is None or stats.ci_high is None:
        raise ValueError(f"the statistic over {stats.n} pair(s) has no confidence interval to show")
    return f"[{_number(stats.ci_low, style, True)}, {_number(stats.ci_high, style, True)}]"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def detectable(metric: str, stats: PairedStat) -> str | None:
    """"±0.9 points": the minimum detectable effect of these pairs in the metric's units (None without one)."""
    if stats.mde is None:
        return None
    style = style_of(metric)
    return f"±{_number(stats.mde, style)}{style.unit}"


def _power_clause(metric: str, stats: PairedStat) -> str:
    mde = detectable(metric, stats)
    return "" if mde is None else (f"; these {stats.n} seeds detect a difference of {mde} with "
                                   f"{POWER:.0%} power")


def describe(metric: str, stats: PairedStat, *, adjusted_p: float | None = None) -> str:
    """One sentence about ``variant - base`` for ``metric`` from its paired statistics; ``adjusted_p`` is the
    row's Holm-adjusted p within its family (``holm_family``), None when the row stands alone."""
    style = style_of(metric)
    n = stats.n
    mean, ci_low, ci_high = stats.mean, stats.ci_low, stats.ci_high
    if n < 2 or mean is None or ci_low is None or ci_high is None:
        return f"{style.label}: {n} paired seed(s), too few for a confidence interval"
    if stats.ties == n:
        return f"{style.label}: no change in any of {n} runs"
    tests = "" if stats.p_value is None else f", {_p(stats.p_value)}"
    tests += "" if adjusted_p is None else f", Holm-adjusted {_p(adjusted_p)}"
    excludes_zero = ci_low > 0 or ci_high < 0
    if excludes_zero and (adjusted_p is None or adjusted_p < ALPHA):
        direction, agreeing = ("raised", stats.wins) if mean > 0 else ("lowered", stats.losses)
        size = _number(abs(mean), style) + style.unit
        low, high = sorted(abs(bound) for bound in (ci_low, ci_high))
        bounds = f"[{_number(low, style)}, {_number(high, style)}]"
        return f"the variant {direction} {style.label} by {size} {bounds}, {agreeing}/{n} seeds{tests}"
    why = " after Holm's correction" if excludes_zero else ""
    return (f"{style.label} change {_number(mean, style, True)}{style.unit} {interval(stats, style)}{tests}: "
            f"no evidence of a difference{why} ({n} seeds){_power_clause(metric, stats)}")


def holm_family(stats_by_label: Mapping[str, PairedStat]) -> dict[str, float | None]:
    """Holm-adjusted p-value of each row of one family of tests (``experiments.stats.holm`` over the rows'
    ``p_value``); None for a row without a p-value (fewer than 2 pairs, or a result saved before p-values)."""
    labels = list(stats_by_label)
    return dict(zip(labels, holm([stats_by_label[label].p_value for label in labels])))


def verdict(paired: Mapping[str, PairedStat], metrics: tuple[str, ...] = HEADLINE_METRICS,
            adjusted: Mapping[str, float | None] | None = None) -> list[str]:
    """Sentences for the headline metrics present in a comparison's paired statistics (``Comparison.paired``);
    ``adjusted``: each metric's Holm-adjusted p (``holm_family`` over the metrics shown), None for raw p only."""
    return [describe(metric, paired[metric], adjusted_p=None if adjusted is None else adjusted.get(metric))
            for metric in metrics if metric in paired]


def equivalence(stats: MeanCI, margin: float, metric: str) -> str:
    """Whether ``variant - base`` is equivalent to 0 within ±``margin`` (raw units, as the metric is stored) by two
    one-sided t-tests at alpha 0.05 (``experiments.stats``, TOST): equivalent exactly when the 90% interval of the
    mean difference lies inside ±margin. The sentence states the margin in the metric's units."""
    style = style_of(metric)
    bound = f"±{_number(margin, style)}{style.unit}"
    too_few = f"{style.label}: {stats.n} paired seed(s), too few to test equivalence within {bound}"
    if stats.mean is None:          # no pairs at all: no mean difference to test
        return too_few
    p, low, high = tost_summary(stats.mean, stats.sd, stats.n, margin)
    if p is None or low is None or high is None:        # all None together: fewer than 2 pairs
        return too_few
    if p < ALPHA:
        return f"{style.label} equivalent within {bound} (TOST {_p(p)}, {stats.n} seeds)"
    reach = f"[{_number(low, style, True)}, {_number(high, style, True)}]"
    return (f"{style.label} not shown equivalent within {bound} (TOST {_p(p)}, {stats.n} seeds); the 90% interval "
            f"{reach} reaches past the margin")


def reached_by(epochs: Sequence[int | None], max_epochs: int) -> str:
    """"reached by epoch E in m of n runs": E the latest epoch among the m runs that reached the target (each
    entry a run's ``epochs_to_target``), the other n - m censored (not within ``max_epochs``): no mean is taken
    over runs that never reached it."""
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
        raise ValueError(f"max_epochs={max_epochs!r} is not valid; allowed: an integer >= 1")
    bad = [epoch for epoch in epochs if epoch is not None and not (isinstance(epoch, int) and
                                                                     1 <= epoch <= max_epochs)]
    if not epochs or bad:
        raise ValueError(f"epochs={list(epochs)!r} are not valid; allowed: 1 or more entries, each an epoch in "
                         f"1..{max_epochs} or None (the run did not reach the target)")
    reached = [epoch for epoch in epochs if epoch is not None]
    n = len(epochs)
    runs = f"{n} run{'s' * (n != 1)}"
    if not reached:
        return f"not reached within {max_epochs} epochs in any of {runs}"
    text = f"reached by epoch {max(reached)} in {len(reached)} of {runs}"
    return text if len(reached) == n else f"{text} (the other {n - len(reached)} not within {max_epochs} epochs)"
