"""Home: what a spiking neuron and a spiking network are, one live neuron, a one-click start, a map of every page
(``snn_app.pages``, the list the navigation is built from) and guided challenges that open a page set up for them."""
import streamlit as st

from snn_app import pages, state, url_state
from snn_app.sidebar import classroom, seed_widgets
from snn_core.config.run_config import RunConfig
from snn_core.experiments.playground import simulate
from snn_core.neurons.lif import LIFParams
from snn_core.training.trainer import Trainer
from snn_viz.neuron_figures import neuron_traces
from snn_viz.style import PLOTLY_CONFIG


def quick_start() -> None:
    """Default settings, a fresh run, playing. A button callback: it runs before the sidebar widgets are
    drawn, the only moment their values may be set; the page body then switches to Train & watch."""
    seed_widgets(RunConfig())
    st.session_state.config = RunConfig()
    st.session_state.trainer = Trainer(RunConfig())
    state.live_run().play()                      # trains in the background (snn_app.live) while the page draws
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
                                  "One neuron, 40 steps of random input spikes"), config=PLOTLY_CONFIG)
    if st.button("New random input", key="home_new_input"):
        st.session_state.home_seed += 1
        st.rerun()
with right:
    st.subheader("Quick start")
    st.write("Train the default network — 64 input pixels → 128 spiking neurons → 10 digits, T = 8 steps — "
             "and watch it learn: its 10 epochs took about 3 s in the browser on a 2-core machine, as long as the "
             "engine alone (docs/LIVE_TRAINING.md).")
    st.button("Train the default model", type="primary", icon=":material/play_arrow:", key="quick_start",
              on_click=quick_start)
    if st.session_state.pop("go_to_training", False):
        st.switch_page("app_pages/train.py")

challenges, tour = st.container(), st.container()     # stacked: a link's label is one line, cut in a column at 1024 px
with challenges:
    st.subheader("Challenges")
    st.caption("Each link opens its page with the sidebar set up for it; the goal stays on top of the page.")
    for item in pages.CHALLENGES:
        with st.container(border=True):
            st.page_link(item.page, label=f"**{item.title}**", icon=":material/flag:",
                         query_params=url_state.challenge_params(item.key, classroom()))
            st.caption(f"{item.goal} — on *{pages.page(item.page).title}*.")
with tour:
    st.subheader("What each page teaches")
    for info in pages.PAGES:
        st.page_link(info.path, label=info.title, icon=info.icon)
        st.caption(info.teaches)
