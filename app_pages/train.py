"""Train & watch: Play, Pause, Step and Reset a run and watch its curves and spiking activity move; Compare live
trains a twin that differs in one setting beside it, in lockstep (snn_app/twin.py)."""
import streamlit as st

from snn_app import downloads, method_readings, network_view, sidebar, state, training, twin
from snn_app.text import escape_markdown
from snn_core.metrics.activity import FIRING_RATE_EQUATIONS
from snn_core.training.trainer import Trainer
from snn_viz import run_figures
from snn_viz.style import PLOTLY_CONFIG

REFRESH_SECONDS = 0.3


def new_trainer() -> None:
    """Start a fresh run from the sidebar settings (the previous one is replaced); a real dataset framed for the
    first time shows a progress bar; one that cannot be loaded or that the shared memory budget refuses says why."""
    try:
        with training.framing_bar(), st.spinner(training.loading_message(cfg := st.session_state.config)):
            st.session_state.trainer = training.admitted(cfg, "run", lambda: Trainer(cfg))
    except training.FAILURES as problem:         # OSError: a data folder it may not read; MemoryError: too big
        st.session_state.train_error = training.failure_message(problem)
        return
    st.session_state.step_log.clear()
    st.session_state.running = False
    method_readings.record(st.session_state.trainer)              # the methods' readings start at step 0


def ensure_trainer() -> Trainer | None:
    """The current run; a new one when there is none yet or the untouched one has stale settings."""
    trainer = st.session_state.trainer
    if trainer is None or (trainer.steps == 0 and trainer.cfg != st.session_state.config):
        new_trainer()
    return st.session_state.trainer


def play_or_pause() -> None:
    """Play and Pause only flip the session's flag; the live view below does the training."""
    trainer = ensure_trainer()
    twin.sync(trainer)
    st.session_state.running = not st.session_state.running and trainer is not None


def step_once() -> None:
    """One step of the run, and of its twin when Compare live is on (the twin is made first, so a twin switched on
    before the first step starts from the same initial weights)."""
    trainer = ensure_trainer()
    twin.sync(trainer)
    if trainer is not None and not twin.finished(trainer):
        try:
            twin.advance(trainer, st.session_state.step_log)
        except training.FAILURES as problem:                # the engine refuses to go on, or memory ran out: say why
            st.session_state.train_error = training.failure_message(problem)


state.start_session()       # no-op inside the app; lets the page run on its own (tests)
st.title("Train & watch")
st.caption("Play trains a few batches per refresh; Step makes exactly one gradient step; Reset starts a new run "
           "from the sidebar settings. Every spiking layer's firing rate is measured on the test set after each epoch.")
st.session_state.setdefault("train_error", "")
trainer = st.session_state.trainer
running = st.session_state.running
buttons = st.columns([1, 1, 1, 4])               # filled below, once the twin is known (finished = both are)
twin.controls(trainer.cfg if trainer is not None else st.session_state.config)
twin.sync(trainer)
finished = trainer is not None and twin.finished(trainer)
buttons[0].button("Pause" if running else "Play", icon=":material/pause:" if running else ":material/play_arrow:",
                  on_click=play_or_pause, type="secondary" if running else "primary", width="stretch",
                  key="play_pause", disabled=finished)
buttons[1].button("Step", icon=":material/skip_next:", on_click=step_once, width="stretch", key="step",
                  disabled=running or finished)
buttons[2].button("Reset", icon=":material/restart_alt:", on_click=new_trainer, width="stretch", key="reset")
if st.session_state.train_error:
    problem = sidebar.plain_words(st.session_state.train_error)               # no CLI flags for a browser user
    st.error(f"Cannot train with these settings: {escape_markdown(problem, 2000)}")
    st.session_state.train_error = ""
