"""The shared run settings in the sidebar: one widget per config field, built from the field specs.

Widgets are labelled and keyed by the field's CLI name (keys prefixed ``cfg:`` so they never clash
with a page's own widgets), so the URL, the CLI and the sidebar all use the same names.
Settings that cannot run together (``snn_core.config.check``) are listed under the widgets as the
user edits, and the session keeps its last valid config until they are fixed.
``GROUPS`` is the only list to edit when a core setting is added; a method's settings, captions and classroom
switches come from its record (``snn_core.methods.catalogue.METHODS``), so a new method appears by itself.

Picking a dataset starts its settings from the ones that suit it (``DatasetInfo.defaults``: N-MNIST gets a
conv net, T 8, ...). The settings only real datasets read (``FOLDER_ONLY``) are shown for those alone, so a
digits user sees fewer widgets; a generated dataset puts them back to their defaults, which ``check`` requires.

Classroom mode (the Basic/Advanced switch on top, ``?mode=class`` in the URL) shows the dozen settings of ``BASIC``,
all a lesson needs. A hidden setting keeps its value, and one that is off its default (from a link, a challenge or
the Advanced view) is shown anyway, so nothing changes a run unseen and any problem ``check`` reports can be fixed.

A real dataset says where it is read from and what that folder holds (the ``folders`` listings, so a folder not in
the dataset's layout is named at once), offers the samples bundled with the repository and, for N-MNIST, DVS Gesture
and SHD, a button that downloads the full dataset (``snn_core.data.fetch``) with a progress bar. Messages are in
plain words (``plain_words``): a browser user never reads a CLI flag.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import streamlit as st

from snn_core.config.check import FOLDER_FIELDS, check
from snn_core.config.run_config import ALIASES, RunConfig, cli_index, parse_value
from snn_core.data import DATASETS, fetch, folders
from snn_core.data.readers import SUFFIXES
from snn_core.methods.catalogue import METHODS

from .text import escape_markdown

GROUPS = {
    "Data": ("dataset", "data-dir", "frame-size", "event-frames", "denoise-us", "crop-us", "holdout", "sensor", "T",
             "encoding", "latency-window", "noise", "train-samples", "test-samples", "validation",
             "data-seed"),
    "Network": ("arch", "hidden", "channels", "batch-norm", "bn-gamma", "readout", "tau-loss", "engine"),
    "Neuron": ("neuron", "decay", "tau-syn", "threshold", "reset", "v-reset", "surrogate", "surrogate-width",
               "kernel"),
    "Methods": tuple(cli for method in METHODS for cli in method.cli_names),     # each method's, in its order
    "Training": ("epochs", "batch-size", "lr", "lr-schedule", "seed", "target-accuracy", "select-epoch", "robustness"),
}
SLIDERS = {"T", "decay", *(cli for method in METHODS for cli in method.sliders)}
NOTES = {cli: note for method in METHODS for cli, note in method.notes.items()}   # a caption above the setting
EXAMPLES = {"sensor": "640,480",          # comma-separated fields whose example is not a list of sizes
            **{cli: example for method in METHODS for cli, example in method.examples.items()}}
EXPANDED = {"Data", "Network"}
BASIC = ("dataset", "T", "arch", "hidden", "channels", "decay", "threshold",      # classroom mode's settings: the
         *(cli for method in METHODS for cli in method.basic), "epochs", "lr")   # lesson's dials, every method's switch
MODE_KEY = "ui:mode"
MODES = ("Basic", "Advanced")
KEY_PREFIX = "cfg:"
FOLDER_ONLY = tuple(cli for cli, (section, fld) in cli_index().items()        # read by real datasets only
                    if section == "data" and fld.name in FOLDER_FIELDS)
NEXT_DATA_DIR = "ui:next-data-dir"       # a data folder to put in its box on the next run (it is drawn by then)
FETCH_NOTE = "ui:fetch-note"             # (dataset, success or error, text) of the last fetch, shown until next one
FIELD_NAME = re.compile(r"\b(data|model|neuron|methods|training)\.([a-z_]+)(?: \(--[\w-]+\))?(=)?")
FLAG = re.compile(r"(?<![\w-])--([A-Za-z][\w-]*)")
FETCH_COMMAND = re.compile(r"(,? or the dataset fetched )?\((?:snn|python -m snn_core) data fetch ([\w-]+)\)")


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
    return _off_default(cli)


def setting_name(cli: str) -> str:
    """How the sidebar shows a setting: its group and label, e.g. ``Data ▸ data dir``."""
    group = next((name for name, members in GROUPS.items() if cli in members), "")
    return f"{group} ▸ {cli.replace('-', ' ')}" if group else cli.replace("-", " ")


def plain_words(message: str) -> str:
    """An engine message (written for the CLI) as a browser user reads it: ``data.data_dir (--data-dir)=...`` and a
    bare ``--batch-size`` become the sidebar's names (``Data ▸ data dir = ...``), and ``(snn data fetch nmnist)`` the
    Fetch button. The engine's messages stay as they are for the CLI."""
    index = cli_index()
    names = {(section, fld.name): cli for cli, (section, fld) in index.items()}

    def field(match: re.Match) -> str:
        cli = names.get((match[1], match[2]))
        if cli is None:
            return match[0]
        return setting_name(cli) + (" = " if match[3] else "")

    def flag(match: re.Match) -> str:
        cli = ALIASES.get(match[1], match[1])
        return setting_name(cli) if cli in index else match[0]

    def fetch_button(match: re.Match) -> str:
        if match[2] not in fetch.FETCHABLE:
            return ""
        return f"{match[1] or ''}(the 'Fetch {match[2]}' button below)"

    return FLAG.sub(flag, FETCH_COMMAND.sub(fetch_button, FIELD_NAME.sub(field, message)))


