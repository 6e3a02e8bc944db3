"""The sample figures (snn_viz.sample_figures) against hand-computed values."""
import numpy as np
import pytest
import torch

from snn_core.data import Dataset
from snn_core.network.records import LayerTrace
from snn_viz import sample_figures


def recorded(spikes: torch.Tensor, name: str = "fc1", v_pre: torch.Tensor | None = None) -> LayerTrace:
    """A layer record of one sample from ``spikes[T, ...]``; the membrane defaults to a value per (step, neuron)."""
    if v_pre is None:
        v_pre = torch.arange(spikes.numel(), dtype=torch.float32).reshape(spikes.shape) / 100 + spikes
    spikes, v_pre = spikes.bool().unsqueeze(1), v_pre.unsqueeze(1)              # (T, 1, ...)
    return LayerTrace(name, v_pre, v_pre, v_pre * ~spikes, spikes, v_pre)           # no gate: ungated = current


def random_spikes(*shape: int, seed: int = 0, p: float = 0.3) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) < p


def test_raster_marks_every_spike_with_its_neuron_step_and_membrane():
    layer = recorded(random_spikes(6, 100))
    [points] = sample_figures.spike_raster(layer).data
    t, n = np.nonzero(layer.spikes[:, 0].numpy())
    assert points.type == "scattergl"
    assert sorted(zip(points.x, points.y)) == sorted(zip(t, n))
    assert np.allclose(points.customdata, layer.v_pre[t, 0, n].numpy())
    assert "all 100 neurons" in sample_figures.spike_raster(layer).layout.title.subtitle.text.replace("<br>", " ")


def test_raster_caps_the_neurons_shown_and_says_so():
    layer = recorded(torch.ones(5, 1000, dtype=torch.bool))
    fig = sample_figures.spike_raster(layer, max_neurons=50)
    [points] = fig.data
    assert len(set(points.y)) == 50 and len(points.x) == 50 * 5         # every shown neuron fires on every step
    assert "50 of 1000 neurons" in fig.layout.title.subtitle.text.replace("<br>", " ")


def test_capped_raster_of_a_sparse_layer_shows_the_neurons_that_spiked():
    spikes = torch.zeros(4, 1000, dtype=torch.bool)
    spikes[1, [3, 517, 998]] = True                                       # none on the evenly spaced grid
    fig = sample_figures.spike_raster(recorded(spikes), max_neurons=50)
    [points] = fig.data
    assert sorted(points.y) == [3, 517, 998] and list(points.x) == [1, 1, 1]
    assert "50 of 1000 neurons (3 of them spiking)" in fig.layout.title.subtitle.text.replace("<br>", " ")
    assert not fig.layout.annotations


def test_conv_raster_names_channel_row_and_column():
    layer = recorded(torch.ones(2, 2, 3, 4, dtype=torch.bool), "conv1")
    assert sample_figures.neuron_names(layer, [17]) == ["neuron 17: ch 1, row 1, col 1"]
    assert len(sample_figures.neuron_names(layer)) == 24
    assert len(sample_figures.spike_raster(layer).layout.shapes) == 1   # one line between the two channels


def test_membrane_shows_the_chosen_neurons_the_spikes_and_the_threshold():
    spikes = torch.tensor([[0, 0, 1], [1, 0, 0], [0, 1, 1], [1, 0, 0]], dtype=torch.bool)   # (T=4, N=3)
    v_pre = torch.tensor([[0.2, 0.1, 0.9], [0.8, 0.3, 0.1], [0.4, 0.9, 0.8], [0.9, 0.2, 0.3]])
    fig = sample_figures.membrane_traces(recorded(spikes, v_pre=v_pre), 0.7, [0, 2])
    lines = [trace for trace in fig.data if trace.mode == "lines+markers"]
    stars = [trace for trace in fig.data if trace.mode == "markers"]
    [threshold] = [trace for trace in fig.data if trace.name and trace.name.startswith("threshold")]
    assert [trace.name for trace in lines] == ["0", "2"]
    assert np.allclose(lines[1].y, [0.9, 0.1, 0.8, 0.3])
    assert list(stars[0].x) == [1, 3] and list(stars[1].x) == [0, 2]
    assert list(threshold.y) == [0.7, 0.7] and threshold.line.dash == "dash"
    assert "before reset" in fig.layout.title.text


def test_informative_neurons_fire_on_half_the_steps_with_different_trains():
    spikes = torch.tensor([[0, 1, 1, 1, 1], [0, 1, 0, 0, 1], [0, 1, 1, 1, 0], [0, 1, 0, 0, 0]], dtype=torch.bool)
    assert sample_figures.informative_neurons(recorded(spikes), count=2) == [2, 4]   # 3 repeats 2's train


def test_channel_heatmaps_equal_hand_computed_rates():
    spikes = torch.zeros(2, 2, 2, 2, dtype=torch.bool)                         # (T, C, H, W)
    spikes[0, 0, 0, 0] = True                                                   # channel 0: 1 of 4 at step 0
    spikes[1, 0] = True                                                         # ... and all 4 at step 1
    spikes[1, 1, 1] = True                                                      # channel 1: bottom row at step 1
    layer = recorded(spikes, "conv1")
    [over_time] = sample_figures.channel_rate_over_time(layer).data
    assert np.allclose(over_time.z, [[0.25, 1.0], [0.0, 0.5]])
    [maps] = sample_figures.channel_rate_maps(layer).data          # tiles side by side, a gap between, titles above
    mosaic, top = np.asarray(maps.z, dtype=float), sample_figures.map_label_gap(2, 2)
    assert np.isnan(mosaic[:top]).all() and mosaic.shape == (top + 2, 5)
    tiles = mosaic[top:]
    assert np.allclose(tiles[:, :2], [[1.0, 0.5], [0.5, 0.5]]) and np.allclose(tiles[:, 3:], [[0, 0], [0.5, 0.5]])
    assert np.isnan(tiles[:, 2]).all() and list(maps.customdata[top + 1][3]) == [1, 1, 0]   # channel, row, col


