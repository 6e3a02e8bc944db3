"""What the switched-on methods learn, shown live on Train & watch (``Method.reading``: e.g. each layer's learned
membrane τ under PLIF). Each refresh reads the current network and appends the values to a per-run series kept in
the session, so a learner sees them move as the run trains; a new run records its starting values at step 0, and a
Compare live twin's values are drawn beside the run's (its layers marked "twin")."""
from __future__ import annotations

import streamlit as st

from snn_core.methods.catalogue import METHODS
from snn_core.training.trainer import Trainer
from snn_viz.method_figures import reading_curves
from snn_viz.style import PLOTLY_CONFIG

MAX_POINTS = 2000              # readings kept per series (a long run keeps its latest)
TWIN_SUFFIX = " (twin)"


def record(trainer: Trainer, role: str = "run") -> set[str]:
    """Add what ``trainer``'s network reads now, at its current step, to each method's series for ``role``; the
    names of the methods that read anything (those whose part the network has)."""
    found = set()
    for method in METHODS:
        if method.reading is not None:
            with trainer.lock:
                values = method.reading.values(trainer.model)
            if values:
                _series(f"{method.name}:{role}", trainer, values)
                found.add(method.name)
    return found


def show(trainer: Trainer, twin: Trainer | None = None) -> None:
    """One chart per method whose reading the run's or the twin's network has (its equation and meaning are in
    ``explain``); nothing for a run no method with a reading acts on."""
    read = {"run": record(trainer), "twin": set() if twin is None else record(twin, "twin")}
    for method in METHODS:
        runs = [(role, suffix) for role, suffix in (("run", ""), ("twin", TWIN_SUFFIX)) if method.name in read[role]]
        if not runs:
            continue
        lines = {}
        for role, suffix in runs:
            kept = st.session_state[f"reading_series:{method.name}:{role}"]
            lines.update({layer + suffix: (kept["steps"], series) for layer, series in kept["values"].items()})
        with st.container(border=True):
            st.markdown(f"**{method.title}**: {method.summary}")
            st.plotly_chart(reading_curves(method.reading.label, lines), config=PLOTLY_CONFIG,
                            key=f"reading:{method.name}")


def explain() -> None:
    """For every method with a reading, what it learns: its equation and a paragraph a student understands (shown
    whether or not the run uses it, so the sidebar switch can be understood before it is turned on)."""
    for method in METHODS:
        if method.reading is not None:
            with st.expander(f"What {method.title} learns"):
                st.latex(method.reading.equation)
                st.caption(method.reading.explain)


def _series(name: str, trainer: Trainer, values: dict[str, float]) -> None:
    """Add ``values`` at the run's current step to series ``name`` (a step read twice keeps the latest). A different
    run, or one whose step went back (a reset), starts a new series."""
    key = f"reading_series:{name}"
    kept = st.session_state.get(key)
    if kept is None or kept["run"] != id(trainer) or (kept["steps"] and kept["steps"][-1] > trainer.steps):
        kept = st.session_state[key] = {"run": id(trainer), "steps": [], "values": {}}
    if kept["steps"] and kept["steps"][-1] == trainer.steps:
        kept["steps"].pop()
        for series in kept["values"].values():
            series.pop()
    kept["steps"].append(trainer.steps)
    for layer, value in values.items():
        kept["values"].setdefault(layer, []).append(value)
    del kept["steps"][:-MAX_POINTS]
    for series in kept["values"].values():
        del series[:-MAX_POINTS]
