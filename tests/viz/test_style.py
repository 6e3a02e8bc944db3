"""The shared figure style: dark figures on a dark page (per thread, as Streamlit runs sessions), and the toolbar."""
import threading

import plotly.graph_objects as go
import pytest

from snn_viz import style


def figure(dark: bool | None = None) -> go.Figure:
    """Two ink-coloured lines, a dashed threshold shape and a white-to-colour heatmap, styled."""
    fig = go.Figure([go.Scatter(y=[0, 1], name="test", line=dict(color=style.SERIES_COLOURS["test"])),
                     go.Scatter(y=[1, 0], name="fc1", line=dict(color=style.layer_colour("fc1"))),
                     go.Heatmap(z=[[0, 1]], colorscale=[[0.0, "white"], [1.0, "#0072B2"]])])
    fig.add_hline(y=0.5, line=dict(color="black", dash="dash"))
    return style.styled(fig, "a figure", dark=dark)


@pytest.fixture(autouse=True)
def light_afterwards():
    yield
    style.set_dark(False)


def test_light_figures_keep_white_background_and_dark_ink():
    fig = figure(dark=False)
    assert fig.layout.template.layout.paper_bgcolor == "white"
    assert fig.data[0].line.color == "#222222" and fig.layout.shapes[0].line.color == "black"


def test_dark_figures_get_the_page_background_light_text_and_light_ink():
    fig = figure(dark=True)
    assert fig.layout.paper_bgcolor == fig.layout.plot_bgcolor == style.DARK["background"]
    assert fig.layout.font.color == style.DARK["text"] and fig.layout.xaxis.gridcolor == style.DARK["grid"]
    assert fig.data[0].line.color == style.DARK_INK["#222222"]            # the ink line is light now
    assert fig.data[1].line.color == style.layer_colour("fc1")             # layer colours stay the same
    assert fig.data[2].colorscale[0][1] == style.DARK["background"]        # zero activity = background
    assert fig.layout.shapes[0].line.color == style.DARK_INK["black"]


def test_the_theme_is_set_per_thread_and_styled_follows_it():
    style.set_dark(True)
    assert style.is_dark() and figure().layout.paper_bgcolor == style.DARK["background"]
    seen = []
    other = threading.Thread(target=lambda: seen.append(style.is_dark()))    # another session's script thread
    other.start(), other.join()
    assert seen == [False]
    style.set_dark(False)
    assert figure().layout.paper_bgcolor is None


def test_the_toolbar_exports_svg_without_the_logo_under_the_charts_name():
    assert style.PLOTLY_CONFIG["displaylogo"] is False
    assert style.PLOTLY_CONFIG["toImageButtonOptions"]["format"] == "svg"
    config = style.plotly_config("fc1 spikes / sample 3")
    assert config["toImageButtonOptions"]["filename"] == "fc1-spikes---sample-3"
    assert style.PLOTLY_CONFIG["toImageButtonOptions"]["filename"] == "snn-explorer-figure"   # not changed
