"""TTFS vs multi-spike: the spike cap K from 1 (time-to-first-spike) to unlimited, and what each K costs."""
import streamlit as st

from snn_app import challenges, downloads, jobs, state
from snn_app import ttfs as glue
from snn_core.methods.ttfs.presets import preset_for
from snn_core.network.readout import FIRST_SPIKE_EQUATIONS
from snn_core.neurons.cuba import CUBA_EQUATIONS
from snn_viz import ttfs_figures as figs
from snn_viz.style import PLOTLY_CONFIG

ENGINES = {
    "discrete": "**discrete** steps time in whole steps and trains with surrogate gradients: spike times are "
                "quantised to a step, ties between outputs are common, and the surrogate lets gradient reach "
                "silent neurons, which hides TTFS's dead-neuron problem.",
    "exact": "**exact** computes each spike time in closed form between input events (τ_m = 2τ_s) and "
             "differentiates it exactly, like Fast & Deep and BATS: a silent neuron gets no gradient, so "
             "weight bumping revives it. It needs 1 ≤ K ≤ 10 and is slower, more so as K grows. On the same "
             "weights its first layer fires in the discrete engine's bins; later layers drift, because the "
             "discrete engine passes a spike on at the start of its bin.",
}

state.start_session()
st.title("TTFS vs multi-spike")
st.markdown(
    "Each neuron may fire at most **K** times per sample. **K = 1 is time-to-first-spike (TTFS)** coding: "
    "a neuron says everything with *when* it fires, once. Raising K relaxes it (Bacho & Chu 2023) — "
    "**K = ∞** is an ordinary multi-spike network. The output class is the one whose neuron fires first. "
    "Look for what relaxing buys (accuracy, robustness to noise, fewer dead neurons) and what it costs "
    "(spikes per sample, decision latency).")
st.latex(CUBA_EQUATIONS)
st.caption("The preset's neuron, current-based LIF (CUBA) with τ_m = 2τ_s: the input x charges a synaptic current "
           "I, which charges the membrane V; a spike S resets V by V_th, and the count n of spikes so far stops it "
           "firing after K (K = ∞: no cap).")
st.latex(FIRST_SPIKE_EQUATIONS)
st.caption("The first-spike readout: output c's first spike step t_c (T when it stays silent) gives the logit z_c "
           "trained with cross-entropy, and the earliest output is the class; the decision step in the figures "
           "below is that first spike.")

controls = st.columns([2, 2, 1, 1])
start = controls[0].radio("start from", ("TTFS preset", "sidebar settings"), horizontal=True, key="ttfs_start",
                          help="the engine's preset: digits, latency coding, CUBA neurons, first-spike readout")
engine = controls[1].radio("engine", tuple(ENGINES), horizontal=True, key="ttfs_engine")
seeds = controls[2].number_input("seeds", 2, 10, 3, key="ttfs_seeds", help="the CIs are over these seeds")
preset = preset_for(engine)
epochs = controls[3].number_input("epochs", 1, 60, preset.training.epochs, key="ttfs_epochs")
st.caption(ENGINES[engine] + (" " + glue.PRESET_NOTES[engine] if start == "TTFS preset" else ""))
cfg = glue.page_config(preset if start == "TTFS preset" else st.session_state.config, engine, int(epochs))
k = st.select_slider("spike cap K ∈ {1, 2, 3, 5, ∞} (1 = TTFS): the run below, shaded in the sweep",
                     [glue.k_label(v) for v in glue.K_CHOICES], key="ttfs_k")
st.button("Load the TTFS preset into the sidebar", key="ttfs_load", on_click=glue.load_into_sidebar,
          args=(preset,), help="then Train & watch and Spike explorer start from it too")
k_value = 0 if k == "∞" else int(k)

st.header("The trade-off over K")
values, left_out = glue.sweep_values(cfg)
for label, problem in left_out.items():
    st.warning(f"K = {label} is left out of the sweep: {problem}")
runs = len(values) * int(seeds)
if st.button(f"Run the K sweep ({runs} runs)", type="primary", key="ttfs_sweep_run",
             disabled=not values or jobs.running(glue.SWEEP_JOB),
             help="runs in the background: the page stays usable, and Cancel keeps the runs finished so far"):
    jobs.start(glue.SWEEP_JOB, glue.sweep_job(cfg, values, int(seeds)))
snap = jobs.panel(glue.SWEEP_JOB, again="Run the K sweep")
if snap is not None:
    st.session_state.ttfs_sweep = {"key": snap.meta["key"], "result": glue.sweep_of(snap),
                                   "finished": tuple(slot is not None for slot in snap.slots)}
stored = st.session_state.get("ttfs_sweep")
if stored is None:
    st.info(f"Press **Run the K sweep**: every K on {seeds} seeds × {epochs} epochs, two runs at a time. "
            "Finished runs are cached on disk, so a repeat is instant.")
elif not any(point.runs for point in stored["result"].points):
    st.info("No run has finished yet: each K's points appear here as its seeds finish.")
