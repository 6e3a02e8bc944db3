"""Train & watch: Play, Pause, Step and Reset a run and watch its curves and spiking activity move; Compare live
trains a twin that differs in one setting beside it, in lockstep (snn_app/twin.py). The runs train in the session's
background thread (snn_app/live.py); this page only draws what they have recorded."""
import streamlit as st

from snn_app import challenges, cost_panel, downloads, method_readings, network_view, sidebar, state, training, twin
from snn_app.text import escape_markdown
from snn_core.metrics.activity import FIRING_RATE_EQUATIONS
from snn_viz import run_figures
from snn_viz.style import PLOTLY_CONFIG

REFRESH_SECONDS = 0.5      # the live view redraws this often while training (docs/APP_PERFORMANCE.md)


def ensure_run() -> None:
    """A run to play: a new one when there is none yet or the untouched one has stale settings; the twin is made
    before the first step, so a twin switched on before Play starts from the same initial weights."""
    trainer = st.session_state.trainer
    if trainer is None or (trainer.steps == 0 and trainer.cfg != st.session_state.config):
        training.new_run()
    twin.sync(state.live_run())


def play_or_pause() -> None:
    ensure_run()
    live = state.live_run()
    live.pause() if live.playing else live.play()


def step_once() -> None:
    """One step of the run, and of its twin when Compare live is on."""
    ensure_run()
    state.live_run().step_once()


def reset() -> None:
    """A new run from the sidebar settings; with a twin beside the run, ask first (both are discarded; Compare
    live's setting is kept and forks a new twin from the new run's start)."""
    if state.live_run().twin is not None and not st.session_state.get("confirm_reset"):
        st.session_state.confirm_reset = True
        return
    st.session_state.confirm_reset = False
    training.new_run()


state.start_session()       # no-op inside the app; lets the page run on its own (tests)
live = state.live_run()
st.title("Train & watch")
st.caption("Play trains in the background at full speed (the charts catch up a few times a second, and training "
           "goes on while you visit other pages); Step makes exactly one gradient step; Reset starts a new run "
           "from the sidebar settings. Every spiking layer's firing rate is measured on the test set after each epoch.")
st.session_state.setdefault("train_error", "")
twin.controls(live.main.cfg if live.main is not None else st.session_state.config)
twin.offer_network(live.main)
twin.sync(live)
running, finished = live.playing, live.main is not None and live.finished
with st.container(horizontal=True):              # buttons as wide as their labels: readable at 1024 px
    st.button("Pause" if running else "Play", icon=":material/pause:" if running else ":material/play_arrow:",
              on_click=play_or_pause, type="secondary" if running else "primary", key="play_pause", disabled=finished)
    st.button("Step", icon=":material/skip_next:", on_click=step_once, key="step", disabled=running or finished)
    st.button("Reset", icon=":material/restart_alt:", on_click=reset, key="reset")
if st.session_state.get("confirm_reset"):
    st.warning("Reset discards this run **and its twin**. Compare live keeps its setting and forks a new twin from "
               "the new run's start.", icon=":material/warning:")
    with st.container(horizontal=True):
        st.button("Reset both runs", key="reset_confirmed", on_click=reset, type="primary")
        st.button("Keep them", key="reset_cancelled", on_click=lambda: st.session_state.update(confirm_reset=False))
for problem in (st.session_state.train_error, live.problem):          # a refused Reset; the run's own failure
    if problem:
        st.error(f"Cannot train with these settings: {escape_markdown(sidebar.plain_words(problem), 2000)}")
st.session_state.train_error = ""
twin.show_problem(live)
if live.main is not None and (changed := ", ".join(training.changed_options(live.main.cfg,
                                                                          st.session_state.config))):
    st.info(f"The sidebar settings differ from this run's ({changed}). **Reset** starts a run with them; "
            "Play and Step continue the current run.")
with st.expander("The network", expanded=live.main is None):
    network_view.show(st.session_state.config, cost_panel.network_cost(live, st.session_state.config))


@st.fragment(run_every=REFRESH_SECONDS if running else None)
def live_view() -> None:
    live = state.live_run()
    trainer = live.main
    if trainer is None:
        st.info("Press **Play** to train the network set in the sidebar, or **Step** to take one step at a time.")
        return
    if live.playing != running or live.twin_problem:
        st.rerun()              # finished, failed or the twin stopped: the whole page swaps Pause for Play, says why
    epochs = trainer.cfg.training.epochs
    st.progress(trainer.progress, text=f"{training.describe(trainer.cfg)} — epoch {trainer.epoch} of {epochs}, "
                                       f"step {trainer.steps} of {trainer.batches_per_epoch * epochs}")
    if live.twin is not None:
        twin.show(live)
        cost_panel.show(live)
        method_readings.show(trainer, live.twin)
        return
    history = list(trainer.history)
    last = history[-1] if history else None
    metrics = st.columns(4)
    metrics[0].metric("test accuracy", f"{last.test_accuracy:.1%}" if last else "–")
    metrics[1].metric("NASFR", f"{last.nasfr:.4f}" if last else "–",
                      help="network-average spike firing rate: spikes per neuron per time step, over all layers")
    metrics[2].metric("spikes / sample", f"{last.spikes_per_sample:,.0f}" if last else "–",
                      help="spikes of all layers for one test sample, averaged over the test set")
    metrics[3].metric("training time", f"{trainer.train_seconds:.1f} s",
                      help="seconds of gradient steps (the engine's time, without drawing or evaluation)")
    left, right = st.columns(2)
    epoch_key = (trainer.cfg, len(history))    # change only when an epoch closes; seeded runs repeat exactly
    run = twin.series("run", trainer, live.logs()[0])
    left.plotly_chart(run_figures.loss_curves(run.step_losses, history), config=PLOTLY_CONFIG, key="loss")
    right.plotly_chart(state.memo_figure(("accuracy", *epoch_key), lambda: run_figures.training_curves(history)),
                       config=PLOTLY_CONFIG, key="accuracy")
    if history:
        left.plotly_chart(state.memo_figure(("activity", *epoch_key), lambda: run_figures.activity_curves(history)),
                          config=PLOTLY_CONFIG, key="activity")
        right.plotly_chart(state.memo_figure(("rates", *epoch_key),
                                             lambda: run_figures.firing_rate_bars(trainer.last_evaluation.activity)),
                           config=PLOTLY_CONFIG, key="rates")
    else:
        st.caption("Accuracy, firing rates and the cost per sample appear after the first epoch.")
    if run_figures.adds_terms([run]):          # a method's objective (TRT's terms): its own chart, not the loss
        st.plotly_chart(run_figures.objective_curves([run]), config=PLOTLY_CONFIG, key="objective")
    cost_panel.show(live)
    method_readings.show(trainer)


live_view()
if live.main is not None:               # outside the fragment: the challenge's banner is above it, updated per page run
    challenges.show("small-net", challenges.small_net(live.main.cfg, list(live.main.history)))
with st.expander("How the firing rates and NASFR are computed"):
    st.latex(FIRING_RATE_EQUATIONS)
    st.caption("On the test set after each epoch: M samples, T steps, N_l neurons in layer l, s the spikes. SFR_l "
               "is a layer's bar in the firing-rate chart; NASFR, the network average, weights each layer by its "
               "neurons, so it is the total spikes over every neuron and step.")
cost_panel.explain()
method_readings.explain()

if live.main is not None and live.main.history and not running:
    with st.expander("Download this run"):
        downloads.run_panel(live.main, [point.cross_entropy for point in live.logs()[0]])
