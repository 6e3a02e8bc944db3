"""Redundancy & ASA: the same network with and without Advance Spatial Attention, side by side."""
import streamlit as st

from snn_app import asa as glue
from snn_app import downloads, jobs, state
from snn_core.metrics.redundancy import REDUNDANCY_EQUATIONS, PatternThresholds
from snn_viz import asa_figures as figs
from snn_viz.style import PLOTLY_CONFIG

state.start_session()
st.title("Redundancy & ASA")
st.markdown(
    "A conv layer uses the **same kernel at every position and every time step**. That spatio-temporal "
    "invariance is efficient, but it also means the kernel answers *noise events* wherever and whenever they "
    "occur, so whole channels can fire almost everywhere without carrying information — **noise spikes**. "
    "**ASA** (Advance Spatial Attention, Yao et al. 2023) scores each (time step, channel) slice, splits them into "
    "an important and a sub-important group, and multiplies each group's input current by a learned spatial gate "
    "between 0 and 1 before the neurons integrate it. A gate can only shrink the current, never amplify it.")
st.caption("`faithful` behaves like the published code, quirks included (XOR masks pooled over the batch, a score "
           "path without gradient); `clean` is our re-implementation with per-sample masks and a learning score.")
with st.expander("How channels are classified noise, normal or null"):
    st.latex(REDUNDANCY_EQUATIONS)
    limits = PatternThresholds()
    st.caption(f"F_c is channel c's firing rate per position over the M test clips and T steps (the firing-rate "
               f"maps below). A channel is **noise** when more than {limits.noise_pixel_fraction:.0%} of its "
               f"positions fire at a rate above {limits.noise_rate:g}, **null** when its mean rate is below "
               f"{limits.null_rate:g}, **normal** otherwise. sim_T (consecutive steps) and sim_C (pairs of "
               "channels) are cosine similarity proxies of redundancy, in each run's metrics (temporal_similarity, "
               "channel_similarity).")

controls = st.columns(4)
variant = controls[0].radio("ASA variant", ("clean", "faithful"), key="red_variant", horizontal=True)
noise = controls[1].slider("noise events per pixel", 0.0, 0.5, 0.2, 0.05, key="red_noise",
                           help="background noise and hot pixels of the event camera")
epochs = controls[2].number_input("epochs", 1, 30, 4, key="red_epochs")
samples = controls[3].number_input("training clips", 200, 4000, 1000, 200, key="red_samples")
try:
    configs = glue.pair_configs(st.session_state.config, variant, noise, int(epochs), int(samples))
except ValueError as problem:
    st.error(f"These settings cannot run ASA: {problem}")
    st.stop()
if st.button("Train ASA off and on", type="primary", key="red_train", disabled=jobs.running(glue.JOB),
             help="trains in the background: the page stays usable, and Cancel stops it"):
    jobs.start(glue.JOB, glue.pair_job(configs))
snap = jobs.panel(glue.JOB, again="Train ASA off and on", resumes=False)
if snap is not None and snap.state == jobs.FINISHED:
    st.session_state.asa_pair = {"configs": snap.meta["configs"], "trainers": snap.value}
    jobs.forget(glue.JOB)

pair = st.session_state.get("asa_pair")
if pair is None:
    if snap is None or not snap.running:
        st.info("Press **Train ASA off and on**: two conv networks on event clips, same seed, one with ASA.")
    st.stop()
if pair["configs"] != configs:
    st.info("The settings above changed since this pair was trained: press **Train ASA off and on** to update.")
trainers = pair["trainers"]
evaluations = {arm: trainer.last_evaluation for arm, trainer in trainers.items()}
key = tuple(pair["configs"])

metrics = st.columns(4)
for column, arm in enumerate(glue.ARMS):
    metrics[column].metric(f"test accuracy, {arm}", f"{evaluations[arm].accuracy:.1%}")
    metrics[column + 2].metric(f"NASFR, {arm}", f"{evaluations[arm].activity.nasfr:.4f}")
left, right = st.columns(2)
left.plotly_chart(state.memo_figure(("red-rates", key), lambda: figs.rates_by_layer(
    {arm: ev.activity.firing_rate for arm, ev in evaluations.items()},
    {arm: ev.activity.nasfr for arm, ev in evaluations.items()})), theme=None, config=PLOTLY_CONFIG)
right.plotly_chart(state.memo_figure(("red-patterns", key), lambda: figs.channel_patterns(
    {arm: ev.redundancy.pattern_fractions() for arm, ev in evaluations.items()})), theme=None, config=PLOTLY_CONFIG)

downloads.panel("asa-pair", lambda: downloads.trainers_result(trainers),
                lambda: [downloads.run_row(run, arm=arm) for arm, run in downloads.trainers_result(trainers).items()],
                key="red_download")

layer = st.radio("conv layer", list(evaluations["ASA off"].redundancy.layers), horizontal=True, key="red_layer")
if "traces" not in pair:
    with st.spinner(f"Tracing {glue.TRACED_SAMPLES} test clips through both networks..."):
        pair["traces"] = {arm: glue.traced(trainer) for arm, trainer in trainers.items()}
traces = pair["traces"]
picks = glue.pick_channels(evaluations["ASA off"].redundancy, layer)
threshold = pair["configs"][0].neuron.threshold
st.subheader("The paper's Fig. 1: a noise channel and a normal channel, without and with ASA")
shown = st.radio("histogram of", ("input current", "membrane before reset"), horizontal=True, key="red_mpd",
                 help="the paper histograms the gated input current; the membrane adds the leaky memory of it")
field = "current" if shown == "input current" else "v_pre"
st.caption(f"Histogram of the channel's {shown} over the first 16 test clips and all steps, with V_th, and the "
           "channel's firing rate per position on the test set. Channels are picked in the run without ASA: the "
           "busiest noise and the busiest normal channel.")
for pattern, channel in picks._asdict().items():
    if channel is None:
        st.caption(f"No channel of {layer} is classified {pattern} in the run without ASA.")
        continue
    for column, arm in zip(st.columns(2), glue.ARMS):
        counts, edges = glue.channel_mpd(traces[arm], layer, channel, field)
        rates = evaluations[arm].redundancy.firing_maps[layer][channel].cpu().numpy()
        title = f"{arm}: {pattern} channel {channel}"
        column.plotly_chart(state.memo_figure(("red-mpd", key, layer, channel, arm, field), lambda: figs.mpd(
            counts, edges, threshold, f"{title}, {shown}", figs.ARM_COLOURS[arm])), theme=None, config=PLOTLY_CONFIG)
        column.plotly_chart(state.memo_figure(("red-map", key, layer, channel, arm), lambda: figs.firing_map(
            rates, f"{title}, firing rate")), theme=None, config=PLOTLY_CONFIG)

st.subheader("What ASA decided for one clip")
sample = st.slider("test clip", 0, glue.TRACED_SAMPLES - 1, 0, key="red_sample")
view = glue.gate_view(trainers["ASA on"], traces["ASA on"], layer, sample)
if view is None:
    st.caption(f"{layer} has no ASA gate (see --asa-layers).")
else:
    left, right = st.columns([3, 2])
    left.plotly_chart(figs.gate_maps(glue.input_image(trainers["ASA on"], sample),
                                     {k: v for k, v in view.items() if k != "mask"}), theme=None, config=PLOTLY_CONFIG)
    right.plotly_chart(figs.importance_mask(view["mask"]), theme=None, config=PLOTLY_CONFIG)
