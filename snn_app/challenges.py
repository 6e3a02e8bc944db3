"""The guided challenges' goals, checked by code from each page's own result, and the banner that says so.

A challenge (``pages.CHALLENGES``) opens its page with a banner on top (``banner``, drawn by ``app.py`` before the
page runs). Once the page has its result, it hands it to ``show`` through the challenge's check: ``halve_rate``
(Compare's comparison), ``ttfs_k`` (the TTFS page's K sweep), ``trt_direction`` (the TRT page's sample both ways)
and ``small_net`` (Train & watch's run). A check returns ``Progress`` (None before any attempt), and the banner
becomes "Goal reached ✓" with the numbers that met the goal, or the goal with how far the attempt is. The rule
each check applies is the one its goal text states (``pages.CHALLENGES``), and its thresholds are named below.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import streamlit as st

from snn_core.config.run_config import RunConfig
from snn_core.data import DATASETS
from snn_core.data.events import REVERSED_DIRECTION
from snn_core.experiments.compare import paired_table
from snn_core.report.parts import ACCURACY, NASFR
from snn_core.results import Comparison, RunResult
from snn_core.results.comparison import Sweep
from snn_core.training.trainer import EpochRecord

from . import pages
from .text import escape_markdown

REACHED = "Goal reached\u00a0✓"  # the banner's words for a met goal (a no-break space keeps the tick on the line)
SLOT = "challenge_banner"      # session key: (challenge key, this run's banner placeholder), set by ``banner``
RATE_FACTOR = 0.5              # halve-rate: the variant's mean NASFR at most this share of the base's
ACCURACY_DROP = 0.01           # halve-rate: mean paired test-accuracy change at least -1 point
LEARNED_MARGIN = 0.20          # halve-rate: the base's mean test accuracy at least chance + 20 points
SMALL_WIDTH = 16               # small-net: every hidden layer at most this many neurons
SMALL_ACCURACY = 0.90          # small-net: test accuracy of the latest finished epoch
SMALL_TEST_SAMPLES = 200       # small-net: measured on at least this many test samples (luck on a few does not count)
TRT_DATASET = "events-direction"
SPIKES = "spikes_per_sample"   # the results-table column of a run's spikes per test sample
ORIGINAL, REVERSED = "original", "reversed"     # the two ways of a sample (``snn_app.trt.WAYS``)


class SampleBothWays(Protocol):
    """What the TRT page shows of one test sample (``snn_app.trt.BothWays``): its label, the class names, and the
    network's output probabilities on the sample and on the sample reversed in time."""
    label: int
    class_names: tuple[str, ...]
    probabilities: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Progress:
    """How far an attempt at a challenge is: whether it met the goal, and the numbers that say so (Markdown)."""
    reached: bool
    detail: str


def chance(cfg: RunConfig) -> float | None:
    """The accuracy of guessing, 1 / classes, for ``cfg``'s dataset; None where the classes come from a folder."""
    classes = DATASETS[cfg.data.dataset].n_classes
    return 1 / classes if classes else None


