"""The TTFS section's claim rows: per-seed values of both arms, the paired difference and its verdict.

- up/down claims use ``report.parts.claim_verdict``: reproduced when the 95% CI lies on the claimed side *and* the
  row's Holm-adjusted p (``apply_holm``, over every tested row of the section) is below 0.05;
- "similar"/"comparable" claims are an equivalence test (TOST, ``experiments.stats.tost_summary``) with a margin of
  ``SIMILAR_MARGIN`` of the TTFS mean: similar when TOST rejects a difference of the margin or more, not similar
  when the 95% CI lies wholly outside the margin, "not shown similar" otherwise;
- every row shows the paired t-test's raw and Holm-adjusted p and the minimum detectable effect at 80% power
  (``experiments.stats.MDE_LATEX``), so a "mixed" row says how large an effect the seeds could have missed;
- differences that are all exactly 0 read "no change in any of n runs";
- epochs to the target accuracy are censored (a run may never reach it), so that row gives ``verdict.reached_by``
  per arm and counts the seeds where relaxed got there first, never a mean; the convergence claim is tested by the
  accuracy after an early epoch instead.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from ..experiments.convergence import TOLERANCE, WINDOW, convergence_note
from ..experiments.stats import ALPHA, mean_ci, paired, tost_summary
from ..results.comparison import Comparison, MeanCI, PairedStat
from ..results.run_result import RunResult
from .parts import bounds, claim_verdict, metrics_of, required_bounds
from .verdict import holm_family, reached_by

SIMILAR_MARGIN = 0.25                                       # of the TTFS mean
ACCURACY_MARGIN = 0.02                                      # 2 points: the margin of an "as accurate" sentence
HEADER = ["| paper's claim (relaxed vs TTFS) | measured | TTFS | relaxed | relaxed − TTFS [95% CI] | "
          "p (Holm-adjusted) | MDE, 80% power | seeds where relaxed is better | verdict |",
          "|---|---|---|---|---|---|---|---|---|"]


class Claim:
    """One row of the claims table: per-seed values of both arms and how the claim reads them. ``adjusted_p`` is
    the row's Holm-adjusted p within the section (``apply_holm``; None until then)."""

    def __init__(self, claim: str, measure: str, ttfs: Sequence[float], relaxed: Sequence[float], claimed: str,
                 better: str, fmt: Callable[[float], str], diff_fmt: Callable[[float], str]):
        self.claim, self.measure, self.claimed, self.better = claim, measure, claimed, better
        self.ttfs, self.relaxed = MeanCI.from_json(mean_ci(ttfs)), MeanCI.from_json(mean_ci(relaxed))
        self.diff = PairedStat.from_json(paired(ttfs, relaxed))
        self.fmt, self.diff_fmt = fmt, diff_fmt
        self.adjusted_p: float | None = None

    @property
    def label(self) -> str:
        return f"{self.claim}: {self.measure}"

    @property
    def verdict(self) -> str:
        d = self.diff
        found = bounds(d)
        if found is None:
            return "too few seeds for a CI"
        _, low, high = found
        if self.claimed in ("up", "down"):
            return claim_verdict(low, high, self.claimed, d.n, adjusted_p=self.adjusted_p)
        if d.ties == d.n:
            return f"{'no claim; ' if self.claimed == 'none' else 'similar: '}no change in any of {d.n} runs" + (
                "" if self.claimed == "none" else ": reproduced")
        if self.claimed == "none":
            return "no claim; " + (f"relaxed {'higher' if low > 0 else 'lower'}" if self.significant
                                   else "no evidence of a difference")
        return self.similar_verdict()

    @property
    def significant(self) -> bool:
        """The CI excludes 0 and the Holm-adjusted p (when set) is below 0.05."""
        found = bounds(self.diff)
        apart = found is not None and (found[1] > 0 or found[2] < 0)
        return apart and (self.adjusted_p is None or self.adjusted_p < ALPHA)

    def similar_verdict(self) -> str:
        """TOST at ±``SIMILAR_MARGIN`` of the TTFS mean, and the difference as a share of that mean (a row with a CI
        of the difference: ValueError without one)."""
        d = self.diff
        mean, low, high = required_bounds(d, f"{self.label}: relaxed − TTFS")
        ttfs = self.ttfs.mean
        if ttfs is None:        # a CI of the difference needs 2 or more pairs, so TTFS has values
            raise ValueError(f"{self.label}: TTFS has no mean to set the similarity margin by")
        margin = SIMILAR_MARGIN * abs(ttfs)
        share = "" if not ttfs else f"relaxed {mean / abs(ttfs):+.0%} of TTFS; "
        bound = f"±{self.diff_fmt(margin).lstrip('+')} ({SIMILAR_MARGIN:.0%} of TTFS)"
        test = tost_summary(mean, d.sd, d.n, margin) if margin > 0 else None
        if test is not None and test.p is not None and test.p < ALPHA:
            return f"similar: {share}equivalent within {bound}, TOST p = {test.p:.3f}: reproduced"
        if low > margin or high < -margin:
            return f"not similar: {share}the 95% CI lies outside {bound}: not reproduced"
        shown = "" if test is None or test.p is None else f", TOST p = {test.p:.3f}"
        return f"not shown similar: {share}not equivalent within {bound}{shown}"

    @property
    def disagrees(self) -> bool:
        return "not reproduced" in self.verdict

    def row(self) -> str:
        d = self.diff
        better = d.wins if self.better == "higher" else d.losses
        found = bounds(d)
        interval = "" if found is None else f" [{self.diff_fmt(found[1])}, {self.diff_fmt(found[2])}]"
        mde = "—" if d.mde is None else f"±{self.diff_fmt(d.mde).lstrip('+')}"
        return (f"| {self.claim} | {self.measure} | {shown(self.fmt, self.ttfs.mean)} | "
                f"{shown(self.fmt, self.relaxed.mean)} | {shown(self.diff_fmt, d.mean)}{interval} | "
                f"{p_cell(d.p_value, self.adjusted_p)} | {mde} | {better}/{d.n} | {self.verdict} |")


