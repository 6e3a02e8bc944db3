"""The TTFS section of the reproduction report: TTFS (K = 1) against relaxed (K unlimited), claim by claim.

Bacho & Chu (2023) claim, per their abstract, that relaxing time-to-first-spike to several spikes per
neuron gives higher accuracy, faster convergence, similar sparsity, comparable latency and better
noise robustness (shared/papers/ttfs.md §4). Both arms here train ``TTFS_PRESET`` on the same seeds
and differ only in the spike cap K; every claim is read off the paired per-seed differences
relaxed - TTFS with a 95% CI:

- up/down claims use ``report.parts.claim_verdict`` (reproduced when the CI lies on the claimed side);
- "similar"/"comparable" claims are judged against an equivalence margin of ``SIMILAR_MARGIN`` of the
  TTFS mean: similar when the whole CI of the difference lies inside it, not similar when it lies
  wholly outside, undecided otherwise;
- robustness is the accuracy *lost* to a perturbation (clean - perturbed, fixed noise seed), so that a
  more accurate clean network does not pass for a more robust one; the claim is a smaller loss.

Convergence is epochs to ``training.target_accuracy``; a seed that never reaches it counts as
epochs + 1 (a lower bound, said in the table), and the accuracy after ``EARLY_EPOCH`` epochs is shown too.
A second table trains the exact event-based engine (``model.engine = exact``) with K = 1 and K = 3.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from ..config.run_config import RunConfig
from ..experiments.batch import RunCache
from ..experiments.compare import compare
from ..experiments.stats import mean_ci, paired
from ..methods.ttfs.presets import ttfs_config
from ..neurons.cuba import membrane_tau
from .parts import RunCounter, claim_verdict

TTFS_BASE = ttfs_config()                                   # K = 1
RELAXED_CHANGES = {"max-spikes": 0}                         # K unlimited
# The exact engine's own setting: shorter T and window, tau_s 4, lr 1e-2, 12 epochs (the exact engine has no
# BatchNorm, and at the discrete preset it reached only about 85%); robustness off and 3 seeds keep the
# section within its 5-minute budget (exact K = 3 costs several times a discrete run).
EXACT_BASE = ttfs_config(**{"engine": "exact", "robustness": False, "hidden": "64", "T": 16, "latency-window": 8,
                            "tau-syn": 4.0, "lr": 1e-2, "epochs": 12})
EXACT_K = (1, 3)
EXACT_SEEDS = 3
EARLY_EPOCH = 2
SIMILAR_MARGIN = 0.25                                       # of the TTFS mean
NOISE_ROWS = (("jitter", ("1", "2", "4"), "input spike jitter sigma = {} steps"),
              ("deletion", ("0.1", "0.3"), "input spike deletion p = {}"),
              ("weight_noise", ("0.1", "0.2"), "weight noise sigma = {} (relative)"))


class Claim:
    """One row of the claims table: per-seed values of both arms and how the claim reads them."""

    def __init__(self, claim: str, measure: str, ttfs: Sequence[float], relaxed: Sequence[float], claimed: str,
                 better: str, fmt: Callable[[float], str], diff_fmt: Callable[[float], str]):
        self.claim, self.measure, self.claimed, self.better = claim, measure, claimed, better
        self.ttfs, self.relaxed = mean_ci(ttfs), mean_ci(relaxed)
        self.diff = paired(ttfs, relaxed)
        self.fmt, self.diff_fmt = fmt, diff_fmt

    @property
    def verdict(self) -> str:
        low, high = self.diff["ci_low"], self.diff["ci_high"]
        if low is None:
            return "too few seeds for a CI"
        if self.claimed in ("up", "down"):
            return claim_verdict(low, high, self.claimed)
        if self.claimed == "none":
            return "no claim; " + (f"relaxed {'higher' if low > 0 else 'lower'}" if low > 0 or high < 0
                                   else "no evidence of a difference")
        margin = SIMILAR_MARGIN * abs(self.ttfs["mean"])
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
        better = d["wins"] if self.better == "higher" else d["losses"]
        interval = "" if d["ci_low"] is None else f" [{self.diff_fmt(d['ci_low'])}, {self.diff_fmt(d['ci_high'])}]"
        return (f"| {self.claim} | {self.measure} | {_shown(self.fmt, self.ttfs['mean'])} | "
                f"{_shown(self.fmt, self.relaxed['mean'])} | {_shown(self.diff_fmt, d['mean'])}{interval} | "
                f"{better}/{d['n']} | {self.verdict} |")


def _shown(fmt: Callable[[float], str], value: float | None) -> str:
    return "—" if value is None else fmt(value)


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _points(value: float) -> str:
    return f"{100 * value:+.1f}"


def _number(digits: int, signed: bool = False) -> Callable[[float], str]:
    return lambda value: f"{value:{'+' if signed else ''}.{digits}f}"


def _per_seed(result: dict, arm: str, read: Callable[[dict], float]) -> list[float]:
    """``read(run slot)`` for every seed where both arms succeeded (so the lists pair)."""
    return [read(seed[arm]) for seed in result["per_seed"]
            if seed["base"]["error"] is None and seed["variant"]["error"] is None]


def _failures(result: dict) -> list[str]:
    """A paragraph about a ``compare`` result's failed runs and their errors; none when every run succeeded."""
    errors = {seed[arm]["error"] for seed in result["per_seed"] for arm in ("base", "variant")} - {None}
    return ["", f"{result['failed_runs']} run(s) failed: {'; '.join(sorted(errors))}"] if errors else []


