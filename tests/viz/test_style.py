"""The shared figure style: the same figure for both themes (the page's theme colours it), and the toolbar."""
import plotly.graph_objects as go

from snn_viz import style


def test_a_styled_figure_keeps_layer_colours_and_leaves_page_colours_to_the_theme():
    fig = go.Figure([go.Scatter(y=[0, 1], name="fc1", line=dict(color=style.layer_colour("fc1"))),
                     go.Scatter(y=[1, 0], name="test", line=dict(color=style.SERIES_COLOURS["test"]))])
    style.styled(fig, "a figure")
    assert fig.data[0].line.color == style.LAYER_COLOURS["fc1"] and fig.layout.paper_bgcolor is None
    assert fig.layout.legend.font.size == fig.layout.xaxis.tickfont.size == style.FONT_SIZE   # not the theme's


def test_the_toolbar_exports_svg_without_the_logo_under_the_charts_name():
    assert style.PLOTLY_CONFIG["displaylogo"] is False
    assert style.PLOTLY_CONFIG["toImageButtonOptions"]["format"] == "svg"
    config = style.plotly_config("fc1 spikes / sample 3")
    assert config["toImageButtonOptions"]["filename"] == "fc1-spikes---sample-3"
    assert style.PLOTLY_CONFIG["toImageButtonOptions"]["filename"] == "snn-explorer-figure"   # not changed
