"""The shared run settings in the sidebar: one widget per config field, built from the field specs.

Widgets are labelled and keyed by the field's CLI name (keys prefixed ``cfg:`` so they never clash
with a page's own widgets), so the URL, the CLI and the sidebar all use the same names.
Settings that cannot run together (``snn_core.config.check``) are listed under the widgets as the
user edits, and the session keeps its last valid config until they are fixed.
``GROUPS`` is the only list to edit when a setting is added.

Picking a dataset starts its settings from the ones that suit it (``DatasetInfo.defaults``: N-MNIST gets a
conv net, T 8, ...). The settings only real datasets read (``FOLDER_ONLY``) are shown for those alone, so a
digits user sees fewer widgets; a generated dataset puts them back to their defaults, which ``check`` requires.

Classroom mode (the Basic/Advanced switch on top, ``?mode=class`` in the URL) shows the dozen settings of ``BASIC``,
all a lesson needs. A hidden setting keeps its value, and one that is off its default (from a link, a challenge or
the Advanced view) is shown anyway, so nothing changes a run unseen and any problem ``check`` reports can be fixed.
"""
from __future__ import annotations

import dataclasses

import streamlit as st

from snn_core.config.check import FOLDER_FIELDS, check
from snn_core.config.run_config import RunConfig, cli_index, parse_value
from snn_core.data import DATASETS
from snn_core.data.folders import default_roots, resolve_root

from .text import escape_markdown

GROUPS = {
    "Data": ("dataset", "data-dir", "frame-size", "event-frames", "denoise-us", "crop-us", "holdout", "sensor", "T",
             "encoding", "latency-window", "noise", "train-samples", "test-samples", "validation",
             "data-seed"),
    "Network": ("arch", "hidden", "channels", "batch-norm", "readout", "tau-loss", "first-spike-reg",
                "engine"),
    "Neuron": ("neuron", "decay", "tau-syn", "threshold", "reset", "v-reset", "surrogate", "surrogate-width",
               "max-spikes", "kernel"),
    "Methods": ("asa", "asa-constant-gate", "asa-lambda", "asa-reduction", "asa-layers", "asa-rule",
                "asa-gate-important", "asa-gate-sub", "max-spikes-note", "trt", "trt-perturbation", "trt-kl-weight",
                "trt-tau", "trt-ce-reversed", "trt-star", "trt-bn-stats"),
    "Training": ("epochs", "batch-size", "lr", "lr-schedule", "seed", "target-accuracy", "weight-bump",
                 "robustness"),
}
SLIDERS = {"T", "decay", "max-spikes"}
NOTES = {          # a caption shown above the setting (or alone, for a key that is not a setting)
    "asa": "ASA gates conv layers (arch conv); 'clean' is a re-implementation, not the paper's code; 'constant' "
           "and 'scalar' are its controls: the same current shrunk without attention.",
    "trt": "TRT adds a time-reversed training branch; inference is unchanged.",
    "max-spikes-note": "The spike cap K is live (Neuron ▸ max-spikes); the first-spike readout is Network ▸ "
                       "readout, the TTFS neuron Neuron ▸ neuron = cuba.",
}
EXAMPLES = {"asa-layers": "1,2", "sensor": "640,480"}   # comma-separated fields whose example is not a list of sizes
EXPANDED = {"Data", "Network"}
BASIC = ("dataset", "T", "arch", "hidden", "channels", "decay", "threshold", "max-spikes", "asa", "trt", "epochs",
         "lr")                     # classroom mode's settings: the lesson's dials and the three method switches
MODE_KEY = "ui:mode"
MODES = ("Basic", "Advanced")
KEY_PREFIX = "cfg:"
FOLDER_ONLY = tuple(cli for cli, (section, fld) in cli_index().items()        # read by real datasets only
                    if section == "data" and fld.name in FOLDER_FIELDS)


def widget_key(cli: str) -> str:
    return KEY_PREFIX + cli


def classroom() -> bool:
    """Whether the sidebar is in classroom (Basic) mode."""
    return st.session_state.get(MODE_KEY) == "Basic"


def set_classroom(basic: bool) -> None:
    """Set the Basic/Advanced switch (before it is drawn: from the URL)."""
    st.session_state[MODE_KEY] = "Basic" if basic else "Advanced"


def seed_widgets(cfg: RunConfig) -> None:
    """Put ``cfg``'s values into the widgets' session state (used once, from the URL)."""
    for cli, (section, fld) in cli_index().items():
        st.session_state[widget_key(cli)] = _widget_value(fld, getattr(getattr(cfg, section), fld.name))


def _widget_value(fld: dataclasses.Field, value):
    return ",".join(str(v) for v in value) if fld.metadata["length"] is not None else value


def _widget(cli: str, fld: dataclasses.Field, default):
    m, label, key = fld.metadata, cli.replace("-", " "), widget_key(cli)
    st.session_state.setdefault(key, _widget_value(fld, default))
    if cli == "dataset":
        return st.selectbox(label, m["choices"], key=key, help=m["help"], on_change=_dataset_picked,
                            args=(st.session_state[key],))
    if m["choices"] is not None:
        return st.selectbox(label, m["choices"], key=key, help=m["help"], disabled=len(m["choices"]) == 1)
    if m["kind"] is bool:
        return st.toggle(label, key=key, help=m["help"])
    if m["kind"] is str:
        return st.text_input(label, key=key, help=m["help"], max_chars=m["hi"], placeholder="default folder")
    if m["length"] is not None:
        return st.text_input(label, key=key, help=f"{m['help']}, e.g. {EXAMPLES.get(cli, '64,32')}")
    if cli in SLIDERS:
        step = 1 if m["kind"] is int else 0.01
        return st.slider(label, m["kind"](m["lo"]), m["kind"](m["hi"]), key=key, step=step, help=m["help"])
    step = 1 if m["kind"] is int else None
    return st.number_input(label, m["kind"](m["lo"]), m["kind"](m["hi"]), key=key, step=step, help=m["help"],
                           format="%g" if m["kind"] is float else "%d")


