"""SNN Explorer's views: Plotly figure builders and session glue between the engine and the pages.

``figures`` imports plotly, numpy and torch only; ``session`` imports the engine; neither imports
streamlit, so both can be tested without a running app.
"""
