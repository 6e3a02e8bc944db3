"""SNN Explorer's entry point: page set-up, shared settings in the sidebar, URL state, navigation."""
import streamlit as st

from snn_app import sidebar, state
from snn_core.runtime import configure_threads

st.set_page_config(page_title="SNN Explorer", page_icon=":material/bolt:", layout="wide")
configure_threads()    # before any page builds a network (see docs/PERFORMANCE.md)
state.start_session()

page = st.navigation([
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/playground.py", title="Neuron playground", icon=":material/science:"),
    st.Page("app_pages/train.py", title="Train & watch", icon=":material/model_training:"),
    st.Page("app_pages/explorer.py", title="Spike explorer", icon=":material/grain:"),
    st.Page("app_pages/recording.py", title="Open a recording", icon=":material/upload_file:", url_path="recording"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/balance:"),
    st.Page("app_pages/asa.py", title="Redundancy & ASA", icon=":material/filter_alt:", url_path="redundancy"),
    st.Page("app_pages/ttfs.py", title="TTFS vs multi-spike", icon=":material/timer:"),
    st.Page("app_pages/trt.py", title="Temporal reversal (TRT)", icon=":material/history:"),
])
with st.sidebar:
    state.publish_config(sidebar.render(st.session_state.config))
state.show_url_notices()
page.run()
