"""Twin runs on Train & watch ("Compare live"): a second run that differs from the current one in one setting.

The twin is always ``main.fork(cfg)`` (``snn_core.training.trainer``): made before the first step it starts where
the main run starts (same seed, batch order and, wherever names and shapes match, initial weights); made or changed
during the run it continues from the main run's current weights, optimiser state and batch position, so whatever
diverges, diverges from that step on. The two advance in lockstep: every Step, and every step of a Play refresh,
is one step of each. The twin is rebuilt whenever its wanted config or its main run changes (a Reset, a run opened
elsewhere), which ``sync`` notices by comparing configs and the main run's identity.

Streamlit may start a new script run of the session while the previous run's chunk of steps is still going (a
rerun stops a script only at its next Streamlit call; a torch step keeps running in its thread), so every step,
chunk and fork here holds the main run's lock (``Trainer.lock``): the second run waits for the first's step (and
its log entry) to finish, never steps the same model at once. The twin reserves its own memory in the server's
ledger (``training.admitted``, role "twin") and gives it back when it is dropped.
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import MutableSequence

import streamlit as st

from snn_core.config.check import check
from snn_core.config.run_config import RunConfig, cli_index, parse_assignments
from snn_core.methods.catalogue import METHODS
from snn_core.training.trainer import Trainer
from snn_viz import run_figures
from snn_viz.style import PLOTLY_CONFIG

from . import state, training

TWINS = {method.twin.label: method.twin for method in METHODS if method.twin}   # each method's switch, by its label
ANY_FIELD = "any sidebar field"
RECENT_STEPS = 20                         # the live loss metric: mean of each run's latest steps


def options(cli: str) -> tuple[str, ...]:
    """The values the twin can take for a method switch: those its record offers, else the field's choice list."""
    twin = next(twin for twin in TWINS.values() if twin.cli == cli)
    return twin.values or tuple(cli_index()[cli][1].metadata["choices"])


def value_of(cfg: RunConfig, cli: str) -> str:
    """A setting's value as it is typed (``128,64`` for a list)."""
    section, fld = cli_index()[cli]
    value = getattr(getattr(cfg, section), fld.name)
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def controls(cfg: RunConfig) -> None:
    """The **Compare live** switch and the one setting the twin changes (values kept in session state, read by
    ``wanted_changes``). ``cfg`` is the current run's: each value list starts on a value other than its own."""
    if not st.toggle("Compare live", key="twin_on",
                     help="Train a twin of this run that differs in one setting, in lockstep with it: same seed, "
                          "batch order and initial weights. Switched during a run, the twin starts from the run's "
                          "current weights, so the difference shows from that step on."):
        return
    left, right = st.columns([1, 3])
    settings = [*TWINS, ANY_FIELD]
    setting = left.selectbox("The twin differs in", settings, key="twin_setting",
                             index=settings.index(first_runnable(cfg)))
    if setting == ANY_FIELD:
        right.text_input("Twin: this run with (KEY=VALUE, space separated)", key="twin_text",
                         placeholder="e.g. hidden=64 or tau=4 threshold=0.8",
                         help="the train options without dashes, as on the Compare page; "
                              "`python -m snn_core train --help` lists them all")
        return
    twin = TWINS[setting]
    cli, values = twin.cli, options(twin.cli)
    right.radio(f"Twin's {setting}", values, horizontal=True, key=f"twin_value_{cli}",
                index=values.index(other_value(cfg, cli)),
                format_func=lambda value: twin.value_labels.get(value, value))


def other_value(cfg: RunConfig, cli: str) -> str:
    """The first value of a method switch that differs from ``cfg``'s (where the twin's choice starts)."""
    own = value_of(cfg, cli)
    return next((value for value in options(cli) if value != own), own)


def first_runnable(cfg: RunConfig) -> str:
    """The first method switch whose other value can run with ``cfg`` (a method's rules may refuse it: ASA needs a
    conv net), so switching Compare live on shows a twin, not a refusal; else the free KEY=VALUE field."""
    for setting, twin in TWINS.items():
        try:
            twin_config(cfg, {twin.cli: other_value(cfg, twin.cli)})
        except ValueError:
            continue
        return setting
    return ANY_FIELD


def wanted_changes() -> dict[str, str]:
    """The twin's changes from the controls' values, by CLI name ({} when none is picked yet); ValueError for text
    that is not KEY=VALUE."""
    ss = st.session_state
    setting = ss.get("twin_setting", next(iter(TWINS)))
    if setting == ANY_FIELD:
        return parse_assignments(ss.get("twin_text", ""))      # {} until something is typed: no twin yet
    cli = TWINS[setting].cli
    key = f"twin_value_{cli}"
    return {cli: ss[key]} if key in ss else {}


