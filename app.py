"""SNN Explorer's entry point: page setup, torch's thread count, then navigation between the pages."""
import streamlit as st

from snn_core.runtime import configure_threads

st.set_page_config(page_title="SNN Explorer", page_icon=":material/bolt:", layout="wide")
configure_threads()    # before any page builds a network: one torch thread per process on small machines

page = st.navigation([
    st.Page("pages/train.py", title="Train & inspect", icon=":material/model_training:", default=True),
])
page.run()