def apply_holm(rows: Sequence[Claim]) -> None:
    """Set every row's Holm-adjusted p over the family ``rows`` (one report section; ``verdict.holm_family``)."""
    labels = [f"{index}. {row.label}" for index, row in enumerate(rows)]
    adjusted = holm_family(dict(zip(labels, (row.diff for row in rows))))
    for label, row in zip(labels, rows):
        row.adjusted_p = adjusted[label]


def p_cell(raw: float | None, adjusted: float | None) -> str:
    if raw is None:
        return "—"
    return f"{raw:.3f}" + ("" if adjusted is None else f" ({adjusted:.3f})")


def reached_row(result: Comparison, target: float, epochs: int) -> str:
    """The epochs-to-target row: per arm "reached by epoch E in m of n runs" over the seeds where both arms ran,
    and the seeds where relaxed reached the target first (a run that never reached it counts as later than any
    that did; two such runs tie)."""
    pairs = [(metrics_of(pair.base).epochs_to_target, metrics_of(pair.variant).epochs_to_target)
             for pair in result.per_seed if pair.base.ok and pair.variant.ok]
    if not pairs:
        return f"| faster convergence | epochs to {target:.0%} test accuracy | — | — | — | — | — | — | no runs |"
    def at(epoch: int | None) -> int:
        return epochs + 1 if epoch is None else epoch

    earlier, later = (sum(at(v) < at(b) for b, v in pairs), sum(at(v) > at(b) for b, v in pairs))
    ttfs, relaxed = (reached_by([pair[side] for pair in pairs], epochs) for side in (0, 1))
    return (f"| faster convergence | epochs to {target:.0%} test accuracy (censored: no mean) | {ttfs} | {relaxed} | "
            f"— | — | — | {earlier}/{len(pairs)} | not tested (censored); relaxed first on {earlier}, TTFS first "
            f"on {later} of {len(pairs)} seeds; see the early-epoch accuracy row |")


def convergence_line(result: Comparison) -> str:
    """Whether each arm's runs had converged (``experiments.convergence``), as a sentence under a claims table."""
    notes = {"TTFS": convergence_note([pair.base for pair in result.per_seed]),
             "relaxed": convergence_note([pair.variant for pair in result.per_seed])}
    return (f"Convergence (validation accuracy rose by at most {TOLERANCE:.0%} over the last {WINDOW} epochs; a run "
            "that still rose is not converged, and its arm's row may understate it): "
            + "; ".join(f"{name} {note}" for name, note in notes.items()) + ".")


def shown(fmt: Callable[[float], str], value: float | None) -> str:
    return "—" if value is None else fmt(value)


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def points(value: float) -> str:
    return f"{100 * value:+.1f}"


def number(digits: int, signed: bool = False) -> Callable[[float], str]:
    return lambda value: f"{value:{'+' if signed else ''}.{digits}f}"


def failures(result: Comparison) -> list[str]:
    """A paragraph about a ``compare`` result's failed runs and their errors; none when every run succeeded."""
    errors = {run.error for pair in result.per_seed for run in (pair.base, pair.variant) if run.error is not None}
    return ["", f"{result.failed_runs} run(s) failed: {'; '.join(sorted(errors))}"] if errors else []


def paired_values(result: Comparison, read: Callable[[RunResult], float | None]) -> tuple[list[float], list[float]]:
    """``read(run)`` of base and variant for every seed where both succeeded and both have a value (a seed where
    either arm has none, e.g. no decision at all, is left out)."""
    pairs = [(read(pair.base), read(pair.variant)) for pair in result.per_seed if pair.base.ok and pair.variant.ok]
    measured = [(b, v) for b, v in pairs if b is not None and v is not None]
    return [b for b, _ in measured], [v for _, v in measured]