@st.cache_data(ttl=30, max_entries=64, show_spinner=False)
def folder_summary(dataset: str, folder: str) -> tuple[bool, str]:
    """(whether ``folder`` is in ``dataset``'s layout, what it holds or why not), from the ``folders`` listings;
    cached a little while, since a full dataset's listing reads tens of thousands of names."""
    root = Path(folder)
    try:
        if dataset == "shd":
            train, test = folders.shd_files(root)
            return True, f"{train.name}" + (f" and {test.name}" if test else " (no shd_test.h5: part of the "
                                                                             "training set is held out to test)")
        listing = {"nmnist": folders.nmnist_files, "dvs-gesture": folders.dvs_gesture_files}.get(dataset)
        files = listing(root) if listing else folders.event_folder_files(root, SUFFIXES)
    except (ValueError, OSError) as problem:
        return False, str(problem)
    test = f" and {len(files.test)} test" if files.test else ""
    held = "" if files.test else " (no test split: part of them is held out to test)"
    return True, f"{len(files.train)} training{test} recordings of {len(files.class_names)} classes{held}"


def _red(text: str) -> str:
    return f":red[:material/error: {escape_markdown(plain_words(text), 2000)}]"


def _data_source_caption(dataset: str) -> None:
    """One line saying which folder a real dataset is read from (an empty data-dir searches ``default_roots()``) and
    what it holds; a typed folder is checked under its box instead (``_data_dir_check``)."""
    if not DATASETS[dataset].reads_folder:
        return
    data_dir = st.session_state.get(widget_key("data-dir"), "")
    if data_dir:
        st.caption(":material/folder_open: Reads the data folder given under Data ▸ data dir.")
        return
    try:
        root = folders.resolve_root("", dataset)
    except ValueError as problem:
        st.caption(f":red[:material/folder_off: {escape_markdown(plain_words(str(problem)), 2000)}]")
        return
    places = ", ".join(escape_markdown(str(base / dataset), 500) for base in folders.default_roots())
    ok, summary = folder_summary(dataset, str(root))
    bundled = " These are the samples bundled with the app, a small part of the dataset." \
        if _is_bundled(root, dataset) else ""
    st.caption(f":material/folder_open: Reads **{escape_markdown(str(root), 2000)}** (data-dir empty: the first of "
               f"{places} that exists){': ' + escape_markdown(summary, 500) if ok else ''}.{bundled}")
    if not ok:
        st.caption(_red(summary))


def _is_bundled(root: Path, dataset: str) -> bool:
    return root.resolve() == (folders.BUNDLED_SAMPLES / dataset).resolve()


def _data_dir_check(dataset: str, data_dir: str) -> None:
    """The line under the data-dir box: what the typed folder holds, or in plain words why it cannot be read."""
    if not data_dir or not DATASETS[dataset].reads_folder:
        return
    try:
        root = folders.resolve_root(data_dir, dataset)
    except ValueError as problem:
        st.caption(_red(f"{problem}"))
        return
    ok, summary = folder_summary(dataset, str(root))
    st.caption(f":material/check_circle: {escape_markdown(summary, 500)}." if ok else _red(summary))


def _use_folder(folder: str) -> None:
    """Button callback (it runs before the widgets are drawn): put ``folder`` in the data-dir box."""
    st.session_state[widget_key("data-dir")] = folder


