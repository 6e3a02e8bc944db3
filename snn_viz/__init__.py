"""SNN Explorer's Plotly figure builders: they take engine records and return figures.

Plotly, numpy and torch only (never streamlit), so the CLI can export the same figures as HTML
and tests can build them without a running app. ``style`` holds the look all figures share.
"""
