"""Plain-language verdicts of paired differences, e.g. "lowered NASFR by 0.08 [0.06, 0.10], 5/5 seeds".

A difference counts as evidence only when its 95% confidence interval excludes zero; otherwise
the sentence says "no evidence of a difference" and still gives the interval, so a reader sees
how large an effect the seeds could have hidden.
"""
from __future__ import annotations

from typing import NamedTuple

from ..results.comparison import PairedStat


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
}
ROBUSTNESS_STYLES = {     # robustness.<kind>.<level>: test accuracy under that perturbation
    "jitter": "accuracy under input jitter sigma = {} steps",
    "deletion": "accuracy with input spikes deleted at p = {}",
    "weight_noise": "accuracy under weight noise sigma = {}",
}
HEADLINE_METRICS = ("test_accuracy", "nasfr", "spikes_per_sample", "silent_fraction", "wall_seconds")


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
    return f"[{_number(stats.ci_low, style, True)}, {_number(stats.ci_high, style, True)}]"


def describe(metric: str, stats: PairedStat) -> str:
    """One sentence about ``variant - base`` for ``metric`` from its paired statistics."""
    style = style_of(metric)
    n = stats.n
    if n < 2 or stats.ci_low is None:
        return f"{style.label}: {n} paired seed(s), too few for a confidence interval"
    if stats.ci_low > 0 or stats.ci_high < 0:
        direction, agreeing = ("raised", stats.wins) if stats.mean > 0 else ("lowered", stats.losses)
        size = _number(abs(stats.mean), style) + style.unit
        low, high = sorted(abs(bound) for bound in (stats.ci_low, stats.ci_high))
        bounds = f"[{_number(low, style)}, {_number(high, style)}]"
        return f"the variant {direction} {style.label} by {size} {bounds}, {agreeing}/{n} seeds"
    return (f"{style.label} change {_number(stats.mean, style, True)}{style.unit} {interval(stats, style)}: "
            f"no evidence of a difference ({n} seeds)")


def verdict(paired: dict[str, PairedStat], metrics: tuple[str, ...] = HEADLINE_METRICS) -> list[str]:
    """Sentences for the headline metrics present in a comparison's paired statistics (``Comparison.paired``)."""
    return [describe(metric, paired[metric]) for metric in metrics if metric in paired]