def _epochs_to_target(slot: dict) -> float:
    reached = slot["metrics"]["epochs_to_target"]
    return float(len(slot["history"]) + 1 if reached is None else reached)


def claims(result: dict, target: float, epochs: int) -> list[Claim]:
    """The claims table's rows from a TTFS (base) versus relaxed (variant) ``compare`` result."""
    def both(read: Callable[[dict], float | None]) -> tuple[list[float], list[float]]:
        """Paired values; a seed where either arm has none (no decision at all) is left out."""
        pairs = [(b, v) for b, v in zip(_per_seed(result, "base", read), _per_seed(result, "variant", read))
                 if b is not None and v is not None]
        return [b for b, _ in pairs], [v for _, v in pairs]

    def metric(name: str) -> Callable[[dict], float]:
        return lambda slot: slot["metrics"][name]

    rows = [
        Claim("higher accuracy", "test accuracy", *both(metric("test_accuracy")), "up", "higher", _percent, _points),
        Claim("faster convergence", f"epochs to {target:.0%} test accuracy (never reached counts {epochs + 1})",
              *both(_epochs_to_target), "down", "lower", _number(1), _number(1, True)),
        Claim("faster convergence", f"test accuracy after epoch {EARLY_EPOCH}",
              *both(lambda slot: slot["history"][EARLY_EPOCH - 1]["test_accuracy"]), "up", "higher", _percent,
              _points),
        Claim("similar sparsity", "spikes per sample (all layers)", *both(metric("spikes_per_sample")), "similar",
              "lower", _number(0), _number(0, True)),
        Claim("comparable latency", "mean decision step (first output spike)", *both(metric("decision_step_mean")),
              "similar", "lower", _number(2), _number(2, True)),
        Claim("(not claimed)", "samples without a decision (no output spike)", *both(metric("no_decision_fraction")),
              "none", "lower", _percent, _points),
    ]
    for kind, levels, label in NOISE_ROWS:
        for level in levels:
            def loss(slot: dict, kind=kind, level=level) -> float:
                curve = slot["metrics"]["robustness"][kind]
                return curve["0"] - curve[level]
            rows.append(Claim("better noise robustness", f"accuracy lost to {label.format(level)}", *both(loss),
                              "down", "lower", _percent, _points))
    return rows


def _exact_rows(seeds: list[int], workers: int, cache: RunCache | None, counter: RunCounter) -> list[str]:
    low, high = (EXACT_BASE.with_values({"max-spikes": k}) for k in EXACT_K)
    result = compare(low, high, seeds, workers=workers, cache=cache, progress=counter)
    lines = ["| engine exact | test accuracy | spikes per sample | mean decision step | no decision | "
             f"epochs to {EXACT_BASE.training.target_accuracy:.0%} (never reached counts "
             f"{EXACT_BASE.training.epochs + 1}) | seeds |", "|---|---|---|---|---|---|---|"]
    for k, arm in zip(EXACT_K, ("base", "variant")):
        slots = [seed[arm] for seed in result["per_seed"] if seed[arm]["error"] is None]
        cells = []
        for name, fmt in (("test_accuracy", _percent), ("spikes_per_sample", _number(0)),
                          ("decision_step_mean", _number(2)), ("no_decision_fraction", _percent)):
            stats = mean_ci([slot["metrics"][name] for slot in slots])
            cells.append("—" if stats["mean"] is None else fmt(stats["mean"]) + (
                "" if stats["ci_low"] is None else f" [{fmt(stats['ci_low'])}, {fmt(stats['ci_high'])}]"))
        cells.append("—" if not slots else _number(1)(mean_ci([_epochs_to_target(s) for s in slots])["mean"]))
        lines.append(f"| K = {k} | " + " | ".join(cells) + f" | {len(slots)} |")
    accuracy = result["paired"].get("test_accuracy")
    if accuracy is not None and accuracy["ci_low"] is not None:
        lines += ["", f"Paired K = {EXACT_K[1]} − K = {EXACT_K[0]} test accuracy: {_points(accuracy['mean'])} "
                      f"points [{_points(accuracy['ci_low'])}, {_points(accuracy['ci_high'])}], higher in "
                      f"{accuracy['wins']}/{accuracy['n']} seeds."]
    return lines + _failures(result)