else:
    result, key = stored["result"], (*stored["key"], stored["finished"])     # figures follow the runs finished
    challenges.show("ttfs-k", challenges.ttfs_k(result))
    if stored["key"] != (cfg.to_json(), int(seeds)):
        st.info("The settings changed since this sweep ran: press **Run the K sweep** to update.")
    if result.unfinished_runs:
        st.caption(f"{result.unfinished_runs} of the sweep's runs have not finished: each point shows the seeds "
                   "that have.")
    st.caption(f"Each point: mean and 95% CI over {len(result.seeds)} seeds, "
               f"{result.config.training.epochs} epochs each, {result.config.model.engine} engine.")
    if result.failed_runs:
        errors = {run.error for point in result.points for run in point.runs if run.error}
        st.warning(f"{result.failed_runs} run(s) failed and are left out: {'; '.join(errors)}")
    stats = glue.sweep_stats(result)
    panels = glue.tradeoff_panels(stats)
    columns = st.columns(2)          # two a row: a third of the page is too narrow for a title at 1024 px
    for index, (title, y_title, percent, per_k) in enumerate(panels):
        columns[index % 2].plotly_chart(state.memo_figure(("ttfs-k", key, title, k), lambda: figs.over_k(
            per_k, title, y_title, k, percent)), config=PLOTLY_CONFIG)
    columns[len(panels) % 2].plotly_chart(state.memo_figure(("ttfs-silent", key), lambda: figs.silent_by_layer(
        stats.silent)), config=PLOTLY_CONFIG)
    left, right = st.columns(2)
    left.plotly_chart(state.memo_figure(("ttfs-tcut", key), lambda: figs.curves_by_k(
        stats.tcut, "Accuracy vs readout time t_cut", "t_cut (steps seen)", "test accuracy",
        subtitle="an undecided sample counts as wrong (first-spike readout only)")), config=PLOTLY_CONFIG)
    right.plotly_chart(state.memo_figure(("ttfs-epochs", key), lambda: figs.curves_by_k(
        stats.epochs, "Convergence: accuracy after each epoch", "epoch", "test accuracy")),
            config=PLOTLY_CONFIG)
    if stats.robustness:
        st.plotly_chart(state.memo_figure(("ttfs-robust", key), lambda: figs.robustness_curves(stats.robustness)),
                        config=PLOTLY_CONFIG)
    else:
        st.caption("These runs measured no robustness (Training ▸ robustness off).")
    downloads.panel("ttfs-k-sweep", lambda: result, lambda: downloads.sweep_rows(result), key="ttfs_download")

st.header(f"One run at K = {k}")
problem = glue.engine_problem(cfg, k_value)
if problem is not None:
    st.error(f"K = {k} cannot run on the {engine} engine: {problem}")
    st.stop()
single = cfg.with_values({"max-spikes": k_value})
if st.button(f"Train one run at K = {k}", key="ttfs_single_run",
             disabled=glue.kept_run(single) is not None or jobs.running(glue.SINGLE_JOB)):
    jobs.start(glue.SINGLE_JOB, glue.single_job(single))
snap = jobs.panel(glue.SINGLE_JOB, again=f"Train one run at K = {k}", resumes=False)
if snap is not None and snap.state == jobs.FINISHED:
    glue.keep_run(snap.meta["cfg"], snap.value)
    jobs.forget(glue.SINGLE_JOB)
trainer = glue.kept_run(single)
if trainer is None:
    if snap is None or not snap.running:
        st.info(f"Press **Train one run at K = {k}** (seed {single.training.seed}, {single.training.epochs} epochs) "
                "to see its spikes.")
    st.stop()
sample = st.slider("test sample", 0, min(glue.TRACED_SAMPLES, len(trainer.dataset.test_y)) - 1, 0,
                   key="ttfs_sample")
rasters = glue.sample_rasters(trainer, sample)
evaluation, most = trainer.last_evaluation, glue.max_spike_count(rasters)
decision = evaluation.decision
numbers = st.columns(4)
numbers[0].metric("test accuracy", f"{evaluation.accuracy:.1%}")
numbers[1].metric("spikes per sample", f"{evaluation.activity.total_spikes_per_sample:.0f}")
numbers[2].metric("mean decision step", "—" if decision is None or decision.decision_step_mean is None
                  else f"{decision.decision_step_mean:.1f}")
numbers[3].metric("max per neuron", f"{most} ≤ {k}",              # short: a quarter of the page at 1024 px
                  help="the most spikes any one neuron fired on this sample, against the cap K (∞: no cap)")
st.caption("One test sample: ◆ marks each neuron's first spike, dashes its later spikes (none when K = 1). "
           "The input is not capped: latency coding gives each non-black pixel one spike, brighter ones earlier.")
columns = st.columns(2)              # two a row: each raster's title and axes stay readable at 1024 px
for index, (name, (spikes, labels)) in enumerate(rasters.items()):
    columns[index % 2].plotly_chart(state.memo_figure(("ttfs-raster", single, sample, name), lambda: figs.capped_raster(
        name, spikes, None if name == glue.INPUT else k_value, labels)), config=PLOTLY_CONFIG)