def halve_rate(result: Comparison | None) -> Progress | None:
    """Reached when the comparison (finished, >= 2 paired seeds) has a base that learned (mean test accuracy >=
    chance + ``LEARNED_MARGIN``), a variant mean NASFR <= ``RATE_FACTOR`` x the base's, and a mean paired accuracy
    change >= -``ACCURACY_DROP``. None before a comparison has a finished pair."""
    if result is None or not result.seeds or NASFR not in result.paired:
        return None
    base_rate, rate = result.base_summary[NASFR].mean, result.variant_summary[NASFR].mean
    base_accuracy, change = result.base_summary[ACCURACY].mean, result.paired[ACCURACY].mean
    ratio = rate / base_rate if base_rate else float("inf")
    held = sum(pair.variant.metrics.nasfr <= RATE_FACTOR * pair.base.metrics.nasfr and
               pair.variant.metrics.test_accuracy - pair.base.metrics.test_accuracy >= -ACCURACY_DROP
               for pair in result.per_seed if pair.base.metrics and pair.variant.metrics)
    numbers = (f"NASFR {base_rate:.4f} → {rate:.4f} (×{ratio:.2f}; the goal: ×{RATE_FACTOR:.2f} or less), test "
               f"accuracy {_points(change)} points (the goal: {_points(-ACCURACY_DROP)} or better), over "
               f"{len(result.seeds)} seeds; both held on {held} of {len(result.seeds)} seeds")
    floor = chance(result.base)
    if floor is not None and base_accuracy < floor + LEARNED_MARGIN:
        return Progress(False, f"the base reached {base_accuracy:.1%} test accuracy, and guessing gets {floor:.0%}: "
                               f"it must reach {floor + LEARNED_MARGIN:.0%} before halving its rate means anything "
                               "(more epochs or training samples, a larger lr). " + numbers + ".")
    if result.unfinished_runs or len(result.seeds) < 2:
        return Progress(False, f"{numbers}; the goal counts a finished comparison of at least 2 seeds.")
    return Progress(ratio <= RATE_FACTOR and change >= -ACCURACY_DROP, numbers + ".")


def ttfs_k(sweep: Sweep | None) -> Progress | None:
    """Reached when the K sweep has finished with >= 2 paired seeds per K: the answer is the smallest cap K from
    which on no K's accuracy is clearly below K = ∞, "clearly" meaning the 95% CI of the paired difference
    (K − ∞, seed by seed) lies below 0. None before any run has finished."""
    if sweep is None or not any(point.runs for point in sweep.points):
        return None
    runs = {point.value: {run.seed: run for run in point.runs if run.ok and run.metrics is not None}
            for point in sweep.points}
    if 0 not in runs:
        return Progress(False, "this sweep has no K = ∞ point to compare with.")
    if sweep.unfinished_runs:
        left = sweep.unfinished_runs
        return Progress(False, f"the sweep has {left} run{'s' * (left != 1)} still to finish.")
    differences = {}
    for k in sorted(k for k in runs if k):
        seeds = sorted(set(runs[k]) & set(runs[0]))
        if len(seeds) < 2:
            return Progress(False, f"K = {k} has {len(seeds)} seed(s) paired with K = ∞; the goal needs 2 or more.")
        differences[k] = paired_table([runs[0][s] for s in seeds], [runs[k][s] for s in seeds])[ACCURACY]
    found = 0                                   # 0: every finite K is clearly below unlimited spiking
    for k in sorted(differences, reverse=True):
        if differences[k].ci_high < 0:
            break
        found = k
    spikes = {point.value: point.summary[SPIKES].mean for point in sweep.points}
    at_inf = f"{_mean(runs[0]):.1%} at K = ∞, {spikes[0]:.0f} spikes per sample"
    if not found:
        return Progress(True, f"every cap tested is clearly below unlimited spiking, so the answer is K = ∞ "
                              f"({at_inf}).")
    d = differences[found]
    return Progress(True, f"from **K = {found}** on, the accuracy is no longer clearly below K = ∞: "
                          f"{_mean(runs[found]):.1%} against {at_inf} (difference {_points(d.mean)} points, "
                          f"95% CI [{_points(d.ci_low)}, {_points(d.ci_high)}], {d.n} seeds); "
                          f"K = {found} costs {spikes[found]:.0f} spikes per sample.")


