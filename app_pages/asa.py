"""Redundancy & ASA: the same network with and without Advance Spatial Attention and its controls, side by side."""
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
st.markdown("Because a gate only shrinks the current, *any* gate lowers the firing rate. The **controls** do it "
            "without attention — the **learned gate** (one learned factor per layer, starting at g: plain "
            "attenuation) and the **random gate** (as many time-channel slices as ASA gates, picked at random) — so "
            "you can see how much of ASA's effect is its choice of channels and steps. ASA is compared with its "
            "control, not only with no ASA.")
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
chosen = st.columns([5, 2, 3])
controls_on = chosen[0].multiselect("controls trained beside ASA", list(glue.CONTROLS), [glue.DEFAULT_CONTROL],
                                    key="red_controls", help="each is one more network to train")
gate = chosen[1].number_input("control gate g (start)", 0.05, 0.95, 0.7, 0.05, key="red_gate",
                              help="where the controls' learned gate starts; ASA's mean gate is shown after training")
paper = chosen[2].toggle("paper's neuron", True, key="red_paper",
                         help="the ASA paper's LIF (V_th 0.3, leak 0.3, hard reset) and lr 0.01: behind BatchNorm it "
                              "fires densely enough for noise channels to appear; off: the sidebar's neuron and lr")
try:
    configs = glue.pair_configs(st.session_state.config, variant, noise, int(epochs), int(samples), controls_on,
                                float(gate), paper)
except ValueError as problem:
    st.error(f"These settings cannot run ASA: {problem}")
    st.stop()
if st.button("Train ASA off, on and controls", type="primary", key="red_train", disabled=jobs.running(glue.JOB),
             help="trains in the background: the page stays usable, and Cancel stops it"):
    jobs.start(glue.JOB, glue.pair_job(configs))
snap = jobs.panel(glue.JOB, again="Train ASA off, on and controls", resumes=False)
if snap is not None and snap.state == jobs.FINISHED:
    st.session_state.asa_pair = {"configs": snap.meta["configs"], "trainers": snap.value}
    jobs.forget(glue.JOB)

pair = st.session_state.get("asa_pair")
if pair is None:
    if snap is None or not snap.running:
        st.info("Press **Train ASA off, on and controls**: conv networks on event clips, same seed and same "
                "initial weights, without ASA, with it, and with each chosen control.")
    st.stop()
if pair["configs"] != configs:
    st.info("The settings above changed since these runs were trained: press **Train ASA off, on and controls**.")
trainers = pair["trainers"]
evaluations = {arm: trainer.last_evaluation for arm, trainer in trainers.items()}
key = tuple(pair["configs"].values())

bases = [arm for arm in evaluations if arm != "ASA on"]
against = st.radio("compare ASA against", bases,
                   index=bases.index(glue.DEFAULT_CONTROL) if glue.DEFAULT_CONTROL in bases else 0,
                   horizontal=True, key="red_against",
                   help="its control shows what attenuation (or a random choice) alone does; off shows the total")
on, base = evaluations["ASA on"], evaluations[against]
st.markdown("**Test accuracy** and **NASFR** (network-average spike firing rate: spikes per neuron per step)")
for column, (arm, evaluation) in zip(st.columns(len(evaluations)), evaluations.items()):
    column.metric(arm, f"{evaluation.accuracy:.1%}",
                  f"{100 * (on.accuracy - base.accuracy):+.1f} pts vs {against}" if arm == "ASA on" else None,
                  help=f"test accuracy of the run {arm}")
    column.metric(arm, f"{evaluation.activity.nasfr:.4f}",
                  f"{on.activity.nasfr - base.activity.nasfr:+.4f} vs {against}" if arm == "ASA on" else None,
                  delta_color="inverse", help=f"NASFR of the run {arm}: all its spikes / (neurons x steps x clips)")
st.markdown("**Noise channels** (firing almost everywhere, for nothing) without ASA and what ASA made of them, "
            "on the test clips:\n" + glue.noise_story(evaluations["ASA off"].redundancy, on.redundancy))
st.caption("One seed: a demonstration, not a verdict. The reproduction report (`python -m snn_core reproduce "
           "--sections asa`) tunes every arm with the same budget and pits ASA against its best control on 10 or more "
           "paired seeds.")
left, right = st.columns(2)
left.plotly_chart(state.memo_figure(("red-rates", key), lambda: figs.rates_by_layer(
    {arm: ev.activity.firing_rate for arm, ev in evaluations.items()},
    {arm: ev.activity.nasfr for arm, ev in evaluations.items()})), config=PLOTLY_CONFIG)
right.plotly_chart(state.memo_figure(("red-patterns", key), lambda: figs.channel_patterns(
    {arm: ev.redundancy.pattern_fractions() for arm, ev in evaluations.items()})), config=PLOTLY_CONFIG)

downloads.panel("asa-pair", lambda: downloads.trainers_result(trainers),
                lambda: downloads.trainers_rows(trainers, "arm"), key="red_download")

layer = st.radio("conv layer", list(evaluations["ASA off"].redundancy.layers), horizontal=True, key="red_layer")
if "traces" not in pair:
    with st.spinner(f"Tracing {glue.TRACED_SAMPLES} test clips through both networks..."):
        pair["traces"] = {arm: glue.traced(trainers[arm]) for arm in glue.ARMS}
traces = pair["traces"]
asa_gate = glue.measured_gate(traces["ASA on"])
if asa_gate is not None:
    st.caption(f"ASA's mean gate in this run: **{asa_gate:.2f}** (the average factor its gates multiplied the "
               "traced clips' current by); a learned gate started at this g shrinks the current as much at first.")
picks = glue.pick_channels(evaluations["ASA off"].redundancy, layer)
threshold = pair["configs"]["ASA off"].neuron.threshold
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
        title = f"{arm}, {pattern} ch {channel}"
        column.plotly_chart(state.memo_figure(("red-mpd", key, layer, channel, arm, field), lambda: figs.mpd(
            counts, edges, threshold, f"{title}: {field}", figs.ARM_COLOURS[arm])), config=PLOTLY_CONFIG)
        column.plotly_chart(state.memo_figure(("red-map", key, layer, channel, arm), lambda: figs.firing_map(
            rates, f"{title}: rate")), config=PLOTLY_CONFIG)

st.subheader("What ASA decided for one clip")
sample = st.slider("test clip", 0, glue.TRACED_SAMPLES - 1, 0, key="red_sample")
view = glue.gate_view(trainers["ASA on"], traces["ASA on"], layer, sample)
if view is None:
    st.caption(f"{layer} has no ASA gate (see --asa-layers).")
else:
    left, right = st.columns([3, 2])
    left.plotly_chart(figs.gate_maps(glue.input_image(trainers["ASA on"], sample),
                                     {k: v for k, v in view.items() if k != "mask"}), config=PLOTLY_CONFIG)
    right.plotly_chart(figs.importance_mask(view["mask"]), config=PLOTLY_CONFIG)
