"""What a page's "Download these results" panel offers: its results as JSON (each record's ``to_json()``) and as a CSV
table, one row per run (``snn_core.results.results_table``: config by CLI name, metrics flattened to dotted names,
``error``, ``cached``) or per neuron and step; and Train & watch's downloads of its run.

How a download reaches the browser (Streamlit 1.67), and why each button is built the way it is:

- *eager* (the file's bytes handed to ``st.download_button``): stored when the page is drawn, named by a hash of its
  content, so a later rerun that draws the same file keeps the same address, and a file no rerun draws any more is
  kept for one more clean-up. Costs its build on every rerun that draws the panel.
- *lazy* (a callable): built on Streamlit's download thread when the button is pressed, under a placeholder id that
  every full rerun replaces (a new id per run; the old one is dropped when that run ends). A click whose id was
  already dropped, or a callable that raises, reaches the browser only as the red note "Failed to generate file for
  download" under the button; the callable has no script context, so it must not read ``st.session_state``.

So: what costs under a few milliseconds is eager; what evaluates the model or builds figures is lazy, its callable
holding plain values captured when the panel was drawn and recording why it failed (``DownloadProblems``), which the
panel then shows in words. Every button is ``on_click="ignore"``: pressing it does not rerun the page, so the click
itself never replaces the id it is fetching (with a rerun, the download thread raced the rerun's clean-up; under
load it lost: "Deferred file ... not found").
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import streamlit as st

from snn_core.experiments.run import run_result
from snn_core.interop.nir_graph import ReaderWarning, export_nir, exportable, graph_to_bytes
from snn_core.results import Comparison, RunResult, Sweep, results_table
from snn_core.results.json_tree import valid_json
from snn_core.training.trainer import Trainer

from . import sidebar, training
from .failures import failure_message
from .text import escape_markdown

RECORDS = (RunResult, Comparison, Sweep)      # written as their ``to_json()``, the CLI's layout


def csv_text(rows: pd.DataFrame | Iterable[Mapping]) -> str:
    """A table, or rows whose columns are every key seen in first-seen order, as CSV (a missing value is empty)."""
    if isinstance(rows, pd.DataFrame):
        return rows.to_csv(index=False, lineterminator="\r\n")
    rows = list(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def runs_table(runs: Sequence[RunResult], **labels) -> pd.DataFrame:
    """``results_table(runs)`` with a first column per label (e.g. experiment, arm): one value for every row, or a
    list with one value per run."""
    table = results_table(runs)
    for position, (name, values) in enumerate(labels.items()):
        table.insert(position, name, values)
    return table


def comparison_rows(result: Comparison, **labels) -> pd.DataFrame:
    """A comparison's runs, one row per (seed, arm), the arm named in the column ``arm``."""
    runs = [run for pair in result.per_seed for run in (pair.base, pair.variant)]
    return runs_table(runs, **labels, arm=["base", "variant"] * len(result.per_seed))


def sweep_rows(result: Sweep) -> pd.DataFrame:
    """A sweep's finished runs, one row per (value, seed); the swept option is its config column."""
    return results_table([run for point in result.points for run in point.runs])


def trainers_result(trainers: Mapping[str, Trainer]) -> dict[str, RunResult]:
    """Named trained runs as records (their JSON is the ``train`` command's: config, history, metrics, data)."""
    return {name: run_result(trainer) for name, trainer in trainers.items()}


def trainers_rows(trainers: Mapping[str, Trainer], label: str) -> pd.DataFrame:
    """Named trained runs, one row each, the name in the column ``label``."""
    runs = trainers_result(trainers)
    return runs_table(list(runs.values()), **{label: list(runs)})


def nir_problem(trainer: Trainer) -> str | None:
    """Why the trained model cannot be downloaded as NIR (the spike cap, ASA's gates, the exact engine), or None."""
    try:
        exportable(trainer.cfg, trainer.model)
    except ValueError as problem:
        return str(problem)
    return None


NIR_READERS = ("Other libraries: snnTorch, SpikingJelly and Norse (`from_nir(graph, dt=1e-4)`) run this file with "
               "the app's spikes; a soft reset (CUBA's too), V_reset ≠ 0, pooling in Norse and a neuron without leak "
               "in snnTorch do not carry over (docs/NIR_INTEROP.md).")


def nir_file(trainer: Trainer) -> bytes:
    """The trained model as a ``.nir`` file (``snn_core.interop.nir_graph``: BatchNorm folded with its running
    statistics, time step dt = 1e-4, the one snnTorch assumes). The export's notes on other libraries
    (``ReaderWarning``) are the page's ``NIR_READERS`` caption, not warnings in the server's log."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReaderWarning)
        return graph_to_bytes(export_nir(trainer.model, trainer.cfg, tuple(trainer.dataset.frame_shape)))


def spikes_rows(spikes: np.ndarray, names: list[str]) -> list[dict]:
    """A layer's spike train ``[T, neurons]`` of one sample: one row per (neuron, step) that spiked."""
    return [{"neuron": names[neuron], "step": int(step)} for step, neuron in zip(*np.nonzero(spikes))]


def panel(name: str, result: Callable[[], object], rows: Callable[[], Iterable[Mapping]], key: str) -> None:
    """The panel: ``result()`` as ``<name>.json`` and ``rows()`` as ``<name>.csv``, each built only when its button
    is pressed (a trained run's JSON evaluates it again); a build that failed is explained here on the next run."""
    problems = DownloadProblems.of_session()
    with st.expander("Download these results"):
        show_problems(problems, (f"{key}_json", f"{key}_csv"))
        left, right = st.columns(2)
        left.download_button("results (JSON)", lazy(lambda: json_text(result()), "results (JSON)", f"{key}_json",
                                                    problems),
                             f"{name}.json", "application/json", key=f"{key}_json", on_click="ignore")
        right.download_button("table (CSV)", lazy(lambda: csv_text(rows()), "table (CSV)", f"{key}_csv", problems),
                              f"{name}.csv", "text/csv", key=f"{key}_csv", on_click="ignore")


