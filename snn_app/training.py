"""Training glue for the pages: starting a run, loading messages, run descriptions, and what to download (the
steps themselves run in the session's background thread, ``snn_app.live``: one run, or a run and its twin in
lockstep)."""
from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable, Iterator, Sequence

import streamlit as st

from snn_core.checkpoint import model_to_bytes
from snn_core.config import budget as admission
from snn_core.config.check import require_valid
from snn_core.config.run_config import RunConfig, cli_index
from snn_core.data import DATASETS
from snn_core.data.real import framing_progress
from snn_core.experiments.run import evaluation_metrics, run_result
from snn_core.network.records import Trace
from snn_core.results.json_tree import valid_json
from snn_core.training.trainer import EpochRecord, Trainer
from snn_viz import run_figures
from snn_viz.export import figures_to_html

from . import method_readings, state
from .failures import FAILURES, failure_message


def new_run() -> None:
    """Start a fresh run from the sidebar settings, paused (Reset; the previous run is replaced, a twin switched on
    forks from the new run's start). A real dataset framed for the first time shows a progress bar; a run that
    cannot be loaded, or that the shared memory budget refuses, says why in ``train_error`` and the old run stays."""
    try:
        with framing_bar(), st.spinner(loading_message(cfg := st.session_state.config)):
            st.session_state.trainer = admitted(cfg, "run", lambda: Trainer(cfg))
    except FAILURES as problem:         # OSError: a data folder it may not read; MemoryError: too big
        st.session_state.train_error = failure_message(problem)
        return
    state.live_run()                                               # paused, fresh logs, the old twin dropped
    method_readings.record(st.session_state.trainer)              # the methods' readings start at step 0


@contextlib.contextmanager
def framing_bar() -> Iterator[None]:
    """A progress bar while the block loads a real dataset whose recordings are framed for the first time
    (a folder of thousands of files takes a while; later loads read the frames cached on disk), then removed."""
    slot = st.empty()

    def report(done: int, total: int, label: str) -> None:
        slot.progress(done / max(total, 1), text=f"{label}: {done:,} of {total:,} recordings (first load only: "
                                                 "the frames are cached on disk)")

    try:
        with framing_progress(report):
            yield
    finally:
        slot.empty()


def loading_message(cfg: RunConfig) -> str:
    """What a spinner says while a new run loads its data (shown only if that takes over half a second: the first
    use of a data config; later runs share the cached copy). Event clips are generated, about 12 s the first time."""
    info = DATASETS[cfg.data.dataset]
    if info.reads_folder:
        return f"Reading the {cfg.data.dataset} recordings..."
    if info.has_time_axis:
        return "Generating the event clips (first use of these settings only: they are cached)..."
    return f"Loading the {cfg.data.dataset} data..."


RUN_LOWER = ("training.batch_size (--batch-size), data.time_steps (--T), model.hidden (--hidden) or "
             "data.train_samples (--train-samples)")


def _reservation_key(role: str) -> str:
    return f"admission:{role}"


def admitted(cfg: RunConfig, role: str, build: Callable[[], Trainer]) -> Trainer:
    """``build()`` (a new run of ``cfg``: ``Trainer(cfg)`` or a fork) once the server-wide ledger
    (``snn_core.config.budget.LEDGER``) has room for its estimate beside every other session's runs and files.

    ``role`` ("run", "twin") names the session's slot: the run it replaces counts as free for the decision and is
    released once the new one is built, so Reset near the budget works; a refusal (``AdmissionRefused``, a
    ValueError naming what is reserved and what to lower) or a failed build leaves the old run and its reservation
    as they were. The reservation is released when the run is garbage-collected (the session ended or let it go)."""
    require_valid(cfg)                    # a run over the budget alone (or not runnable) says so first, precisely
    ss = st.session_state
    old: admission.Reservation | None = ss.get(_reservation_key(role))
    reservation = admission.LEDGER.reserve(admission.run_bytes(cfg), f"this session's {role} ({describe(cfg)})",
                                           kind="run", owner=state.owner(), wait=admission.WAIT_SECONDS, replaces=old,
                                           lower=RUN_LOWER)
    try:
        trainer = build()
    except BaseException:
        reservation.release()
        raise
    reservation.attach(trainer)
    if old is not None:
        old.release()
    ss[_reservation_key(role)] = reservation
    return trainer


def release(role: str) -> None:
    """Give back the session's ``role`` reservation now (its run was dropped)."""
    reservation = st.session_state.pop(_reservation_key(role), None)
    if reservation is not None:
        reservation.release()


def sample_trace(trainer: Trainer, index: int) -> tuple[Trace, int]:
    """Internals of test sample ``index`` and its predicted class (only that sample is run)."""
    traced = trainer.trace_samples([index])
    return traced.trace, traced.predictions[0]


def describe(cfg: RunConfig) -> str:
    """One line naming the run's main settings, e.g. ``digits · mlp [128] · T=8 · 10 epochs · seed 0``."""
    layers = list(cfg.model.hidden) if cfg.model.arch == "mlp" else [*cfg.model.channels, *cfg.model.hidden]
    return (f"{cfg.data.dataset} · {cfg.model.arch} {layers} · T={cfg.data.time_steps} · "
            f"{cfg.training.epochs} epoch{'s' * (cfg.training.epochs != 1)} · seed {cfg.training.seed}")


def changed_options(trained: RunConfig, wanted: RunConfig) -> list[str]:
    """CLI names of the settings in which ``wanted`` differs from the run being trained."""
    return [cli for cli, (section, fld) in sorted(cli_index().items())
            if getattr(getattr(trained, section), fld.name) != getattr(getattr(wanted, section), fld.name)]


def history_csv(history: Sequence[EpochRecord]) -> str:
    """One row per epoch; per-layer firing rates become ``rate_<layer>`` columns."""
    rows = [{**{k: v for k, v in r.to_dict().items() if k != "layer_firing_rates"},
             **{f"rate_{name}": rate for name, rate in r.layer_firing_rates.items()}} for r in history]
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def result_json(trainer: Trainer) -> str:
    """The same JSON as ``python -m snn_core train``: config, history and metrics of the latest epoch; valid JSON
    even when a metric is NaN (``results.json_tree.valid_json``)."""
    return valid_json(run_result(trainer).to_json(), indent=2)


def metrics_csv(trainer: Trainer) -> str:
    """The scalar metrics of the latest epoch and each layer's rate, as ``metric,value`` rows."""
    metrics = evaluation_metrics(trainer.last_evaluation, trainer.train_seconds,
                                 trainer.history[-1].validation_accuracy)
    lines = ["metric,value"] + [f"{k},{v}" for k, v in metrics.to_json().items() if not isinstance(v, dict)]
    lines += [f"firing_rate_{layer},{rate}" for layer, rate in metrics.layers.firing_rates.items()]
    return "\n".join(lines) + "\n"


def model_file(trainer: Trainer) -> bytes:
    return model_to_bytes(trainer.model, trainer.cfg, trainer.dataset.frame_shape, trainer.dataset.n_classes)


def run_figures_list(trainer: Trainer, step_losses: Sequence[float]) -> list:
    """The Train & watch page's figures for a run, in page order."""
    history = trainer.history
    return [run_figures.loss_curves(list(step_losses), history), run_figures.training_curves(history),
            run_figures.activity_curves(history), run_figures.firing_rate_bars(trainer.last_evaluation.activity)]


def figures_html(trainer: Trainer, step_losses: Sequence[float]) -> str:
    return figures_to_html(run_figures_list(trainer, step_losses), f"SNN Explorer run: {describe(trainer.cfg)}")
