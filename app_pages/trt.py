"""Temporal reversal (TRT): a sample run both ways, then TRT against a baseline on paired seeds, with two controls."""
import os

import streamlit as st

from snn_app import challenges, comparison, downloads, jobs, state
from snn_app import trt as glue
from snn_core.data import DATASETS
from snn_core.experiments import trt_sign
from snn_core.methods.trt.branches import LOSS_LATEX
from snn_viz import trt_figures as figs
from snn_viz.style import PLOTLY_CONFIG

state.start_session()
st.title("Temporal reversal (TRT)")
st.markdown(glue.INTRO)
st.latex(LOSS_LATEX)
st.caption("O, Ô: outputs of the original and reversed branch; r, r̂: last hidden layer's firing rates; "
           "a, λ, τ, b: sidebar ▸ Methods ▸ trt-ce-reversed, trt-kl-weight, trt-tau, trt-star.")
with st.expander("Why direction labels contradict reversal invariance"):
    st.markdown(glue.DIRECTION_TRAP)

st.header("A sample both ways")
cfg = st.session_state.config
own = st.session_state.get("trainer")
sources = ["a small run trained here"] + (["the Train & watch run"] if own is not None and own.history else [])
source = st.radio("network", sources, horizontal=True, key="trt_source") if len(sources) > 1 else sources[0]
if source == "the Train & watch run":
    trainer = own
else:
    left, middle, right = st.columns([2, 1, 1])
    datasets = list(DATASETS)
    dataset = left.selectbox("dataset", datasets, datasets.index(cfg.data.dataset), key="trt_dataset")
    with_trt = middle.toggle("train with TRT", True, key="trt_demo_trt")
    try:
        demo_cfg = glue.demo_config(cfg, dataset, with_trt)
    except ValueError as problem:
        st.error(f"These settings cannot train the sample network: {problem}")
        demo_cfg = None
    if right.button("Train", type="primary", key="trt_train", disabled=demo_cfg is None or
                    jobs.running(glue.DEMO_JOB)):
        jobs.start(glue.DEMO_JOB, glue.demo_job(demo_cfg))
    demo = jobs.panel(glue.DEMO_JOB, again="Train", resumes=False)
    if demo is not None and demo.state == jobs.FINISHED:
        st.session_state.trt_demo = demo.value
        jobs.forget(glue.DEMO_JOB)
    trainer = st.session_state.get("trt_demo")
    if trainer is None and (demo is None or not demo.running):
        st.info("Press **Train** for a small network on the chosen dataset "
                f"({glue.TRAIN_SAMPLES} training samples, the sidebar's network and epochs).")
    elif trainer is not None and demo_cfg is not None and trainer.cfg != demo_cfg:
        st.caption("The settings changed since this network was trained: press **Train** to update it.")
view = None
if trainer is not None:
    st.caption(glue.network_line(trainer))
    count = len(trainer.dataset.test_y)
    index = st.columns([1, 3])[0].number_input("test sample", 0, count - 1, 0, key="trt_sample")
    try:
        view = glue.both_ways(trainer, int(index))
    except ValueError as problem:
        st.error(f"This network cannot run a sample both ways: {problem}")
if view is not None:
    key = (id(trainer), trainer.cfg, trainer.steps, int(index))
    for name, build in glue.both_ways_figures(view, int(index)).items():
        st.plotly_chart(state.memo_figure((name, *key), build), config=PLOTLY_CONFIG)
    for note in glue.sample_notes(trainer, view):
        st.caption(note)
    challenges.show("trt-direction", challenges.trt_direction(trainer.cfg, view))

st.header("How large is TRT's effect, and what changes it?")
st.markdown(glue.sign_study_text())
columns = st.columns(3)
sign_seeds = columns[0].number_input("seeds", 1, 5, len(trt_sign.SEEDS), key="trt_sign_seeds")
sign_data = columns[1].number_input("data seeds", 1, 5, len(trt_sign.DATA_SEEDS), key="trt_sign_data_seeds")
sign_workers = columns[2].number_input("worker processes", 1, max(1, os.cpu_count() or 1),
                                       min(2, os.cpu_count() or 1), key="trt_sign_workers")
if st.button("Run the factorial study", icon=":material/grid_view:", key="trt_sign_run",
             disabled=jobs.running(glue.SIGN_JOB), help="a few minutes on 2 workers; cached runs are free"):
    jobs.start(glue.SIGN_JOB, glue.sign_job(int(sign_seeds), int(sign_data), int(sign_workers)))
