"""Every palette colour reads on both page backgrounds (WCAG 2.1 SC 1.4.11, 3:1), and the palettes stay distinct."""
import itertools
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest

from snn_viz import style

ROOT = Path(__file__).resolve().parents[2]
PALETTE = {**{f"layer {k}": v for k, v in style.LAYER_COLOURS.items()},
           **{f"series {k}": v for k, v in style.SERIES_COLOURS.items()},
           **{f"method {k}": v for k, v in style.METHOD_COLOURS.items()},
           "other": style.OTHER_COLOUR, "ink": style.INK,
           **{f"neutral for {k}": v for k, v in style.NEUTRAL.items() if v.startswith("#")}}


def test_the_contrast_ratio_has_wcags_known_values():
    assert style.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert style.contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)   # WCAG's classic example
    assert style.contrast_ratio("#0072B2", "#0072B2") == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(PALETTE))
def test_every_palette_colour_passes_3_to_1_on_white_and_on_the_dark_page(name):
    colour = PALETTE[name]
    for background in (style.LIGHT_BACKGROUND, style.DARK_BACKGROUND):
        ratio = style.contrast_ratio(colour, background)
        assert ratio >= style.MIN_CONTRAST, f"{name} {colour} on {background}: {ratio:.2f}:1"


# Machado, Oliveira & Fernandes (2009), full severity: how linear RGB looks to a deuteranope and a protanope.
VISION = {"normal": None,
          "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                           (-0.011820, 0.042940, 0.968881)),
          "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                         (-0.003882, -0.048116, 1.051998))}


@pytest.mark.parametrize("vision", sorted(VISION))
def test_layer_colours_are_one_per_layer_and_apart_also_for_colour_blind_eyes(vision):
    colours = list(style.LAYER_COLOURS.values())
    assert len(set(colours)) == len(colours)
    for first, second in itertools.combinations(colours, 2):
        distance = _lab_distance(first, second, VISION[vision])
        assert distance >= 15, f"{first} and {second} look alike ({vision}: ΔE {distance:.1f})"


def test_train_and_test_greys_differ_in_lightness():
    train, test = style.SERIES_COLOURS["train"], style.SERIES_COLOURS["test"]
    assert abs(style.relative_luminance(train) - style.relative_luminance(test)) >= 0.1


@pytest.mark.parametrize("count", [1, 2, 5, 8])
def test_shades_keep_contrast_on_both_pages_and_differ(count):
    for colour in style.LAYER_COLOURS.values():
        shades = style.shades(colour, count)
        assert len(shades) == len(set(shades)) == count
        for shade in shades:
            assert min(style.contrast_ratio(shade, style.LIGHT_BACKGROUND),
                       style.contrast_ratio(shade, style.DARK_BACKGROUND)) >= style.MIN_CONTRAST, (colour, shade)


def test_styled_figures_name_no_page_colours_and_neutralise_one_sided_ink():
    fig = go.Figure([go.Scatter(y=[0, 1], line=dict(color="#222222"), textfont=dict(color="black")),
                     go.Heatmap(z=[[0, 1]], colorscale=[[0.0, "white"], [1.0, "#0072B2"]])])
    fig.add_hline(y=0.5, line=dict(color="black", dash="dash"))
    fig.add_annotation(x=0, y=0, text="note", font=dict(color="#444444"))
    style.styled(fig, "a figure")
    assert fig.layout.paper_bgcolor is None and fig.layout.plot_bgcolor is None and fig.layout.font.color is None
    assert fig.layout.template.layout.paper_bgcolor == "white"             # what a standalone export shows
    assert fig.data[0].line.color == style.INK and fig.data[0].textfont.color is None
    assert fig.layout.shapes[0].line.color == style.INK
    assert fig.layout.annotations[0].font.color is None                   # the theme's text colour
    assert fig.data[1].colorscale[0][1] == "rgba(0, 114, 178, 0)"         # zero = the page, fading into the colour


def test_no_chart_opts_out_of_streamlits_theme():
    """``theme=None`` would keep a chart's colours when the user switches the theme (Streamlit does not rerun)."""
    offenders = [f"{path.relative_to(ROOT)}:{number}" for folder in ("app_pages", "snn_app")
                 for path in sorted((ROOT / folder).glob("*.py"))
                 for number, line in enumerate(path.read_text().splitlines(), 1) if "theme=None" in line]
    assert not offenders, f"st.plotly_chart(..., theme=None) in {offenders}: leave the theme at its default"


def _lab_distance(first: str, second: str, seen=None) -> float:
    """CIE76 ΔE between two sRGB colours (D65), as ``seen`` (a 3x3 matrix on linear RGB; None: normal vision)."""
    return sum((a - b) ** 2 for a, b in zip(_lab(first, seen), _lab(second, seen))) ** 0.5


def _lab(colour: str, seen) -> tuple[float, float, float]:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    rgb = [s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4 for s in channels]
    if seen is not None:
        rgb = [min(max(sum(m * c for m, c in zip(row, rgb)), 0.0), 1.0) for row in seen]
    r, g, b = rgb
    xyz = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, \
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    fx, fy, fz = (t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def test_every_colour_a_figure_module_names_reads_on_both_backgrounds():
    """Not only style.py's palettes: any ``"#RRGGBB"`` written in a figure module is drawn as it is (unless
    ``styled`` maps it, ``NEUTRAL``), so it must pass MIN_CONTRAST against both page backgrounds too. White is
    allowed as an outline drawn on a coloured marker, and the dark background is a background."""
    mapped = {colour.lower() for colour in style.NEUTRAL} | {"#ffffff", style.DARK_BACKGROUND.lower()}
    failing = []
    for module in sorted((Path(style.__file__).parent).glob("*.py")):
        for colour in re.findall(r'"(#[0-9A-Fa-f]{6})"', module.read_text()):
            worst = min(style.contrast_ratio(colour, background)
                        for background in (style.LIGHT_BACKGROUND, style.DARK_BACKGROUND))
            if colour.lower() not in mapped and worst < style.MIN_CONTRAST:
                failing.append(f"{module.name}: {colour} ({worst:.2f}:1)")
    assert failing == []