def trt_direction(cfg: RunConfig | None, view: SampleBothWays | None) -> Progress | None:
    """Reached when the sample shown both ways comes from a network trained with TRT on events-direction; the
    numbers are its answers on the clip and on the clip reversed. None before a sample is shown."""
    if cfg is None or view is None:
        return None
    names = [escape_markdown(name) for name in view.class_names]
    forward, backward = (view.probabilities[way] for way in (ORIGINAL, REVERSED))
    said = (f"it answers **{names[forward.argmax()]}** ({forward.max():.0%}) on this {names[view.label]} clip and "
            f"**{names[backward.argmax()]}** ({backward.max():.0%}) on it played backwards")
    if cfg.data.dataset != TRT_DATASET or cfg.methods.trt != "on":
        return Progress(False, f"the network shown was trained on {cfg.data.dataset} with TRT {cfg.methods.trt}; "
                               f"the goal needs {TRT_DATASET} with TRT on.")
    return Progress(True, f"trained with TRT on {TRT_DATASET}, {said}, which really moves "
                          f"**{names[REVERSED_DIRECTION[view.label]]}**.")


def small_net(cfg: RunConfig | None, history: Sequence[EpochRecord]) -> Progress | None:
    """Reached when a run on digits whose hidden layers all have <= ``SMALL_WIDTH`` neurons (an MLP) ends its
    latest finished epoch at >= ``SMALL_ACCURACY`` test accuracy on >= ``SMALL_TEST_SAMPLES`` samples. None
    before an epoch has finished."""
    if cfg is None or not history:
        return None
    model, last = cfg.model, history[-1]
    widest = max(model.hidden, default=0)
    numbers = (f"epoch {last.epoch + 1}: {last.test_accuracy:.1%} test accuracy with hidden layer"
               f"{'s' * (len(model.hidden) > 1)} {', '.join(map(str, model.hidden)) or 'none'}")
    if cfg.data.dataset != "digits" or model.arch != "mlp" or cfg.data.test_samples < SMALL_TEST_SAMPLES:
        return Progress(False, f"{numbers}; the goal counts an MLP on digits tested on at least "
                               f"{SMALL_TEST_SAMPLES} samples.")
    return Progress(widest <= SMALL_WIDTH and last.test_accuracy >= SMALL_ACCURACY,
                    f"{numbers} (the goal: {SMALL_ACCURACY:.0%} or more, every hidden layer ≤ {SMALL_WIDTH}).")


def _mean(by_seed: dict[int, RunResult]) -> float:
    """The mean test accuracy of runs by seed."""
    return sum(run.metrics.test_accuracy for run in by_seed.values()) / len(by_seed)


def _points(change: float) -> str:
    """An accuracy change in points with its sign: -0.009 -> "−0.9"."""
    return f"{change * 100:+.1f}".replace("-", "−")


def banner(page_title: str) -> None:
    """The goal of the challenge the user opened from Home, on its page (titled ``page_title``), until they close
    it; drawn in a placeholder that ``show`` fills again once the page has its result (the same script run)."""
    st.session_state[SLOT] = None
    key = st.session_state.get("challenge")
    if key is None:
        return
    item = pages.challenge(key)
    if pages.page(item.page).title != page_title:
        return
    slot = st.empty()
    st.session_state[SLOT] = (key, slot)
    _draw(slot, item, None)
    if st.button("Close the challenge", key="close_challenge"):
        st.session_state.challenge = None
        st.rerun()


def show(key: str, progress: Progress | None) -> None:
    """Redraw challenge ``key``'s banner with ``progress`` (a check's answer for the page's result), when that
    challenge's banner is on this page."""
    held = st.session_state.get(SLOT)
    if held is not None and held[0] == key and progress is not None:
        _draw(held[1], pages.challenge(key), progress)


def _draw(slot, item: pages.Challenge, progress: Progress | None) -> None:
    head = f"**Challenge: {item.title}.**"
    if progress is not None and progress.reached:
        slot.success(f"{head} **{REACHED}**: {progress.detail}", icon=":material/emoji_events:")
    elif progress is not None:
        slot.info(f"{head} {item.goal}\n\n**Your attempt so far:** {progress.detail}", icon=":material/flag:")
    else:
        slot.info(f"{head} {item.goal}", icon=":material/flag:")