twin.show_problem(trainer)
if trainer is not None and trainer.cfg != st.session_state.config:
    changed = ", ".join(training.changed_options(trainer.cfg, st.session_state.config))
    st.info(f"The sidebar settings differ from this run's ({changed}). **Reset** starts a run with them; "
            "Play and Step continue the current run.")
with st.expander("The network", expanded=trainer is None):
    network_view.show(st.session_state.config)


@st.fragment(run_every=REFRESH_SECONDS if running else None)
def live_view() -> None:
    trainer = st.session_state.trainer
    if trainer is None:
        st.info("Press **Play** to train the network set in the sidebar, or **Step** to take one step at a time.")
        return
    if st.session_state.running:
        problem_before = st.session_state.twin_problem
        try:
            twin.train_chunk(trainer, st.session_state.step_log)
        except training.FAILURES as problem:                # the run cannot go on: stop, say why, keep it
            st.session_state.running, st.session_state.train_error = False, training.failure_message(problem)
            st.rerun()
        if twin.finished(trainer):
            st.session_state.running = False
            st.rerun()                                   # whole page: stop the timer, swap Pause for Play
        if st.session_state.twin_problem != problem_before:
            st.rerun()                                   # the twin stopped: the page says why, the run goes on
    epochs = trainer.cfg.training.epochs
    st.progress(trainer.progress, text=f"{training.describe(trainer.cfg)} — epoch {trainer.epoch} of {epochs}, "
                                       f"step {trainer.steps} of {trainer.batches_per_epoch * epochs}")
    pair = twin.active()
    if pair is not None:
        twin.show(trainer, pair)
        method_readings.show(trainer, pair)
        return
    history = trainer.history
    last = history[-1] if history else None
    metrics = st.columns(4)
    metrics[0].metric("test accuracy", f"{last.test_accuracy:.1%}" if last else "–")
    metrics[1].metric("NASFR", f"{last.nasfr:.4f}" if last else "–",
                      help="network-average spike firing rate: spikes per neuron per time step, over all layers")
    metrics[2].metric("spikes / sample", f"{last.spikes_per_sample:,.0f}" if last else "–",
                      help="spikes of all layers for one test sample, averaged over the test set")
    metrics[3].metric("training time", f"{trainer.train_seconds:.1f} s")
    left, right = st.columns(2)
    epoch_key = (trainer.cfg, trainer.epoch)   # change only when an epoch closes; seeded runs repeat exactly
    left.plotly_chart(run_figures.loss_curves(training.losses_of(trainer, st.session_state.step_log), history),
        theme=None, config=PLOTLY_CONFIG, key="loss")
    right.plotly_chart(state.memo_figure(("accuracy", *epoch_key), lambda: run_figures.training_curves(history)),
                       theme=None, config=PLOTLY_CONFIG, key="accuracy")
    if history:
        left.plotly_chart(state.memo_figure(("activity", *epoch_key), lambda: run_figures.activity_curves(history)),
                          theme=None, config=PLOTLY_CONFIG, key="activity")
        right.plotly_chart(state.memo_figure(("rates", *epoch_key),
                                             lambda: run_figures.firing_rate_bars(trainer.last_evaluation.activity)),
                           theme=None, config=PLOTLY_CONFIG, key="rates")
    else:
        st.caption("Accuracy and firing rates appear after the first epoch.")
    method_readings.show(trainer)


live_view()
with st.expander("How the firing rates and NASFR are computed"):
    st.latex(FIRING_RATE_EQUATIONS)
    st.caption("On the test set after each epoch: M samples, T steps, N_l neurons in layer l, s the spikes. SFR_l "
               "is a layer's bar in the firing-rate chart; NASFR, the network average, weights each layer by its "
               "neurons, so it is the total spikes over every neuron and step.")
method_readings.explain()

trainer = st.session_state.trainer
if trainer is not None and trainer.history and not st.session_state.running:
    with st.expander("Download this run"):
        downloads.run_panel(trainer, st.session_state.step_log)
