"""Twin runs on Train & watch ("Compare live"): a second run that differs from the current one in one setting.

The twin is always ``main.fork(cfg)`` (``snn_core.training.trainer``): made before the first step it starts where
the main run starts (same seed, batch order and, wherever names and shapes match, initial weights); made or changed
during the run it continues from the main run's current weights, optimiser state and batch position, so whatever
diverges, diverges from that step on. The two advance in lockstep in the session's background thread
(``snn_app.live.LiveRun``): every step is one step of each. The twin is rebuilt whenever its wanted config or its
main run changes (a Reset, a run opened elsewhere), which ``sync`` notices.

The twin and its settings belong to the session, not the page: the run lives on ``LiveRun``, and the switch's
values are kept in ``twin_kept`` (Streamlit forgets a widget's value once a page without it has run), so leaving
Train & watch and coming back finds the same twin still training. A twin that the current network cannot run (an
ASA or TRT twin of an MLP) is named so in the menu, with a one-click switch of both runs to a network that can.
The twin reserves its own memory in the server's ledger (``training.admitted``, role "twin").
"""
from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from snn_core.config.check import check
from snn_core.config.run_config import RunConfig, cli_index, parse_assignments
from snn_core.methods.catalogue import METHODS
from snn_core.training.trainer import Trainer
from snn_viz import run_figures
from snn_viz.style import PLOTLY_CONFIG

from . import sidebar, state, training
from .failures import FAILURES, failure_message
from .live import LiveRun, StepLoss

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


KEPT = "twin_kept"                        # the switch's widget values, kept across pages (see the module doc)


def _widget_keys() -> list[str]:
    return ["twin_on", "twin_setting", "twin_text", *(f"twin_value_{twin.cli}" for twin in TWINS.values())]


def _restore_widgets() -> None:
    """Put back the values Streamlit dropped while another page ran (before the widgets are drawn)."""
    ss = st.session_state
    for key, value in ss.get(KEPT, {}).items():
        if key not in ss:
            ss[key] = value


def _keep_widgets() -> None:
    ss = st.session_state
    ss[KEPT] = {key: ss[key] for key in _widget_keys() if key in ss}


def controls(cfg: RunConfig) -> None:
    """The **Compare live** switch and the one setting the twin changes (values kept in session state, read by
    ``wanted_changes``). ``cfg`` is the current run's: each value list starts on a value other than its own; a
    setting the current network cannot run says what it needs, and the page offers the switch (``offer_network``)."""
    _restore_widgets()
    on = st.toggle("Compare live", key="twin_on",
                   help="Train a twin of this run that differs in one setting, in lockstep with it: same seed, "
                        "batch order and initial weights. Switched during a run, the twin starts from the run's "
                        "current weights, so the difference shows from that step on. The twin keeps training "
                        "while you visit other pages.")
    if on:
        _setting_controls(cfg)
    _keep_widgets()


def _setting_controls(cfg: RunConfig) -> None:
    ss = st.session_state
    left, right = st.columns([1, 3])
    settings = [*TWINS, ANY_FIELD]
    needs = {setting: needed_network(cfg, setting) for setting in TWINS}
    ss.setdefault("twin_setting", first_runnable(cfg))
    setting = left.selectbox("The twin differs in", settings, key="twin_setting",
                             format_func=lambda name: name + (f" (runs on arch={needs[name]})" if needs.get(name)
                                                              else ""))
    if setting == ANY_FIELD:
        right.text_input("Twin: this run with (KEY=VALUE, space separated)", key="twin_text",
                         placeholder="e.g. hidden=64 or tau=4 threshold=0.8",
                         help="the train options without dashes, as on the Compare page; "
                              "`python -m snn_core train --help` lists them all")
        return
    twin = TWINS[setting]
    cli, values = twin.cli, options(twin.cli)
    key = f"twin_value_{cli}"
    if ss.get(key) not in values:
        ss[key] = other_value(cfg, cli)
    right.radio(f"Twin's {setting}", values, horizontal=True, key=key,
                format_func=lambda value: twin.value_labels.get(value, value))


def needed_network(cfg: RunConfig, setting: str) -> str | None:
    """The architecture (``arch``) on which the twin ``setting`` can run when ``cfg``'s cannot, e.g. "conv" for an
    ASA twin of an MLP (a method's rules refuse it there); None when it runs on ``cfg`` or on no architecture."""
    changes = {TWINS[setting].cli: other_value(cfg, TWINS[setting].cli)}
    if runs(cfg, changes):
        return None
    return next((arch for arch in cli_index()["arch"][1].metadata["choices"]
                 if arch != cfg.model.arch and runs(cfg.with_values({"arch": arch}), changes)), None)


def runs(cfg: RunConfig, changes: dict[str, str]) -> bool:
    try:
        twin_config(cfg, changes)
    except ValueError:
        return False
    return True


