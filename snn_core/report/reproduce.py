"""The reproduction report: each paper's claims next to what we measured at toy scale, with a verdict.

``python -m snn_core reproduce --out docs/REPRODUCTION.md`` regenerates it, one section per entry
of ``SECTIONS`` (the TTFS and TRT sections live in ``report.ttfs`` and ``report.trt``); nothing
is quoted as measured unless this command measured it in the same run.
"""
from __future__ import annotations

import platform
import time
from typing import Callable, Sequence

from ..experiments.compare import compare, summary_table, with_seed
from ..config.run_config import RunConfig
from .parts import RunCounter, claim_verdict, summary_row
from .trt import trt_section
from .ttfs import ttfs_section
from ..experiments.batch import RunCache, run_many

ASA_BASE = RunConfig().with_values({"dataset": "events-shape", "arch": "conv", "noise": 0.2, "epochs": 6,
                                     "train-samples": 1000, "test-samples": 300, "robustness": False})
ASA_NOISE_KNOB = (0.05, 0.5)          # noise levels tried besides the base's, clean ASA against none
ASA_TARGET = {"nasfr_drop": 0.40, "accuracy_drop_points": 1.0}
VARIABILITY_RUNS = {
    "digits, MLP, T=8 (defaults)": RunConfig(),
    "events-shape, conv, T=8, 4 epochs, 1000 train samples": RunConfig().with_values(
        {"dataset": "events-shape", "arch": "conv", "epochs": 4, "train-samples": 1000, "test-samples": 300}),
}


def variability_section(seeds: list[int], workers: int, cache: RunCache | None, log: Callable[[str], None],
                        counter: RunCounter) -> str:
    """How much one configuration moves between seeds: the reason every claim here is a paired comparison."""
    lines = ["## Seed-to-seed variability (why every comparison is paired)", "",
             "The same configuration trained with different seeds (initialisation, batch order); data fixed.", "",
             "| configuration | metric | mean | sd across seeds | 95% CI of the mean | seeds |", "|---|---|---|---|---|---|"]
    for name, cfg in VARIABILITY_RUNS.items():
        log(f"variability: {name}")
        slots = run_many([with_seed(cfg, s) for s in seeds], workers=workers, cache=cache, progress=counter)
        table = summary_table(slots)
        lines += [summary_row(name, table, metric) for metric in ("test_accuracy", "nasfr")]
    lines += ["", "A method's effect smaller than about twice the sd above cannot be told apart by one run per arm."]
    return "\n".join(lines)


def _asa_row(label: str, result: dict) -> tuple[str, dict]:
    """A table row for one ASA comparison and the numbers its verdicts need."""
    nasfr, accuracy = result["paired"]["nasfr"], result["paired"]["test_accuracy"]
    base_nasfr = result["summary"]["base"]["nasfr"]["mean"]
    change = {k: 100 * nasfr[k] / base_nasfr for k in ("mean", "ci_low", "ci_high")}
    points = {k: 100 * accuracy[k] for k in ("mean", "ci_low", "ci_high")}
    met = -change["mean"] >= 100 * ASA_TARGET["nasfr_drop"] and points["mean"] >= -ASA_TARGET["accuracy_drop_points"]
    row = (f"| {label} | {base_nasfr:.4f} → {result['summary']['variant']['nasfr']['mean']:.4f} | "
           f"{change['mean']:+.1f}% [{change['ci_low']:+.1f}, {change['ci_high']:+.1f}] | "
           f"{points['mean']:+.2f} [{points['ci_low']:+.2f}, {points['ci_high']:+.2f}] | "
           f"{accuracy['wins']}/{accuracy['n']} | {'met' if met else 'missed'} |")
    return row, {"change": change, "points": points}


