"""TRT figures: a class name from a user's dataset folder is shown as itself, never rendered as a link or markup."""
import numpy as np

from snn_viz import trt_figures


def test_a_class_name_with_tags_shows_as_text_in_ticks_and_legend():
    names = ["<a href='https://example.com'>cat</a>", "dog & <b>bird</b>"]
    probabilities = {"original": np.array([0.9, 0.1]), "reversed": np.array([0.2, 0.8])}
    fig = trt_figures.outputs_both_ways(probabilities, names, 0)
    assert list(fig.data[0].x) == ["&lt;a href='https://example.com'&gt;cat&lt;/a&gt; ★",
                                   "dog &amp; &lt;b&gt;bird&lt;/b&gt;"]
    assert fig.data[0].name == "original: predicts &lt;a href='https://example.com'&gt;cat&lt;/a&gt;"
    assert fig.data[1].name == "reversed: predicts dog &amp; &lt;b&gt;bird&lt;/b&gt;"
    assert trt_figures.plain("left") == "left"
