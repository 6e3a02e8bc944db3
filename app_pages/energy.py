"""Cost & energy: what a spike costs, and whether a method shifts the accuracy-vs-energy front or moves along it."""
import streamlit as st

from snn_app import energy as glue
from snn_app import jobs, state
from snn_core.experiments.fronts import AREA_LATEX, EQUIVALENCE_MARGIN
from snn_core.experiments.pareto import AXES, FAMILIES
from snn_core.metrics.cost import COST_EQUATIONS, DEFAULT_ENERGY
from snn_core.report.pareto import LEFT_OUT
from snn_core.results.json_tree import valid_json
from snn_viz import energy_figures as figs
from snn_viz.style import PLOTLY_CONFIG

state.start_session()
st.title("Cost & energy")
st.markdown(
    "A spiking network does work only when a neuron fires: **a spike costs its fan-out**, one addition (an "
    "*accumulate*) at every synapse it reaches. Inputs that are not spikes (pixel values fed to the first layer, "
    "ASA's attention maps) need full *multiply-accumulates* instead, which cost about five times as much. Below, "
    "a per-sample count of both is priced at "
    f"{DEFAULT_ENERGY.e_ac_pj:g} pJ per accumulate and {DEFAULT_ENERGY.e_mac_pj:g} pJ per multiply-accumulate "
    "(45 nm chips, Horowitz 2014).")
st.latex(r"\begin{gathered}" + COST_EQUATIONS.replace(r",\quad", r"\\") + r"\end{gathered}")   # one per line
st.caption("SOP: synaptic operations of layer l, input spikes s_i(t) times their fan-out f_i; MAC: the dense "
           "operations no spike drives; E: the energy per sample, against E_ANN, the same network run once as an "
           "ordinary (non-spiking) network. " + LEFT_OUT)

st.header("Accuracy against energy: fronts")
st.markdown(
    "One operating point says little: a method that fires less may only be sliding along the same trade-off a "
    "higher threshold gives. A **family** of points traces a front. Every point is **tuned** (the same number of "
    "learning-rate trials for each, on a seed of its own, chosen on validation accuracy) and then trained on the "
    "same **paired seeds**. A method **shifts the front outward** when, seed by seed, its front covers more of "
    "the plot than its control's.")
st.latex(AREA_LATEX)
st.caption("A front's dominated area in (log10 energy, accuracy) inside a box both fronts share (cost from the "
           "cheapest point to just beyond the costliest, accuracy from chance to 1), as a fraction of the box. The "
           "difference method − control per seed gets a 95% bootstrap CI; \"moves along the same front\" needs an "
           f"equivalence test within ±{EQUIVALENCE_MARGIN:.0%} of the box. Holm corrects for testing several pairs.")

left, middle, right = st.columns([3, 1, 1])
families = left.multiselect("families", list(FAMILIES), default=list(glue.DEFAULT_FAMILIES), key="energy_families",
                            help="each sweeps one setting; a method is tested against its control when both are here")
seeds = middle.number_input("seeds", 2, 5, 2, key="energy_seeds", help="paired seeds: the CIs are over these")
trials = right.number_input("trials", 1, 4, 1, key="energy_trials",
                            help="tuning trials per point: learning rates tried on the tuning seed, the same number "
                                 "for every point")
scale = st.radio("size of each run", list(glue.SCALES), horizontal=True, key="energy_scale",
                 help="tiny: 200 training images, 1 epoch; the report's: the sizes docs/ENERGY_PARETO.md used")
for line in glue.family_lines(families):
    st.markdown(f"- {line}")
for name in glue.untested(families):
    st.caption(f"{name} has none of its controls ({', '.join(FAMILIES[name].controls)}) chosen: its front is drawn "
               "but not tested.")
plan, problem = None, None
if families:
    try:
        plan = glue.plan(families, int(seeds), int(trials), scale)
    except ValueError as error:
        problem = str(error)
if problem:
    st.error(problem)
count = glue.runs(plan) if plan is not None else 0
key = (tuple(families), int(seeds), int(trials), scale)
if st.button(f"Run the fronts ({count} runs)", type="primary", key="energy_run",
             disabled=plan is None or jobs.running(glue.JOB),
             help="runs in the background: the page stays usable, and Cancel keeps the runs finished so far"):
    jobs.start(glue.JOB, glue.fronts_job(plan, key))
snap = jobs.panel(glue.JOB, again="Run the fronts")
if snap is not None:
    found = glue.study_of(snap)
    if found is not None:
        st.session_state.energy_study = {"key": snap.meta["key"], "study": found, "version": snap.version}
stored = st.session_state.get("energy_study")
if stored is None:
    if snap is None or not snap.running:
        st.info("Choose families and press **Run the fronts**: the tiny defaults take about a minute.")
    else:
        st.info("Tuning: each point's learning rate is chosen first; the fronts appear as the seeds finish.")
    st.stop()
study, memo = stored["study"], (stored["key"], stored["version"])
if stored["key"] != key:
    st.info("The settings changed since these fronts ran: press **Run the fronts** to update.")
if study.unfinished_runs:
    st.caption(f"{study.unfinished_runs} runs have not finished: each point shows the seeds that have.")
if study.failed_runs:
    st.warning(f"{study.failed_runs} run(s) failed and are left out.")
if weak := glue.barely_learned(study):
    st.warning(f"These networks barely learned: {'; '.join(weak)}. Their fronts say nothing about a method; train "
               "longer (the report's size) before reading the verdicts.")
axis = st.radio("cost axis", list(AXES), format_func=lambda a: AXES[a], horizontal=True, key="energy_axis")
st.plotly_chart(state.memo_figure(("energy-fronts", memo, axis), lambda: figs.fronts_figure(study.fronts, axis)),
                config=PLOTLY_CONFIG)
chosen = ", ".join(f"{front.family} {point.value:g}: lr {point.chosen.get('lr', '—')}"
                   for front in study.fronts for point in front.points)
st.caption(f"{len(study.seeds)} paired seeds, {study.trials} tuning trial(s) per point on seed "
           f"{', '.join(map(str, study.tuning_seeds))}. Chosen: {chosen}.")
comparisons = [c for c in study.comparisons if c.axis == axis]
if not comparisons:
    st.info("No method here has its control chosen: add a control family (threshold, ttfs-threshold) to test.")
    st.stop()
st.subheader("Verdicts")
st.dataframe(glue.verdict_rows(study, axis), hide_index=True, width="stretch",
             column_config={"area difference": st.column_config.NumberColumn(format="%+.3f"),
                            "Holm p": st.column_config.NumberColumn(format="%.3f"),
                            "Holm TOST p": st.column_config.NumberColumn(format="%.3f")})
for sentence in glue.verdict_sentences(study, axis):
    st.markdown(f"- {sentence}")
st.plotly_chart(state.memo_figure(("energy-areas", memo, axis), lambda: figs.area_figure(comparisons)),
                config=PLOTLY_CONFIG)
st.caption("With few seeds most verdicts read \"no evidence either way\": the number after it is the difference "
           "these seeds could have found. The full study is `python -m snn_core pareto` and docs/ENERGY_PARETO.md.")
st.download_button("Download the study (JSON)", valid_json(study.to_json(), indent=2), "pareto-study.json",
                   "application/json", key="energy_download")