@pytest.mark.parametrize("channels, size", [(16, 8), (16, 32), (6, 4), (12, 16)])
def test_channel_map_titles_sit_in_their_own_band_clear_of_the_row_above(channels, size):
    fig = sample_figures.channel_rate_maps(recorded(random_spikes(3, channels, size, size), "conv1"))
    cols = 4 if channels <= 8 else 8
    cell_px = sample_figures.NARROWEST_MAP_PX / (cols * (size + 1))        # square cells at the narrowest chart
    bottoms = sorted({shape.y1 for shape in fig.layout.shapes})            # each row of tiles' bottom edge
    for title in fig.layout.annotations:
        assert title.yanchor == "bottom"                                   # drawn upwards from its tile's top
        above = max([b for b in bottoms if b < title.y], default=-0.5)     # the row above's bottom (or the top)
        assert (title.y - above) * cell_px >= sample_figures.MAP_LABEL_PX, title.text


def test_channel_maps_cap_the_channels_and_say_so():
    fig = sample_figures.channel_rate_maps(recorded(random_spikes(3, 20, 4, 4), "conv2"), max_channels=16)
    assert len(fig.layout.annotations) == 16 and "first 16 of 20 channels" in fig.layout.title.subtitle.text


def test_rate_per_step_compares_the_sample_with_the_test_average():
    spikes = torch.tensor([[1, 0, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0]], dtype=torch.bool)
    sample, average = sample_figures.rate_per_step(recorded(spikes), test_average=[0.5, 0.25, 0.1]).data
    assert np.allclose(sample.y, [0.25, 0.75, 0.0]) and list(average.y) == [0.5, 0.25, 0.1]


def test_readout_highlights_the_label_and_a_wrong_prediction():
    logits = torch.arange(12, dtype=torch.float32).reshape(3, 4)                # (T, classes)
    fig = sample_figures.readout_over_time(logits, ("a", "b", "c", "d"), label=1, predicted=2)
    named = {trace.name: trace for trace in fig.data if trace.showlegend is not False}
    assert set(named) == {"label b", "predicted c", "other classes"}
    assert np.allclose(named["label b"].y, [1, 5, 9]) and fig.data[-1].name == "label b"   # drawn on top


def tiny_dataset(test_x: torch.Tensor, has_time_axis: bool) -> Dataset:
    labels = torch.zeros(len(test_x), dtype=torch.long)
    return Dataset("tiny", test_x, labels, test_x, labels, ("zero", "one"), has_time_axis)


def test_event_input_is_an_animation_with_a_frame_per_step():
    events = torch.randint(0, 3, (1, 3, 2, 4, 4), dtype=torch.uint8)          # (N, T, P, H, W)
    fig = sample_figures.input_sample(tiny_dataset(events, True), 0)
    assert [frame.name for frame in fig.frames] == ["all", "0", "1", "2"]
    assert len(fig.layout.sliders[0].steps) == 4
    assert np.array_equal(fig.frames[2].data[0].customdata, events[0, 1].permute(1, 2, 0).numpy())


def test_channel_inputs_are_a_channel_by_step_heatmap_and_one_polarity_is_drawn_as_off():
    spikes = torch.randint(0, 3, (1, 4, 1, 1, 700), dtype=torch.uint8)        # SHD: (N, T, P=1, H=1, channels)
    fig = sample_figures.input_sample(tiny_dataset(spikes, True), 0)
    assert np.array_equal(fig.data[0].z, spikes[0, :, 0, 0].numpy().T)         # (channels, T)
    assert fig.layout.yaxis.title.text == "channel"
    image = torch.randint(0, 3, (1, 2, 1, 4, 4), dtype=torch.uint8)             # one polarity on a 4x4 sensor
    frames = sample_figures.input_sample(tiny_dataset(image, True), 0).frames
    assert np.array_equal(frames[1].data[0].customdata[..., 0], image[0, 0, 0].numpy())    # OFF holds them
    assert frames[1].data[0].customdata[..., 1].sum() == 0


def test_digit_input_is_the_image():
    image = torch.rand(2, 1, 8, 8)
    fig = sample_figures.input_sample(tiny_dataset(image, False), 1)
    assert np.allclose(fig.data[0].z, image[1, 0].numpy()) and fig.layout.title.text == "test sample 1: zero"


def test_every_figure_hovers_with_what_and_when():
    conv = recorded(random_spikes(3, 2, 4, 4), "conv1")
    figures = [sample_figures.spike_raster(conv), sample_figures.membrane_traces(conv, 1.0, [3, 9]),
               sample_figures.rate_per_step(conv, test_average=[0.1] * 3), sample_figures.channel_rate_over_time(conv),
               sample_figures.channel_rate_maps(conv),
               sample_figures.readout_over_time(torch.zeros(3, 2), ("a", "b"), 0, 1),
               sample_figures.input_sample(tiny_dataset(torch.rand(1, 1, 8, 8), False), 0),
               sample_figures.input_sample(tiny_dataset(torch.ones(1, 3, 2, 4, 4, dtype=torch.uint8), True), 0)]
    for fig in figures:
        for trace in fig.data:
            if trace.hoverinfo != "skip":                                        # the threshold line
                assert ("step" in trace.hovertemplate or "row" in trace.hovertemplate) and "%{" in trace.hovertemplate
