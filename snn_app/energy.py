"""Glue for the Cost & energy page: a Pareto study (``snn_core.experiments.pareto``) as one background job, tuning
first and then the chosen points on the paired seeds (``snn_app.jobs``: progress, Cancel, runs kept in the run cache),
and the study read from whatever runs have finished."""
from __future__ import annotations

import threading
from collections.abc import Sequence

from snn_core.experiments.batch import RunCache, default_cache_dir, is_cancelled
from snn_core.experiments.pareto import FAMILIES, ParetoPlan, ParetoStudy, pareto_result, plan_pareto
from snn_core.results import RunResult

from .jobs import Control, Job, Snapshot, batch_work

JOB = "energy-fronts"            # the page's job name in the session
WORKERS = 2                      # processes, one torch thread each
DEFAULT_FAMILIES = ("asa-gate", "threshold")
SCALES = {                       # label -> changes on top of every family's base (CLI names)
    "tiny (about a minute)": {"train-samples": 400, "test-samples": 100, "epochs": 2, "lr": 0.01},
    "the report's (minutes)": {},
}


class _Part:
    """A stage of the job seen by ``batch_work`` as a whole job: its run ``i`` is the job's run ``offset + i``."""

    def __init__(self, control: Control, offset: int):
        self.control, self.offset = control, offset
        self.owner: str | None = control.owner
        self.cancel: threading.Event = control.cancel

    def slot(self, index: int, slot: RunResult) -> None:
        self.control.slot(self.offset + index, slot)


def plan(families: Sequence[str], seeds: int, trials: int, scale: str) -> ParetoPlan:
    """The study's plan: ``families`` on seeds 0..``seeds``-1, ``trials`` per point, at ``scale`` (``SCALES``)."""
    return plan_pareto(list(families), range(seeds), trials, SCALES[scale])


def runs(study_plan: ParetoPlan) -> int:
    """Every run of a plan: the tuning trials, then each point on each seed."""
    return len(study_plan.tuning.configs) + len(study_plan.points) * len(study_plan.seeds)


def fronts_job(study_plan: ParetoPlan, key: tuple) -> Job:
    """Tune every point, then run the chosen ones on the paired seeds, on ``WORKERS`` processes, cached on disk (a
    repeat is free; a cancelled study resumes where it stopped). Its value: the ``ParetoStudy``."""
    cache = RunCache(default_cache_dir())
    tuning = study_plan.tuning.configs

    def work(control: Control) -> ParetoStudy:
        tuning_slots = batch_work(tuning, workers=WORKERS, cache=cache)(_Part(control, 0))       # type: ignore[arg-type]
        report = study_plan.report_configs(study_plan.tuning.result(tuning_slots))
        control.check()
        report_slots = batch_work(report, workers=WORKERS, cache=cache)(_Part(control, len(tuning)))  # type: ignore
        return pareto_result(study_plan, tuning_slots, report_slots)
    return Job("Pareto fronts", runs(study_plan), work, {"plan": study_plan, "key": key})


def study_of(snap: Snapshot) -> ParetoStudy | None:
    """The study of the job's runs finished so far; None while tuning (no point is chosen yet) or when no point
    could be chosen."""
    if snap.value is not None:
        return snap.value
    study_plan: ParetoPlan = snap.meta["plan"]
    count = len(study_plan.tuning.configs)
    tuning = snap.slots[:count]
    if any(slot is None or is_cancelled(slot) for slot in tuning):
        return None
    report = [None if slot is None or is_cancelled(slot) else slot for slot in snap.slots[count:]]
    try:
        return pareto_result(study_plan, list(tuning), report)          # type: ignore[arg-type]
    except ValueError:                  # a point none of whose trials finished: the job says why when it ends
        return None


LEARNED_ABOVE_CHANCE = 0.2     # a front whose best point is not this far above chance says nothing about a method


def barely_learned(study: ParetoStudy) -> list[str]:
    """The families whose best point (mean test accuracy over seeds) stays within ``LEARNED_ABOVE_CHANCE`` of
    chance: their networks did not learn, so where their front lies is noise, not the method's trade-off."""
    weak = []
    for front in study.fronts:
        means = [point.stat("accuracy").mean for point in front.points if point.runs]
        if means and max(means) < front.chance + LEARNED_ABOVE_CHANCE:
            weak.append(f"{front.family} (best {100 * max(means):.0f}% against {100 * front.chance:.0f}% chance)")
    return weak


def family_lines(families: Sequence[str]) -> list[str]:
    """One line per chosen family: what it sweeps, its values and the controls it is tested against."""
    lines = []
    for name in families:
        family = FAMILIES[name]
        values = ", ".join(f"{value:g}" for value in family.values)
        against = f"; tested against {', '.join(family.controls)}" if family.controls else "; a control"
        lines.append(f"**{name}**: {family.about} ({family.setting} ∈ {{{values}}}{against})")
    return lines


def untested(families: Sequence[str]) -> list[str]:
    """The chosen families whose controls are not chosen (nothing to test them against)."""
    return [name for name in families if FAMILIES[name].controls and not set(FAMILIES[name].controls) & set(families)]


def verdict_rows(study: ParetoStudy, axis: str) -> list[dict]:
    """The table of the tests on ``axis``: one row per method − control."""
    rows = []
    for c in study.comparisons:
        if c.axis != axis:
            continue
        t = c.test
        rows.append({"method − control": f"{c.method} − {c.control}", "verdict": t.verdict.split(";")[0].split(" (")[0],
                     "area difference": t.mean, "95% bootstrap CI": "—" if t.ci_low is None else
                     f"[{t.ci_low:+.3f}, {t.ci_high:+.3f}]", "wins/losses": f"{t.wins}/{t.losses}",
                     "seeds": len(c.seeds), "Holm p": t.holm_p, "Holm TOST p": t.holm_tost_p})
    return rows


def verdict_sentences(study: ParetoStudy, axis: str) -> list[str]:
    """One sentence per test on ``axis``, naming the control, with what the seeds could detect."""
    return [f"**{c.method}** against its control **{c.control}**: {c.test.verdict}." for c in study.comparisons
            if c.axis == axis]