def twin_config(cfg: RunConfig, changes: dict[str, str]) -> RunConfig:
    """``cfg`` with ``changes``, refused (ValueError saying why and what is allowed) when it cannot run, changes
    nothing, or changes the seed (the twin shares the run's seed: that is what makes the two comparable)."""
    if "seed" in changes:
        raise ValueError("the twin shares this run's seed (that is what pairs the two runs); allowed: any other "
                         "setting (the Compare page trains several seeds)")
    twin = cfg.with_values(changes)                  # ValueError: unknown option or bad value, with the allowed ones
    problems = check(twin)
    if problems:
        raise ValueError("\n".join(f"- {problem}" for problem in problems))
    if twin == cfg:
        shown = " ".join(f"{key}={value}" for key, value in changes.items())
        raise ValueError(f"`{shown}` is this run's own setting, so the twin would repeat it; allowed: another value")
    return twin


def active() -> Trainer | None:
    """The twin trained beside the current run, if any."""
    return st.session_state.get("twin")


def label(twin: Trainer, main: Trainer) -> str:
    """The twin's legend name: its settings that differ from the main run, e.g. ``twin (max-spikes=1)``."""
    changed = training.changed_options(main.cfg, twin.cfg)
    return "twin (" + " ".join(f"{cli}={value_of(twin.cfg, cli)}" for cli in changed) + ")"


def _drop() -> None:
    ss = st.session_state
    ss.twin, ss.twin_of = None, None
    training.release("twin")
    ss.setdefault("twin_step_log", deque(maxlen=state.STEP_LOG_LENGTH)).clear()


def sync(main: Trainer | None) -> None:
    """Make the session's twin match the switch, the picked setting and the current run; call it before the
    runs step. A new or changed twin forks the main run where it is now. A setting that cannot run leaves the
    twin as it was (or none) and is kept in ``twin_problem`` for ``show_problem``; the main run is never touched."""
    ss = st.session_state
    ss.setdefault("twin_problem", "")
    if main is None or not ss.get("twin_on"):
        _drop()
        ss.twin_problem, ss.twin_refused = "", None          # switched on again: a refused twin is tried again
        return
    try:
        changes = wanted_changes()
        if not changes:
            _drop()
            ss.twin_problem = ""
            return
        cfg = twin_config(main.cfg, changes)
    except ValueError as problem:
        ss.twin_problem = str(problem)
        if ss.get("twin_of") is not main:
            _drop()
        return
    twin = active()
    if twin is not None and ss.twin_of is main and twin.cfg == cfg:
        return
    refused = ss.get("twin_refused")
    if refused is not None and refused[0] is not main:
        refused = ss.twin_refused = None                  # a new run: the old refusal (and its run) can go
    if refused is not None and refused[1] == cfg:
        return                                            # it failed here already: keep its message, do not retry
    ss.twin_problem = ""
    try:
        with training.framing_bar(), st.spinner(training.loading_message(cfg)), main.lock:  # no step meanwhile
            fork = training.admitted(cfg, "twin", lambda: main.fork(cfg))
            ss.twin, ss.twin_of, ss.twin_forked_at = fork, main, main.steps
            ss.twin_step_log = deque(ss.step_log, maxlen=state.STEP_LOG_LENGTH)     # the past the two runs share
    except training.FAILURES as problem:            # refused by the ledger, or memory ran out: no twin beside the run
        ss.twin_problem, ss.twin_refused = training.failure_message(problem), (main, cfg)
        _drop()


def show_problem(main: Trainer | None) -> None:
    """Why the wanted twin is not running, as an error; says whether an earlier twin goes on or the run is alone."""
    problem = st.session_state.get("twin_problem")
    if not problem:
        return
    twin = active()
    if twin is None:
        st.error(f"No twin with this setting (the run goes on alone): {problem}")
    else:
        st.error(f"The twin keeps its last setting ({label(twin, main)}): {problem}")


def finished(main: Trainer) -> bool:
    twin = active()
    return main.finished and (twin is None or twin.finished)


def advance(main: Trainer, main_log: MutableSequence) -> None:
    """One step of each run that has steps left, the main run first. The main run's failure (``training.FAILURES``:
    a refusal, or memory running out) is raised to the page; the twin's stops only the twin, whose reason is kept in
    ``twin_problem``. Holds the main run's lock: a step and its log entry are one unit for another script run."""
    ss = st.session_state
    with main.lock:
        if not main.finished:
            main_log.append(main.step().loss)
        twin = active()
        if twin is None or twin.finished or ss.get("twin_of") is not main:
            return
        try:
            ss.twin_step_log.append(twin.step().loss)
        except training.FAILURES as problem:
            ss.twin_problem = f"The twin stopped at step {twin.steps}: {training.failure_message(problem)}"
            ss.twin_refused = (main, twin.cfg)
            _drop()


def train_chunk(main: Trainer, main_log: MutableSequence, seconds: float = training.CHUNK_SECONDS) -> int:
    """Lockstep steps (one of each run) until ``seconds`` have passed or both runs are finished; returns the
    lockstep steps done. With a twin each refresh does half the steps of a single run, so it costs the same.
    The chunk holds the main run's lock: an overlapping script run of the session waits for it, then goes on
    from where it ended."""
    with main.lock:
        started, done = time.perf_counter(), 0
        while not finished(main) and (done == 0 or time.perf_counter() - started < seconds):
            advance(main, main_log)
            done += 1
        return done