def json_text(result) -> str:
    """``result`` as valid JSON: records and configs as their trees, numpy values made plain, NaN written as null
    (``results.json_tree.valid_json``)."""
    return valid_json(json.loads(json.dumps(result, default=json_default)), indent=2)


def json_default(value):
    """JSON for what ``json`` does not know: result records (``to_json()``), configs (their tree), numpy numbers and
    arrays."""
    if isinstance(value, RECORDS):
        return value.to_json()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


class DownloadProblems:
    """Why lazy downloads of this session could not be built, by button key, until a panel shows them.

    The download thread writes (``record``), a later script run reads (``take``): a lock between them. One per
    session (``of_session``); a lazy callable holds the object itself, never ``st.session_state``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: dict[str, str] = {}

    @staticmethod
    def of_session() -> DownloadProblems:
        return st.session_state.setdefault("download_problems", DownloadProblems())

    def record(self, key: str, message: str) -> None:
        with self._lock:
            self._messages[key] = message

    def take(self, keys: Iterable[str]) -> list[str]:
        """The messages recorded for ``keys`` (in that order), forgotten once taken: each is shown once."""
        with self._lock:
            return [message for key in keys if (message := self._messages.pop(key, None)) is not None]


def lazy(build: Callable[[], str | bytes], label: str, key: str, problems: DownloadProblems,
         lock: contextlib.AbstractContextManager | None = None) -> Callable[[], str | bytes]:
    """``build`` as a download button's callable, run holding ``lock`` (a run's ``Trainer.lock``: no step changes the
    weights half-way through the build); a failure is recorded in ``problems`` under ``key`` as "<label> could not
    be made: <why>" (``failures.failure_message``), then raised, so the button shows its red note and the panel says
    why when the page next runs."""
    def built() -> str | bytes:
        try:
            with lock or contextlib.nullcontext():
                return build()
        except Exception as problem:
            problems.record(key, f"{label} could not be made: {failure_message(problem)}")
            raise
    return built


def show_problems(problems: DownloadProblems, keys: Iterable[str]) -> None:
    """A warning per lazy download of ``keys`` that failed since the panel was last drawn, in the sidebar's words
    (``sidebar.plain_words``; the message may quote a file or dataset name: escaped)."""
    for message in problems.take(keys):
        shown = escape_markdown(sidebar.plain_words(message).rstrip("."), 600)
        st.warning(f"{shown}. Press the button again; if it fails again, the other files still download.",
                   icon=":material/error:")


LAZY_RUN_KEYS = ("run_json", "run_nir", "run_figures")
LAZY_NOTE = ("run (JSON), model (NIR) and figures (HTML) are made when pressed: allow a few seconds. One that cannot "
             "be made shows a red note under its button, and the reason appears here when the page next refreshes.")


def run_panel(trainer: Trainer, step_log: Sequence) -> None:
    """Train & watch's downloads of its run: history, metrics, the run and its config, the model (safetensors, and
    NIR where NIR can carry it, else why not) and the figures as one HTML page.

    Eager (built now, in under 10 ms for the digits MLP and a conv net: measured): history, metrics, config,
    safetensors. Lazy (when pressed): run JSON (``Trainer.generalisation`` passes over the training and test sets:
    0.2 s for digits, 1.9 s for a small conv net), NIR (0.04-0.4 s) and figures (0.3 s, 4.8 MB with plotly.js),
    each holding the run's lock and the step log as it was when the panel was drawn (a copy: the live log and the
    session are not the download thread's to read)."""
    if not trainer.history:
        st.caption("The run's files can be downloaded once its first epoch has closed.")
        return
    problems = DownloadProblems.of_session()
    show_problems(problems, LAZY_RUN_KEYS)
    losses = list(step_log)
    with trainer.lock:                                         # the eager files: one consistent state of the run
        history, metrics = training.history_csv(trainer.history), training.metrics_csv(trainer)
        config, model, nir = trainer.cfg.to_json(), training.model_file(trainer), nir_problem(trainer)
    columns = st.columns(3)
    button = {"on_click": "ignore", "width": "stretch"}
    columns[0].download_button("history (CSV)", history, "history.csv", "text/csv", key="run_history", **button)
    columns[0].download_button("metrics (CSV)", metrics, "metrics.csv", "text/csv", key="run_metrics", **button)
    columns[1].download_button("run (JSON)", lazy(lambda: training.result_json(trainer), "run (JSON)", "run_json",
                                                  problems, trainer.lock),
                               "run.json", "application/json", key="run_json", **button)
    columns[1].download_button("config (JSON)", config, "config.json", "application/json", key="run_config", **button)
    columns[1].download_button("figures (HTML)", lazy(lambda: training.figures_html(trainer, losses), "figures (HTML)",
                                                      "run_figures", problems, trainer.lock),
                               "figures.html", "text/html", key="run_figures", **button)
    columns[2].download_button("model (safetensors)", model, "model.safetensors", "application/octet-stream",
                               key="run_model", **button)
    if nir is None:
        columns[2].download_button("model (NIR)", lazy(lambda: nir_file(trainer), "model (NIR)", "run_nir", problems,
                                                       trainer.lock),
                                   "model.nir", "application/octet-stream", key="run_nir", **button)
        columns[2].caption(NIR_READERS)
    else:
        columns[2].warning(f"No NIR download: {nir}")     # the engine's words, no user text
    st.caption(LAZY_NOTE)
