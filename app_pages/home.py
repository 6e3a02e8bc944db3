"""Home: what a spiking neuron and a spiking network are, one live neuron, a one-click start, and a map."""
import streamlit as st

from snn_app import state
from snn_app.sidebar import seed_widgets
from snn_core.config.run_config import RunConfig
from snn_core.experiments.playground import simulate
from snn_core.neurons.lif import LIFParams
from snn_core.training.trainer import Trainer
from snn_viz.neuron_figures import neuron_traces

TOUR = {
    "app_pages/playground.py": ("Neuron playground", "One LIF neuron and its dials: leak, threshold, reset, the spike "
                            "cap K. Watch the membrane charge, fire and reset, and read its f–I curve."),
    "app_pages/train.py": ("Train & watch", "Play, pause and step the training of a whole network on handwritten "
                       "digits, event-camera clips or real recordings (N-MNIST, DVS Gesture, SHD); loss, accuracy "
                       "and every layer's firing rate move live."),
    "app_pages/explorer.py": ("Spike explorer", "Open the trained network on one test sample: spike rasters, membrane "
                          "traces with the threshold, and which channels fire when."),
    "app_pages/recording.py": ("Open a recording", "Open a real event-camera file (N-MNIST, Prophesee, "
                               "iniVation, ...): its events over time, the frames a network sees, and the trained "
                               "model's answer."),
    "app_pages/compare.py": ("Compare", "Is a change really better? Both settings train on the same seeds; the "
                         "page reports paired differences with 95% confidence intervals and wins."),
    "app_pages/asa.py": ("Redundancy & ASA", "Noise events make whole channels fire for nothing; watch "
                                "Advance Spatial Attention gate their current and the firing rate drop."),
}


def quick_start() -> None:
    """Default settings, a fresh run, playing. A button callback: it runs before the sidebar widgets are
    drawn, the only moment their values may be set; the page body then switches to Train & watch."""
    seed_widgets(RunConfig())
    st.session_state.config = RunConfig()
    st.session_state.trainer = Trainer(RunConfig())
    st.session_state.step_log.clear()
    st.session_state.running = True
    st.session_state.go_to_training = True


state.start_session()
st.title("SNN Explorer")
st.markdown(
    "A **spiking neuron** adds up its input current in a *membrane potential* that slowly leaks away. When the "
    "potential crosses a **threshold** the neuron emits a **spike** — an all-or-nothing event — and resets. "
    "Information travels in *when* and *how often* neurons spike, not in continuous numbers.\n\n"
    "A **spiking neural network (SNN)** stacks layers of such neurons and runs them over **T time steps**. "
    "It is trained like any network, except that the spike's step function has no useful gradient, so learning "
    "uses a smooth *surrogate* in its place. SNNs are sparse and event-driven: a layer that rarely spikes does "
    "little work, which is why firing rates matter as much as accuracy here.")

left, right = st.columns([3, 2])
with left:
    seed = st.session_state.setdefault("home_seed", 0)
    run = simulate("poisson", LIFParams(decay=0.8, threshold=1.0), 40, rate_per_step=0.35, weight=0.5, seed=seed)
    st.plotly_chart(neuron_traces(run, LIFParams(decay=0.8, threshold=1.0),
                                  "One neuron, 40 steps of random input spikes"), theme=None)
    if st.button("New random input", key="home_new_input"):
        st.session_state.home_seed += 1
        st.rerun()
with right:
    st.subheader("Quick start")
    st.write("Train the default network — 64 input pixels → 128 spiking neurons → 10 digits, T = 8 steps — "
             "and watch it learn in about a second of training.")
    st.button("Train the default model", type="primary", icon=":material/play_arrow:", key="quick_start",
              on_click=quick_start)
    if st.session_state.pop("go_to_training", False):
        st.switch_page("app_pages/train.py")
    st.subheader("What each page teaches")
    for path, (title, text) in TOUR.items():
        st.page_link(path, label=title)
        st.caption(text)