def _recent_loss(log) -> float | None:
    if not len(log):
        return None
    recent = list(log)[-RECENT_STEPS:]
    return sum(recent) / len(recent)


# (label, EpochRecord field or None for the recent loss, value format, delta format, delta colour, help)
METRICS = (
    ("test accuracy", "test_accuracy", "{:.1%}", lambda d: f"{d * 100:+.1f} pp", "normal", None),
    ("NASFR", "nasfr", "{:.4f}", "{:+.4f}".format, "inverse",
     "network-average spike firing rate: spikes per neuron per time step, over all layers"),
    ("spikes / sample", "spikes_per_sample", "{:,.0f}", "{:+,.0f}".format, "inverse",
     "spikes of all layers for one test sample, averaged over the test set"),
    (f"train loss (last {RECENT_STEPS} steps)", None, "{:.3f}", "{:+.3f}".format, "inverse",
     "mean training loss of the latest steps: moves every refresh"),
)


def metric_values(main: Trainer, twin: Trainer) -> list[tuple[str, str, str, str | None, str, str | None]]:
    """Per metric: (label, main value, twin value, twin − main as text or None, delta colour, help)."""
    rows = []
    with main.lock:
        logs = (list(st.session_state.step_log), list(st.session_state.twin_step_log))
    for name, field, shown, delta, colour, help_text in METRICS:
        if field is None:
            values = [_recent_loss(log) for log in logs]
        else:
            values = [getattr(run.history[-1], field) if run.history else None for run in (main, twin)]
        texts = ["–" if v is None else shown.format(v) for v in values]
        difference = None if None in values else delta(values[1] - values[0])
        rows.append((name, texts[0], texts[1], difference, colour, help_text))
    return rows


def show(main: Trainer, twin: Trainer) -> None:
    """The twin view inside the live fragment: both runs' numbers (the twin's with twin − main), then the
    overlaid charts. Charts that change only when an epoch closes are memoised per session (``state.memo_figure``)."""
    ss = st.session_state
    forked = ss.get("twin_forked_at", 0)
    twin_name = label(twin, main)
    rows = metric_values(main, twin)
    st.markdown(f"**main** · {training.describe(main.cfg)}")
    for column, (name, value, _, _, _, help_text) in zip(st.columns(len(rows)), rows):
        column.metric(name, value, help=help_text)
    st.markdown(f"**{twin_name}**" + (f" · forked at step {forked:,}" if forked else " · from the same start")
                + " · the small number is twin − main")
    for column, (name, _, value, delta, colour, help_text) in zip(st.columns(len(rows)), rows):
        column.metric(name, value, delta, delta_color=colour, help=help_text)
    with main.lock:                                   # another script run of the session may be stepping
        runs = (run_figures.RunSeries("main", main.history, list(ss.step_log)),
                run_figures.RunSeries(twin_name, twin.history, list(ss.twin_step_log)))
    key = (main.cfg, main.epoch, twin.cfg, twin.epoch, forked)   # seeded runs and forks repeat exactly
    left, right = st.columns(2)
    left.plotly_chart(run_figures.pair_loss_curves(runs, forked), theme=None, config=PLOTLY_CONFIG, key="twin_loss")
    right.plotly_chart(state.memo_figure(("twin_accuracy", *key), lambda: run_figures.pair_accuracy_curves(runs)),
                       theme=None, config=PLOTLY_CONFIG, key="twin_accuracy")
    if not (main.history and twin.history):
        st.caption("Firing rates and channel patterns appear after the first epoch.")
        return
    left.plotly_chart(state.memo_figure(("twin_nasfr", *key), lambda: run_figures.pair_epoch_curves(
        runs, "nasfr", "NASFR per epoch", "spikes per neuron per step")),
            theme=None, config=PLOTLY_CONFIG, key="twin_nasfr")
    right.plotly_chart(state.memo_figure(("twin_spikes", *key), lambda: run_figures.pair_epoch_curves(
        runs, "spikes_per_sample", "Spikes per test sample", "spikes")),
            theme=None, config=PLOTLY_CONFIG, key="twin_spikes")
    evaluations = (main.last_evaluation, twin.last_evaluation)
    names = ("main", twin_name)
    left.plotly_chart(state.memo_figure(("twin_rates", *key), lambda: run_figures.pair_rate_bars(
        names, [e.activity for e in evaluations])), theme=None, config=PLOTLY_CONFIG, key="twin_rates")
    if all(e.redundancy is not None for e in evaluations):
        right.plotly_chart(state.memo_figure(("twin_patterns", *key), lambda: run_figures.pair_pattern_bars(
            names, [e.redundancy for e in evaluations])), theme=None, config=PLOTLY_CONFIG, key="twin_patterns")
