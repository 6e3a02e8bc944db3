"""Glue between Streamlit pages and the engine: session state, shared controls, URL state."""