def offer_network(main: Trainer | None) -> None:
    """When the picked twin cannot run on the current network but can on another architecture: say so, with a
    button that switches both runs to it (a new run from the same seed, the twin forked from its start: paired)."""
    ss = st.session_state
    setting = ss.get("twin_setting")
    if not ss.get("twin_on") or setting not in TWINS:
        return
    cfg = main.cfg if main is not None else ss.config
    arch = needed_network(cfg, setting)
    if arch is None:
        return
    st.info(f"A {setting} twin needs a {arch} network; this run is an {cfg.model.arch}.", icon=":material/info:")
    st.button(f"Switch both runs to {arch}", icon=":material/swap_horiz:", key="twin_switch_network",
              on_click=switch_network, args=(arch,), type="primary")


def switch_network(arch: str) -> None:
    """A button callback: the sidebar takes ``arch`` (its other settings kept) and a new run starts from it; the
    twin, still switched on, forks from that run's start on the next ``sync``."""
    cfg = st.session_state.config.with_values({"arch": arch})
    sidebar.seed_widgets(cfg)
    st.session_state.config = cfg
    training.new_run()


def other_value(cfg: RunConfig, cli: str) -> str:
    """The first value of a method switch that differs from ``cfg``'s (where the twin's choice starts)."""
    own = value_of(cfg, cli)
    return next((value for value in options(cli) if value != own), own)


def first_runnable(cfg: RunConfig) -> str:
    """The first method switch whose other value can run with ``cfg`` (a method's rules may refuse it: ASA needs a
    conv net), so switching Compare live on shows a twin, not a refusal; else the free KEY=VALUE field."""
    return next((setting for setting, twin in TWINS.items() if runs(cfg, {twin.cli: other_value(cfg, twin.cli)})),
                ANY_FIELD)


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


def label(twin: Trainer, main: Trainer) -> str:
    """The twin's legend name: its settings that differ from the main run, e.g. ``twin (max-spikes=1)``."""
    changed = training.changed_options(main.cfg, twin.cfg)
    return "twin (" + " ".join(f"{cli}={value_of(twin.cfg, cli)}" for cli in changed) + ")"


def _drop(live: LiveRun) -> None:
    with live.exclusive():
        live.drop_twin()
    training.release("twin")


def sync(live: LiveRun) -> None:
    """Make the session's twin match the switch, the picked setting and the current run; called on every run of
    the page. A new or changed twin forks the main run where it is now. A setting that cannot run leaves the twin
    as it was (or none) and is kept in ``twin_problem`` for ``show_problem``; the main run is never touched."""
    ss = st.session_state
    ss.setdefault("twin_problem", "")
    main = live.main
    if live.twin_problem:                       # the twin failed in the background: say why, do not fork it again
        ss.twin_problem, ss.twin_refused, live.twin_problem = live.twin_problem, (main, live.failed_twin), ""
        return
    if main is None or not ss.get("twin_on"):
        _drop(live)
        ss.twin_problem, ss.twin_refused = "", None          # switched on again: a refused twin is tried again
        return
    try:
        changes = wanted_changes()
        if not changes:
            _drop(live)
            ss.twin_problem = ""
            return
        cfg = twin_config(main.cfg, changes)
    except ValueError as problem:
        ss.twin_problem = str(problem)
        return
    if live.twin is not None and live.twin.cfg == cfg:
        return
    refused = ss.get("twin_refused")
    if refused is not None and refused[0] is not main:
        refused = ss.twin_refused = None                  # a new run: the old refusal (and its run) can go
    if refused is not None and refused[1] == cfg:
        return                                            # it failed here already: keep its message, do not retry
    ss.twin_problem = ""
    try:
        with training.framing_bar(), st.spinner(training.loading_message(cfg)), live.exclusive():  # no step meanwhile
            live.set_twin(training.admitted(cfg, "twin", lambda: main.fork(cfg)))
    except FAILURES as problem:            # refused by the ledger, or memory ran out: no twin beside the run
        ss.twin_problem, ss.twin_refused = failure_message(problem), (main, cfg)
        _drop(live)


def show_problem(live: LiveRun) -> None:
    """Why the wanted twin is not running, as an error; says whether an earlier twin goes on or the run is alone."""
    problem = st.session_state.get("twin_problem")
    if not problem:
        return
    if live.twin is None:
        st.error(f"No twin with this setting (the run goes on alone): {problem}")
    else:
        st.error(f"The twin keeps its last setting ({label(live.twin, live.main)}): {problem}")


def _recent_loss(log: Sequence[StepLoss]) -> float | None:
    if not log:
        return None
    recent = [point.cross_entropy for point in log[-RECENT_STEPS:]]
    return sum(recent) / len(recent)