sign_snap = jobs.panel(glue.SIGN_JOB, again="Run the factorial study")
study = glue.sign_result(sign_snap)
if study is not None:
    st.plotly_chart(figs.sign_by_cell(study), config=PLOTLY_CONFIG, key="trt_sign_chart")
    st.dataframe(glue.sign_rows(study), hide_index=True)
    st.caption(glue.sign_effects(study))

st.header("Does TRT help here?")
st.markdown(
    "Each experiment trains a baseline and TRT on the same seeds and reports the paired difference with its 95% "
    "confidence interval, its p (Holm-adjusted over the metrics shown) and, where there is no evidence of a "
    "difference, the smallest one these seeds would find with 80% power. TRT runs two branches a step, so the "
    "baseline trains **twice the epochs** (compute-matched): a gain is then not just more compute. The preset "
    "*equal epochs, not compute-matched* shows the unfair comparison beside it. The **control** *permutation* "
    "separates *reversal helps* from *any time perturbation helps* (a random order of the steps instead).")
names = st.multiselect("experiments", list(glue.PRESETS), list(glue.DEFAULT_EXPERIMENTS), key="trt_experiments")
for name in names:
    st.caption(f"**{name}**: {glue.PRESETS[name].question}")
settings = st.radio("network and training", list(glue.SETTINGS), format_func=glue.SETTINGS.get, horizontal=True,
                    key="trt_settings", help="the report's: a small conv net on events (an MLP on digits), 20 "
                                             "epochs for TRT, at the default settings (the report tunes "
                                             "each arm first)")
columns = st.columns([1, 1, 3])
seeds = columns[0].number_input("seeds", 2, 10, 4, key="trt_seeds")
workers = columns[1].number_input("workers", 1, max(1, os.cpu_count() or 1), min(2, os.cpu_count() or 1),
                                  key="trt_workers", help="worker processes: runs in parallel, one torch thread each")
changes = columns[2].text_input("TRT arm changes (KEY=VALUE, optional)", "", key="trt_changes",
                                help="ablations, e.g. `trt-star=0 trt-ce-reversed=0` (KL consistency only)")
try:
    arms = glue.chosen_arms(cfg, names, changes, settings)
except ValueError as problem:
    arms = None
    st.error(str(problem))
if arms:
    st.caption(glue.experiments_caption(arms, int(seeds)))
if st.button("Run experiments", type="primary", icon=":material/balance:", key="trt_run",
             disabled=arms is None or jobs.running(glue.EXPERIMENTS_JOB),
             help="runs in the background: the page stays usable, and Cancel keeps the runs finished so far"):
    jobs.start(glue.EXPERIMENTS_JOB, glue.experiments_job(arms, int(seeds), int(workers)))
snap = jobs.panel(glue.EXPERIMENTS_JOB, again="Run experiments")
if snap is not None:
    st.session_state.trt_results = glue.experiment_results(snap)

ran = st.session_state.get("trt_results")
if ran is None:
    st.info("Pick experiments and press **Run experiments**.")
    st.stop()
if not ran.results:
    st.info("No seed has both arms finished yet: each experiment appears here as soon as one has."
            if snap is not None and snap.running else "No seed had both arms finished.")
    st.stop()
if ran.arms != arms:
    st.caption("The settings above changed since these results: press **Run experiments** to update them.")
results = ran.results
st.plotly_chart(figs.accuracy_by_experiment(results), config=PLOTLY_CONFIG, key="trt_forest")
downloads.panel("trt-experiments", lambda: results, lambda: glue.experiments_table(results), key="trt_download")
shown = st.radio("details of", list(results), horizontal=True, key="trt_shown") if len(results) > 1 else \
    next(iter(results))
result, labels = results[shown], glue.PRESETS[shown].arm_labels
if result.failed_runs:
    st.warning(f"{result.failed_runs} run(s) failed and are left out: {'; '.join(comparison.errors(result))}")
st.markdown(glue.verdict_text(shown, result))
st.plotly_chart(figs.arm_metrics(result, labels), config=PLOTLY_CONFIG, key="trt_arms")
left, right = st.columns(2)
left.plotly_chart(figs.layer_rates(result, labels), config=PLOTLY_CONFIG, key="trt_rates")
terms = glue.mean_loss_terms(result)
if terms:
    right.plotly_chart(figs.loss_terms(terms, f"{labels[1]}: loss terms per epoch (mean of the seeds)"),
                       config=PLOTLY_CONFIG, key="trt_terms")
