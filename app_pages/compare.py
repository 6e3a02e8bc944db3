"""Compare: the sidebar settings against a variant, trained on the same seeds, with paired statistics."""
import os

import streamlit as st

from snn_app import challenges, comparison, downloads, jobs, state, training
from snn_core.experiments.stats import CI_LATEX, MDE_LATEX
from snn_core.experiments.tuning import tuning_table
from snn_viz import compare_figures
from snn_viz.style import PLOTLY_CONFIG

state.start_session()
st.title("Compare")
st.markdown(
    "One training run's accuracy moves by a point or two from seed to seed — as much as many method effects. "
    "So both arms train on the **same seeds** (same data, initialisation and batch order), and each seed gives "
    "one paired difference. A difference counts only when its **95% confidence interval** excludes zero.")
with st.expander("How the interval is computed"):
    st.latex(CI_LATEX)
    st.caption("d̄ and s_d: mean and standard deviation of the n per-seed differences (variant − base); α = 0.05. "
               "The Student-t quantile with n − 1 degrees of freedom is SciPy's (scipy.stats.t.ppf).")
    st.latex(MDE_LATEX)
    st.caption("Beside every \"no evidence of a difference\": the minimum detectable effect, the smallest difference "
               "these n seeds would find with 80% power. The p-values are paired t-tests, Holm-adjusted over the "
               "metrics listed (one family of tests).")

base_cfg = st.session_state.config
st.caption(f"Base: the sidebar settings — {training.describe(base_cfg)}")
left, right = st.columns([3, 2])
changes = left.text_input("Variant: the base with these changes (KEY=VALUE, space separated)", "max-spikes=1",
                          key="cmp_changes", help="the train options without dashes, e.g. `max-spikes=1 T=4`; "
                                                  "`python -m snn_core train --help` lists them all")
factor = right.number_input("Train the base × longer (compute-matched control; 1 = off)", 1.0, 4.0, 1.0, 0.5,
                            key="cmp_factor")
columns = st.columns(3)
seeds = columns[0].number_input("seeds", 2, 20, 5, key="cmp_seeds")
first_seed = columns[1].number_input("first seed", 0, 10_000, 0, key="cmp_first_seed")
workers = columns[2].number_input("worker processes", 1, max(1, os.cpu_count() or 1), 1, key="cmp_workers",
                                  help="runs in parallel, one torch thread each")

tune_first = st.toggle("Tune both arms first", key="cmp_tune",
                       help="a method tuned against an untuned baseline wins by tuning: give both the same search")
trials = 3
if tune_first:
    trials = st.number_input("settings tried per arm", 2, 9, 3, key="cmp_trials")
    st.caption(comparison.budget_text(int(trials), base_cfg))

busy = jobs.running(comparison.JOB) or jobs.running(comparison.TUNE_JOB)
if st.button("Run comparison", type="primary", icon=":material/balance:", key="cmp_run", disabled=busy,
             help="runs in the background: the page stays usable, and Cancel keeps the runs finished so far"):
    try:
        base, variant = comparison.arms(base_cfg, changes, factor)
        compared = list(range(int(first_seed), int(first_seed) + int(seeds)))
        plan = comparison.tuning_plan(base_cfg, base, changes, int(trials), compared) if tune_first else None
    except ValueError as problem:
        st.error(f"Cannot compare: {problem}")
    else:
        st.session_state.pop("cmp_tuned", None)
        if plan is None:
            jobs.forget(comparison.TUNE_JOB)
            jobs.start(comparison.JOB, comparison.job(base, variant, int(seeds), int(first_seed), int(workers),
                                                      changes))
        else:
            jobs.start(comparison.TUNE_JOB, comparison.tune_job(plan, int(seeds), int(first_seed), int(workers),
                                                                changes))
tuning = jobs.panel(comparison.TUNE_JOB, again="Run comparison")
if tuning is not None and tuning.state == jobs.FINISHED:
    jobs.forget(comparison.TUNE_JOB)
    try:
        st.session_state.cmp_tuned, after = comparison.comparison_after(tuning)
    except ValueError as problem:
        st.error(f"Cannot tune: {problem}")
    else:
        jobs.start(comparison.JOB, after)
if st.session_state.get("cmp_tuned"):
    with st.expander("Both arms tuned first: the settings chosen", expanded=True):
        st.markdown("\n".join(tuning_table(st.session_state.cmp_tuned)))
snap = jobs.panel(comparison.JOB, again="Run comparison")
if snap is not None:
    st.session_state.comparison = comparison.result(snap)          # the pairs finished so far
    st.session_state.comparison_changes = snap.meta["changes"]

result = st.session_state.get("comparison")
if result is None:
    st.info("Set the variant and press **Run comparison**. Small settings (few epochs, T ≤ 8) take seconds a seed.")
    st.stop()
if not result.seeds:
    st.info("No seed has both runs finished yet: each pair appears here as soon as it has."
            if snap is not None and snap.running else "No seed had both runs finished.")
    st.stop()

waiting = "still to come" if snap is not None and snap.running else "not run"
unfinished = f" ({result.unfinished_runs} runs {waiting})" if result.unfinished_runs else ""
st.subheader(f"Variant `{st.session_state.comparison_changes}` against the base, {len(result.seeds)} "
             f"seed{'s' if len(result.seeds) != 1 else ''}{unfinished}")
if result.failed_runs:
    st.warning(f"{result.failed_runs} run(s) failed and are left out of the statistics: "
               f"{'; '.join(comparison.errors(result))}")
st.markdown("\n".join(f"- {sentence}" for sentence in comparison.sentences(result)) or "No paired seeds.")
challenges.show("halve-rate", challenges.halve_rate(result))
st.plotly_chart(compare_figures.arm_bars(result), config=PLOTLY_CONFIG, key="cmp_bars")
st.plotly_chart(compare_figures.paired_differences(result), config=PLOTLY_CONFIG, key="cmp_paired")
st.plotly_chart(compare_figures.tradeoff_scatter(result), config=PLOTLY_CONFIG, key="cmp_tradeoff")
buttons = st.columns(2)
buttons[0].download_button("per-seed metrics (CSV)", comparison.per_seed_csv(result), "comparison.csv", "text/csv")
buttons[1].download_button("comparison (JSON)", downloads.json_text(result), "comparison.json", "application/json")
