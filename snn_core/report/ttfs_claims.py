"""The TTFS section's claim rows: per-seed values of both arms, the paired difference and its verdict.

- up/down claims use ``report.parts.claim_verdict`` (reproduced when the CI lies on the claimed side);
- "similar"/"comparable" claims are judged against an equivalence margin of ``SIMILAR_MARGIN`` of the
  TTFS mean: similar when the whole CI of the difference lies inside it, not similar when it lies
  wholly outside, undecided otherwise.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from ..experiments.stats import mean_ci, paired
from ..results.comparison import Comparison, MeanCI, PairedStat
from ..results.run_result import RunResult
from .parts import claim_verdict

SIMILAR_MARGIN = 0.25                                       # of the TTFS mean


class Claim:
    """One row of the claims table: per-seed values of both arms and how the claim reads them."""

    def __init__(self, claim: str, measure: str, ttfs: Sequence[float], relaxed: Sequence[float], claimed: str,
                 better: str, fmt: Callable[[float], str], diff_fmt: Callable[[float], str]):
        self.claim, self.measure, self.claimed, self.better = claim, measure, claimed, better
        self.ttfs, self.relaxed = MeanCI.from_json(mean_ci(ttfs)), MeanCI.from_json(mean_ci(relaxed))
        self.diff = PairedStat.from_json(paired(ttfs, relaxed))
        self.fmt, self.diff_fmt = fmt, diff_fmt

    @property
    def verdict(self) -> str:
        low, high = self.diff.ci_low, self.diff.ci_high
        if low is None:
            return "too few seeds for a CI"
        if self.claimed in ("up", "down"):
            return claim_verdict(low, high, self.claimed)
        if self.claimed == "none":
            return "no claim; " + (f"relaxed {'higher' if low > 0 else 'lower'}" if low > 0 or high < 0
                                   else "no evidence of a difference")
        margin = SIMILAR_MARGIN * abs(self.ttfs.mean)
        if -margin <= low and high <= margin:
            apart = "" if low <= 0 <= high else f", though relaxed is {'higher' if low > 0 else 'lower'}"
            return f"similar (CI within ±{SIMILAR_MARGIN:.0%} of TTFS{apart}): reproduced"
        if low > margin or high < -margin:
            side = "more" if low > margin else "less"
            return f"not similar: relaxed {side} by over {SIMILAR_MARGIN:.0%} of TTFS, not reproduced"
        return f"undecided: the CI crosses the ±{SIMILAR_MARGIN:.0%} margin"

    @property
    def disagrees(self) -> bool:
        return "not reproduced" in self.verdict

    def row(self) -> str:
        d = self.diff
        better = d.wins if self.better == "higher" else d.losses
        interval = "" if d.ci_low is None else f" [{self.diff_fmt(d.ci_low)}, {self.diff_fmt(d.ci_high)}]"
        return (f"| {self.claim} | {self.measure} | {shown(self.fmt, self.ttfs.mean)} | "
                f"{shown(self.fmt, self.relaxed.mean)} | {shown(self.diff_fmt, d.mean)}{interval} | "
                f"{better}/{d.n} | {self.verdict} |")


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
    errors = {run.error for pair in result.per_seed for run in (pair.base, pair.variant)} - {None}
    return ["", f"{result.failed_runs} run(s) failed: {'; '.join(sorted(errors))}"] if errors else []


def epochs_to_target(run: RunResult) -> float:
    reached = run.metrics.epochs_to_target
    return float(len(run.history) + 1 if reached is None else reached)


def paired_values(result: Comparison, read: Callable[[RunResult], float | None]) -> tuple[list[float], list[float]]:
    """``read(run)`` of base and variant for every seed where both succeeded and both have a value (a seed where
    either arm has none, e.g. no decision at all, is left out)."""
    pairs = [(read(pair.base), read(pair.variant)) for pair in result.per_seed if pair.base.ok and pair.variant.ok]
    pairs = [(b, v) for b, v in pairs if b is not None and v is not None]
    return [b for b, _ in pairs], [v for _, v in pairs]
