"""What a page's "Download these results" panel offers: its results as JSON (each record's ``to_json()``) and as a CSV
table, one row per run (``snn_core.results.results_table``: config by CLI name, metrics flattened to dotted names,
``error``, ``cached``) or per neuron and step."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import streamlit as st

from snn_core.experiments.run import run_result
from snn_core.interop.nir_graph import export_nir, exportable, graph_to_bytes
from snn_core.results import Comparison, RunResult, Sweep, results_table
from snn_core.results.json_tree import valid_json
from snn_core.training.trainer import Trainer

from . import training

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


def nir_file(trainer: Trainer) -> bytes:
    """The trained model as a ``.nir`` file (``snn_core.interop.nir_graph``: BatchNorm folded with its running
    statistics, time step dt = 1, time in steps)."""
    return graph_to_bytes(export_nir(trainer.model, trainer.cfg, tuple(trainer.dataset.frame_shape)))


def spikes_rows(spikes: np.ndarray, names: list[str]) -> list[dict]:
    """A layer's spike train ``[T, neurons]`` of one sample: one row per (neuron, step) that spiked."""
    return [{"neuron": names[neuron], "step": int(step)} for step, neuron in zip(*np.nonzero(spikes))]


def panel(name: str, result: Callable[[], object], rows: Callable[[], Iterable[Mapping]], key: str) -> None:
    """The panel: ``result()`` as ``<name>.json`` and ``rows()`` as ``<name>.csv``, each built only when its button
    is pressed (a trained run's JSON evaluates it again)."""
    with st.expander("Download these results"):
        left, right = st.columns(2)
        left.download_button("results (JSON)", lambda: json_text(result()), f"{name}.json", "application/json",
                             key=f"{key}_json")
        right.download_button("table (CSV)", lambda: csv_text(rows()), f"{name}.csv", "text/csv", key=f"{key}_csv")


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


def run_panel(trainer: Trainer, step_log) -> None:
    """Train & watch's downloads of its run: history, metrics, the run and its config, the model (safetensors, and
    NIR where NIR can carry it, else why not) and the figures as one HTML page."""
    columns = st.columns(3)
    columns[0].download_button("history (CSV)", training.history_csv(trainer.history), "history.csv", "text/csv")
    columns[0].download_button("metrics (CSV)", lambda: training.metrics_csv(trainer), "metrics.csv", "text/csv")
    columns[1].download_button("run (JSON)", lambda: training.result_json(trainer), "run.json", "application/json")
    columns[1].download_button("config (JSON)", trainer.cfg.to_json(), "config.json", "application/json")
    columns[2].download_button("model (safetensors)", lambda: training.model_file(trainer), "model.safetensors")
    if (problem := nir_problem(trainer)) is None:
        columns[2].download_button("model (NIR)", lambda: nir_file(trainer), "model.nir")
    else:
        columns[2].warning(f"No NIR download: {problem}")
    columns[2].download_button("figures (HTML)", lambda: training.figures_html(trainer, step_log), "figures.html",
                               "text/html")