def asa_section(seeds: list[int], workers: int, cache: RunCache | None, log: Callable[[str], None],
                counter: RunCounter) -> str:
    """ASA (clean, faithful) against no ASA on noisy event clips, the issue's target, and the noise knob."""
    header = ["## ASA — Advance Spatial Attention (Yao et al., ICCV 2023)", "",
              f"events-shape, conv 16-32 + fc 128, T=8, {ASA_BASE.training.epochs} epochs, "
              f"{ASA_BASE.data.train_samples} training clips, {len(seeds)} paired seeds. Target (issue #5): NASFR at "
              "least 40% lower with test accuracy not worse by more than 1 point (mean paired difference).", "",
              "| comparison | NASFR base → ASA | NASFR change [95% CI] | accuracy change, points [95% CI] | "
              "accuracy wins | target |", "|---|---|---|---|---|---|"]
    rows, numbers = [], {}
    for variant in ("clean", "faithful"):
        log(f"ASA {variant} vs off, noise {ASA_BASE.data.noise_level}")
        result = compare(ASA_BASE, ASA_BASE.with_values({"asa": variant}), seeds, workers=workers, cache=cache,
                         progress=counter)
        row, numbers[variant] = _asa_row(f"{variant} vs off, noise {ASA_BASE.data.noise_level:g}", result)
        rows.append(row)
    for noise in ASA_NOISE_KNOB:
        log(f"ASA clean vs off, noise {noise}")
        base = ASA_BASE.with_values({"noise": noise})
        rows.append(_asa_row(f"clean vs off, noise {noise:g}",
                             compare(base, base.with_values({"asa": "clean"}), seeds, workers=workers, cache=cache,
                                     progress=counter))[0])
    clean = numbers["clean"]
    claims = ["", "| paper's claim | measured here (clean ASA, noise 0.2) | verdict |", "|---|---|---|",
              f"| DVS128 Gesture accuracy 91.3% → 95.2% with ASA (up) | {clean['points']['mean']:+.2f} points "
              f"[{clean['points']['ci_low']:+.2f}, {clean['points']['ci_high']:+.2f}] | accuracy "
              f"{claim_verdict(clean['points']['ci_low'], clean['points']['ci_high'], 'up')} |",
              f"| NASFR −78.4% on a shallow, densely firing net | {clean['change']['mean']:+.1f}% "
              f"[{clean['change']['ci_low']:+.1f}, {clean['change']['ci_high']:+.1f}] | NASFR "
              f"{claim_verdict(clean['change']['ci_low'], clean['change']['ci_high'], 'down')}, "
              f"magnitude {-clean['change']['mean']:.0f}% against 78% |"]
    return "\n".join(header + rows + claims)


Section = Callable[[list, int, "RunCache | None", Callable[[str], None], RunCounter], str]
SECTIONS: dict[str, Section] = {     # name -> section builder, in report order
    "variability": variability_section,
    "asa": asa_section,
    "ttfs": ttfs_section,
    "trt": trt_section,
}


def _timed(section: Section, seeds: list[int], workers: int, cache: RunCache | None, log: Callable[[str], None],
           counter: RunCounter) -> str:
    """A section's Markdown with its own wall time and cache use appended (the TTFS section has a 5-minute budget)."""
    started, runs, cached = time.perf_counter(), counter.runs, counter.cached
    text = section(seeds, workers, cache, log, counter)
    return (f"{text}\n\nWall time of this section: {time.perf_counter() - started:.0f} s for {counter.runs - runs} runs "
            f"({counter.cached - cached} of them from the run cache).")


def report(seeds: int = 5, workers: int = 2, cache: RunCache | None = None,
           log: Callable[[str], None] = lambda message: None, sections: Sequence[str] | None = None) -> str:
    """The report as Markdown (measured in this call; cached runs are reused when a cache is given).

    ``sections`` picks some of ``SECTIONS`` (default: all).
    """
    chosen = list(SECTIONS) if sections is None else list(sections)
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown or not chosen:
        raise ValueError(f"sections={chosen} is not valid; allowed: one or more of {', '.join(SECTIONS)}")
    started = time.perf_counter()
    counter = RunCounter()
    measured = [_timed(SECTIONS[name], list(range(seeds)), workers, cache, log, counter) for name in chosen]
    header = ["# Reproduction report", "",
              f"Generated by `python -m snn_core reproduce` on {time.strftime('%Y-%m-%d')} "
              f"({platform.machine()}, Python {platform.python_version()}, CPU, {workers} worker processes). "
              "Every number below was measured by that command; nothing is copied from the papers except "
              "their claims.", ""]
    body = [part for section in measured for part in (section, "")]
    footer = [f"Wall time of this report: {time.perf_counter() - started:.0f} s; {counter.cached} of {counter.runs} "
              "runs were read from the run cache (`.cache/runs`) of an earlier identical run instead of retrained."]
    return "\n".join(header + body + footer) + "\n"