# (label, EpochRecord field or None for the recent loss, value format, delta format, delta colour, help)
METRICS = (
    ("test accuracy", "test_accuracy", "{:.1%}", lambda d: f"{d * 100:+.1f} pp", "normal", None),
    ("NASFR", "nasfr", "{:.4f}", "{:+.4f}".format, "inverse",
     "network-average spike firing rate: spikes per neuron per time step, over all layers"),
    ("spikes / sample", "spikes_per_sample", "{:,.0f}", "{:+,.0f}".format, "inverse",
     "spikes of all layers for one test sample, averaged over the test set"),
    ("train loss", None, "{:.3f}", "{:+.3f}".format, "inverse",
     f"cross-entropy on the original input, mean of the latest {RECENT_STEPS} steps (the same quantity for both "
     "runs, whatever a method adds to its objective): moves every refresh"),
)


def metric_values(live: LiveRun) -> list[tuple[str, str, str, str | None, str, str | None]]:
    """Per metric: (label, main value, twin value, twin − main as text or None, delta colour, help)."""
    rows = []
    logs = live.logs()
    for name, field, shown, delta, colour, help_text in METRICS:
        if field is None:
            values = [_recent_loss(log) for log in logs]
        else:
            values = [getattr(run.history[-1], field) if run.history else None for run in (live.main, live.twin)]
        texts = ["–" if v is None else shown.format(v) for v in values]
        difference = None if None in values else delta(values[1] - values[0])
        rows.append((name, texts[0], texts[1], difference, colour, help_text))
    return rows


def series(name: str, trainer: Trainer, log: Sequence[StepLoss]) -> run_figures.RunSeries:
    """What the pair charts need of one run (its history copied: the thread may be appending)."""
    return run_figures.RunSeries(name, list(trainer.history), [p.cross_entropy for p in log],
                                 [p.objective for p in log])


def show(live: LiveRun) -> None:
    """The twin view inside the live fragment: both runs' numbers (the twin's with twin − main), then the
    overlaid charts. Charts that change only when an epoch closes are memoised per session (``state.memo_figure``)."""
    main, twin, forked = live.main, live.twin, live.twin_forked_at
    twin_name = label(twin, main)
    rows = metric_values(live)
    st.markdown(f"**main** · {training.describe(main.cfg)}")
    for column, (name, value, _, _, _, help_text) in zip(st.columns(len(rows)), rows):
        column.metric(name, value, help=help_text)
    st.markdown(f"**{twin_name}**" + (f" · forked at step {forked:,}" if forked else " · from the same start")
                + " · the small number is twin − main")
    for column, (name, _, value, delta, colour, help_text) in zip(st.columns(len(rows)), rows):
        column.metric(name, value, delta, delta_color=colour, help=help_text)
    main_log, twin_log = live.logs()
    runs = (series("main", main, main_log), series(twin_name, twin, twin_log))
    key = (main.cfg, main.epoch, twin.cfg, twin.epoch, forked)   # seeded runs and forks repeat exactly
    left, right = st.columns(2)
    left.plotly_chart(run_figures.pair_loss_curves(runs, forked), config=PLOTLY_CONFIG, key="twin_loss")
    right.plotly_chart(state.memo_figure(("twin_accuracy", *key), lambda: run_figures.pair_accuracy_curves(runs)),
                       config=PLOTLY_CONFIG, key="twin_accuracy")
    if run_figures.adds_terms(runs):
        left.plotly_chart(run_figures.objective_curves(runs, forked), config=PLOTLY_CONFIG,
                          key="twin_objective")
        right.caption("**Training objective**, left: what each run's optimiser minimises. A method may add terms "
                      "of its own (e.g. a second input or a consistency term), so its objective is not the loss "
                      "above; the loss chart compares one quantity for both runs, the cross-entropy on the "
                      "original input.")
    if not (main.history and twin.history):
        st.caption("Firing rates and channel patterns appear after the first epoch.")
        return
    left, right = st.columns(2)
    left.plotly_chart(state.memo_figure(("twin_nasfr", *key), lambda: run_figures.pair_epoch_curves(
        runs, "nasfr", "NASFR per epoch", "spikes per neuron per step")),
            config=PLOTLY_CONFIG, key="twin_nasfr")
    right.plotly_chart(state.memo_figure(("twin_spikes", *key), lambda: run_figures.pair_epoch_curves(
        runs, "spikes_per_sample", "Spikes per test sample", "spikes")),
            config=PLOTLY_CONFIG, key="twin_spikes")
    evaluations = (main.last_evaluation, twin.last_evaluation)
    names = ("main", twin_name)
    left.plotly_chart(state.memo_figure(("twin_rates", *key), lambda: run_figures.pair_rate_bars(
        names, [e.activity for e in evaluations])), config=PLOTLY_CONFIG, key="twin_rates")
    if all(e.redundancy is not None for e in evaluations):
        right.plotly_chart(state.memo_figure(("twin_patterns", *key), lambda: run_figures.pair_pattern_bars(
            names, [e.redundancy for e in evaluations])), config=PLOTLY_CONFIG, key="twin_patterns")