def _default(cli: str):
    """The config's default of a setting, in its widget's form."""
    section, fld = cli_index()[cli]
    return _widget_value(fld, getattr(getattr(RunConfig(), section), fld.name))


def _dataset_picked(previous: str) -> None:
    """Dataset selectbox callback (it runs before the widgets are drawn, when their values may be set).

    The settings the previous dataset's defaults had set, and the real-data-only ones (a folder, a sensor and a
    framing belong to one dataset), go back to the config's defaults; then the new dataset's defaults apply."""
    chosen = DATASETS[st.session_state[widget_key("dataset")]]
    old = DATASETS[previous].defaults if previous in DATASETS else {}
    for cli in {*old, *FOLDER_ONLY} - set(chosen.defaults):
        st.session_state[widget_key(cli)] = _default(cli)
    for cli, raw in chosen.defaults.items():
        fld = cli_index()[cli][1]
        st.session_state[widget_key(cli)] = _widget_value(fld, parse_value(fld, raw))


def _folder_field_shown(cli: str, dataset: str) -> bool:
    """A real-data-only setting is drawn for a dataset that reads a folder (``sensor`` only where the sensor is not
    fixed: event-folder), and also while it is not at its default (a link may carry one), so the problem ``check``
    reports can be fixed where it is shown."""
    info = DATASETS[dataset]
    return (info.reads_folder and (cli != "sensor" or info.sensor is None)
            or st.session_state.get(widget_key(cli), _default(cli)) != _default(cli))


def _off_default(cli: str) -> bool:
    return st.session_state.get(widget_key(cli), _default(cli)) != _default(cli)


def _shown(cli: str, dataset: str | None, basic: bool) -> bool:
    """Whether ``cli`` (a setting or a caption key of ``GROUPS``) is drawn in this mode for this dataset."""
    if cli in FOLDER_ONLY and not _folder_field_shown(cli, dataset):
        return False                                       # the config's default applies
    if not basic or cli in BASIC:
        return True
    if cli in NOTES and cli not in cli_index():             # a caption of its own: Advanced only
        return False
    return _off_default(cli)


def _data_source_caption(dataset: str) -> None:
    """One line saying which folder a real dataset is read from (an empty data-dir searches ``default_roots()``)."""
    if not DATASETS[dataset].reads_folder:
        return
    data_dir = st.session_state.get(widget_key("data-dir"), "")
    try:
        root = resolve_root(data_dir, dataset)
    except ValueError as problem:
        st.caption(f":red[:material/folder_off: {escape_markdown(str(problem), 2000)}]")
        return
    places = ", ".join(escape_markdown(str(base / dataset), 500) for base in default_roots())
    how = "" if data_dir else f" (data-dir empty: the first of {places} that exists)"
    st.caption(f":material/folder_open: Reads **{escape_markdown(str(root), 2000)}**{how}.")


def render(last_valid: RunConfig) -> RunConfig:
    """Draw every setting; return the config they describe, or ``last_valid`` with the problems shown."""
    index, defaults = cli_index(), RunConfig()
    values = {}
    st.session_state.setdefault(MODE_KEY, "Advanced")
    st.radio("Settings shown", MODES, key=MODE_KEY, horizontal=True,
             help="Basic (classroom mode): the dozen settings a lesson needs; Advanced: every setting. "
                  "Hidden settings keep their values, and any that is not at its default stays shown.")
    basic = classroom()
    st.header("Run settings")
    problems_slot = st.container()         # above the groups: seen whichever group the user is editing
    if basic:
        hidden = sum(not _shown(cli, st.session_state.get(widget_key("dataset"), "digits"), True)
                     for cli in index)
        st.caption(f":material/school: Classroom mode: {len(index) - hidden} settings shown; the other {hidden} "
                   "keep their default values (Advanced shows them).")
    for group, names in GROUPS.items():
        with st.expander(group, expanded=basic or group in EXPANDED):
            for cli in names:
                if not _shown(cli, values.get("dataset"), basic):
                    continue
                if cli in NOTES:
                    st.caption(NOTES[cli])
                if cli in index:
                    section, fld = index[cli]
                    values[cli] = _widget(cli, fld, getattr(getattr(defaults, section), fld.name))
                if cli == "dataset":
                    _data_source_caption(values["dataset"])
    try:
        cfg = RunConfig().with_values(values)
    except ValueError as problem:
        problems_slot.error(f"{escape_markdown(str(problem), 2000)}. Still using the last valid settings.")
        return last_valid
    problems = check(cfg)
    if problems:
        hint = "\n\nClassroom mode hides some settings: Advanced shows them all." if basic else ""
        problems_slot.error("These settings cannot run together, so the last valid ones are still used:\n\n"
                            + "\n".join(f"- {escape_markdown(problem, 2000)}" for problem in problems) + hint)
        return last_valid
    return cfg