def _setting(cfg: RunConfig) -> str:
    d, m, n, t = cfg.data, cfg.model, cfg.neuron, cfg.training
    window = d.latency_window or d.time_steps
    return (f"{d.dataset}, latency code in the first {window} of T = {d.time_steps} steps, MLP "
            f"{'-'.join(map(str, m.hidden))}, CUBA neuron (tau_s = {n.tau_syn:g}, "
            f"tau_m = {membrane_tau(n.tau_syn):g} steps, "
            f"V_th = {n.threshold:g}), first-spike readout (tau_loss = {m.tau_loss:g}), Adam lr {t.lr:g}, "
            f"{t.epochs} epochs, batch {t.batch_size}")


def ttfs_section(seeds: list[int], workers: int, cache: RunCache | None, log: Callable[[str], None],
                 counter: RunCounter) -> str:
    """TTFS (K = 1) versus relaxed (K = 0) on ``TTFS_BASE``, each claim with a verdict; the exact engine's K = 1, 3."""
    log("TTFS K=1 vs relaxed K=0")
    relaxed = TTFS_BASE.with_values(RELAXED_CHANGES)
    result = compare(TTFS_BASE, relaxed, seeds, workers=workers, cache=cache, progress=counter)
    training = TTFS_BASE.training
    rows = claims(result, training.target_accuracy, training.epochs)
    lines = ["## TTFS versus relaxed multi-spike (Bacho & Chu, 2023)", "",
             f"{_setting(TTFS_BASE)} (`snn_core.methods.ttfs.presets.TTFS_PRESET`); "
             "discrete engine with surrogate gradients. "
             f"TTFS is K = 1 spike per neuron, relaxed is K unlimited; nothing else differs. {rows[0].diff['n']} "
             "paired seeds; differences are relaxed − TTFS with 95% CIs; robustness uses a fixed noise seed, so both "
             "arms see the same perturbations.", "",
             "| paper's claim (relaxed vs TTFS) | measured | TTFS, K = 1 | relaxed, K = ∞ | "
             "relaxed − TTFS [95% CI] | seeds where relaxed is better | verdict |", "|---|---|---|---|---|---|---|"]
    lines += [row.row() for row in rows] + _failures(result)
    disagree = [row for row in rows if row.disagrees]
    lines += ["", "Where we disagree with the paper: " + ("; ".join(
        f"{row.claim} — {row.measure}: relaxed − TTFS = {row.diff_fmt(row.diff['mean'])} "
        f"[{row.diff_fmt(row.diff['ci_low'])}, {row.diff_fmt(row.diff['ci_high'])}]" for row in disagree) + "."
        if disagree else "nowhere with evidence (no verdict above says 'not reproduced').")]
    lines += ["", "Caveats: a toy scale (8x8 digits, at most 360 test images, so one image is 0.3 points); "
              "surrogate gradients let silent neurons learn, which hides the TTFS dead-neuron problem behind "
              "the paper's convergence claim (ttfs.md §5.2); both arms share one "
              "set of hyperparameters and the first-spike readout, whereas the paper tuned each separately and "
              "read relaxed networks by spike count (ttfs.md §4)."]
    log(f"TTFS exact engine K={EXACT_K}")
    lines += ["", f"Exact event-based engine (closed-form spike times, exact gradients, weight bumping), "
              f"{_setting(EXACT_BASE)}, no BatchNorm; K = {EXACT_K[0]} and K = {EXACT_K[1]}, mean [95% CI] over the "
              f"first {min(EXACT_SEEDS, len(seeds))} seeds:", ""]
    lines += _exact_rows(seeds[:EXACT_SEEDS], workers, cache, counter)
    return "\n".join(lines)