def _fetch_offered(dataset: str) -> bool:
    """Whether the full dataset is missing: not fetched, and the default search finds nothing, only the bundled
    samples, or a folder not in the layout."""
    if dataset not in fetch.FETCHABLE or fetch.fetched(fetch.default_folder(dataset), dataset) is not None:
        return False
    try:
        root = folders.resolve_root("", dataset)
    except ValueError:
        return True
    return _is_bundled(root, dataset) or not folder_summary(dataset, str(root))[0]


def _data_actions(dataset: str) -> None:
    """Under the dataset: use the bundled samples, fetch the full dataset (progress bar, errors shown here)."""
    if not DATASETS[dataset].reads_folder:
        return
    samples = folders.BUNDLED_SAMPLES / dataset
    if samples.is_dir() and st.session_state.get(widget_key("data-dir"), "") != str(samples):
        st.button("Use the bundled samples", key=f"ui:samples:{dataset}", on_click=_use_folder, args=(str(samples),),
                  icon=":material/folder_special:",
                  help=f"Read {escape_markdown(str(samples), 500)}: real recordings that ship with the app, a "
                       "small part of the dataset.")
    note = st.session_state.get(FETCH_NOTE)
    if note and note[0] == dataset:
        (st.success if note[1] == "success" else st.error)(note[2])
    if not _fetch_offered(dataset):
        return
    target = fetch.default_folder(dataset)
    if st.button(f"Fetch {dataset}", key=f"ui:fetch:{dataset}", icon=":material/download:",
                 help=f"Download the full dataset (tonic's files, checked against their md5 sums) into "
                      f"{escape_markdown(str(target), 500)}, "
                      "where it is read with data-dir empty. It can take long: keep this page open; a download "
                      "stopped by a change of setting resumes when fetched again."):
        _run_fetch(dataset)


def _run_fetch(dataset: str) -> None:
    """``fetch_dataset`` with an ``st.progress`` bar; the outcome is kept in ``FETCH_NOTE`` for the next runs."""
    st.session_state.pop(FETCH_NOTE, None)
    bar = st.progress(0.0, text=f"Fetching {dataset}...")
    shown = [None]

    def progress(done: int, total: int, label: str) -> None:
        fraction = min(done / total, 1.0) if total > 0 else 0.0
        step = (round(fraction * 100), label, done >> 24 if not total else 0)
        if step != shown[0]:                    # each percent (or 16 MB when the size is unknown), each stage
            shown[0] = step
            amount = f"{done / 1e6:,.0f} of {total / 1e6:,.0f} MB" if total > 0 else f"{done / 1e6:,.0f} MB"
            bar.progress(fraction, text=f"{escape_markdown(label, 200)}: {amount}")

    try:
        folder = fetch.fetch_dataset(dataset, progress=progress)
    except (ValueError, OSError) as problem:
        text = f"Fetching {dataset} failed: {escape_markdown(plain_words(str(problem)), 2000)}"
    except Exception as problem:                # never the app's traceback: the session goes on
        text = f"Fetching {dataset} failed ({type(problem).__name__}): {escape_markdown(str(problem), 2000)}"
    else:
        bar.empty()
        folder_summary.clear()
        info = fetch.fetched(folder, dataset) or {}
        st.session_state[FETCH_NOTE] = (dataset, "success", f"Fetched {dataset} into **"
                                        f"{escape_markdown(str(folder), 2000)}**: {info.get('files', 0)} files.")
        if st.session_state.get(widget_key("data-dir")):
            st.session_state[NEXT_DATA_DIR] = ""      # the default search finds the fetched folder first
        st.rerun()
    bar.empty()
    st.session_state[FETCH_NOTE] = (dataset, "error", text)
    st.error(text)


def render(last_valid: RunConfig) -> RunConfig:
    """Draw every setting; return the config they describe, or ``last_valid`` with the problems shown."""
    index, defaults = cli_index(), RunConfig()
    values = {}
    if NEXT_DATA_DIR in st.session_state:              # set by a fetch in the run before, when the box was drawn
        st.session_state[widget_key("data-dir")] = st.session_state.pop(NEXT_DATA_DIR)
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
                    _data_actions(values["dataset"])
                if cli == "data-dir":
                    _data_dir_check(values["dataset"], values["data-dir"])
    try:
        cfg = RunConfig().with_values(values)
    except ValueError as problem:
        problems_slot.error(f"{escape_markdown(plain_words(str(problem)), 2000)}. Still using the last valid "
                            "settings.")
        return last_valid
    problems = check(cfg)
    if problems:
        hint = "\n\nClassroom mode hides some settings: Advanced shows them all." if basic else ""
        problems_slot.error("These settings cannot run together, so the last valid ones are still used:\n\n"
                            + "\n".join(f"- {escape_markdown(plain_words(problem), 2000)}" for problem in problems)
                            + hint)
        return last_valid
    return cfg
