"""Tests of the procedural event camera in snn_core.data.events."""
import numpy as np
import pytest

from snn_core.data import events as ev

W, H, P = ev.SENSOR_SIZE
D = ev.DURATION_US


@pytest.fixture(scope="module")
def clean():
    """40 noise-free samples (every shape x direction pair appears)."""
    return ev.generate_event_samples(40, 0.0, seed=3)


@pytest.fixture(scope="module")
def noisy():
    """The same 40 samples with heavy noise."""
    return ev.generate_event_samples(40, 1.0, seed=3)


def _same_events(a: ev.EventSamples, b: ev.EventSamples) -> bool:
    return (len(a.events) == len(b.events)
            and all(np.array_equal(x, y) for x, y in zip(a.events, b.events))
            and np.array_equal(a.shape_labels, b.shape_labels)
            and np.array_equal(a.direction_labels, b.direction_labels))


def _make(rows) -> np.ndarray:
    """Events from (x, y, t, p) rows."""
    return np.array([tuple(r) for r in rows], dtype=ev.EVENT_DTYPE)


def _progress(events: np.ndarray, direction: str) -> float:
    """How far the ON+OFF centroid moves along `direction` from the first to the last quarter of the window."""
    ux, uy = {"right": (1, 0), "left": (-1, 0), "up": (0, -1), "down": (0, 1)}[direction]
    pos = ux * events["x"] + uy * events["y"]
    return pos[events["t"] >= 3 * D // 4].mean() - pos[events["t"] < D // 4].mean()


# --- determinism and labels ------------------------------------------------------------------


def test_same_arguments_give_identical_samples_and_frames(clean):
    again = ev.generate_event_samples(40, 0.0, seed=3)
    assert _same_events(clean, again)
    for a, b in zip(clean.events[:5], again.events[:5]):
        np.testing.assert_array_equal(ev.events_to_frames(a, 8), ev.events_to_frames(b, 8))


def test_different_seed_gives_different_samples(clean):
    other = ev.generate_event_samples(40, 0.0, seed=4)
    assert not _same_events(clean, other)
    assert sum(np.array_equal(a, b) for a, b in zip(clean.events, other.events)) == 0


def test_generation_leaves_global_numpy_rng_alone():
    np.random.seed(123)
    before = np.random.get_state()
    ev.generate_event_samples(3, 0.5, seed=1)
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]


def test_sample_i_does_not_depend_on_n_samples_or_start():
    small, big = ev.generate_event_samples(7, 0.3, 5), ev.generate_event_samples(23, 0.3, 5)
    for a, b in zip(small.events, big.events[:7]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(small.shape_labels, big.shape_labels[:7])
    np.testing.assert_array_equal(small.direction_labels, big.direction_labels[:7])
    window = ev.generate_event_samples(9, 0.3, 5, start=11)
    for a, b in zip(window.events, big.events[11:20]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(window.direction_labels, big.direction_labels[11:20])


@pytest.mark.parametrize("n", [1, 7, 23, 103])
def test_labels_are_balanced_within_one(n):
    samples = ev.generate_event_samples(n, 0.0, seed=9)
    for labels, k in ((samples.shape_labels, len(ev.SHAPES)), (samples.direction_labels, len(ev.DIRECTIONS))):
        assert labels.dtype == np.int64 and labels.shape == (n,)
        counts = np.bincount(labels, minlength=k)
        assert len(counts) == k
        assert np.all(np.abs(counts - n / k) <= 1), counts


def test_shape_and_direction_labels_are_not_locked_together(clean):
    pairs = set(zip(clean.shape_labels.tolist(), clean.direction_labels.tolist()))
    assert len(pairs) >= 12  # 20 possible pairs, 40 samples


# --- event stream properties -----------------------------------------------------------------


def test_events_are_sorted_on_sensor_and_in_window(clean, noisy):
    for events in clean.events + noisy.events:
        assert events.dtype == ev.EVENT_DTYPE
        assert len(events) > 0
        assert np.all(np.diff(events["t"]) >= 0)
        assert events["t"].min() >= 0 and events["t"].max() < D
        assert events["x"].min() >= 0 and events["x"].max() < W
        assert events["y"].min() >= 0 and events["y"].max() < H
        assert set(np.unique(events["p"]).tolist()) <= {0, 1}


def test_noise_adds_events_on_top_of_the_same_signal(clean, noisy):
    for a, b in zip(clean.events, noisy.events):
        assert len(b) > len(a)
        merged = np.concatenate([a, b])
        # every clean event reappears in the noisy sample (noise uses its own random stream)
        unique_b = np.unique(b, return_counts=True)
        unique_m = np.unique(merged, return_counts=True)
        assert len(unique_m[0]) == len(unique_b[0])
        assert np.all(unique_m[1] >= unique_b[1])
    expected = 1.0 * W * H
    extra = np.mean([len(b) - len(a) for a, b in zip(clean.events, noisy.events)])
    assert 0.8 * expected < extra < 1.5 * expected + ev.N_HOT_PIXELS * ev.HOT_PIXEL_GAIN


def test_without_noise_events_stay_inside_the_swept_box(clean, noisy):
    """The shape moves along one axis: across it the events span at most 2 r_max + 1 pixels, along
    it at most 2 r_max + travel_max + 1. Uniform noise breaks this (checked on the noisy twin)."""
    r_max, travel_max = ev.HALF_SIZE_RANGE_PX[1], ev.TRAVEL_RANGE_PX[1]
    broken = 0
    for samples in (clean, noisy):
        for events, d in zip(samples.events, samples.direction_labels):
            along, across = ("x", "y") if ev.DIRECTIONS[d] in ("right", "left") else ("y", "x")
            span_along = np.ptp(events[along]) + 1
            span_across = np.ptp(events[across]) + 1
            ok = span_across <= 2 * r_max + 1 and span_along <= 2 * r_max + travel_max + 1
            if samples is clean:
                assert ok, (ev.DIRECTIONS[d], span_along, span_across)
            else:
                broken += not ok
    assert broken == len(noisy.events)


def test_hot_pixels_fire_most_with_noise():
    samples = ev.generate_event_samples(10, 0.5, seed=2)
    counts = np.zeros((H, W), dtype=np.int64)
    for events in samples.events:
        np.add.at(counts, (events["y"], events["x"]), 1)
    hot = ev.hot_pixel_positions(2)
    assert hot.shape == (ev.N_HOT_PIXELS, 2) and len({tuple(h) for h in hot.tolist()}) == ev.N_HOT_PIXELS
    top = {(int(i % W), int(i // W)) for i in np.argsort(counts.ravel())[-ev.N_HOT_PIXELS:]}
    assert top == {tuple(h) for h in hot.tolist()}
    assert not np.array_equal(hot, ev.hot_pixel_positions(3))


def test_polarity_follows_the_moving_edge(clean):
    """At each pixel the signal toggles ON/OFF. The pixels farthest ahead start uncovered, so their
    first event is ON; the pixels farthest behind end uncovered, so their last event is OFF."""
    for events, d in zip(clean.events, clean.direction_labels):
        ux, uy = {"right": (1, 0), "left": (-1, 0), "up": (0, -1), "down": (0, 1)}[ev.DIRECTIONS[d]]
        pixel = events["y"] * W + events["x"]
        order = np.lexsort((events["t"], pixel))  # events grouped by pixel, in time order
        p, pos = events["p"][order], (ux * events["x"] + uy * events["y"])[order]
        new_pixel = np.r_[True, pixel[order][1:] != pixel[order][:-1]]
        last_of_pixel = np.r_[new_pixel[1:], True]
        assert np.all(p[1:][~new_pixel[1:]] != p[:-1][~new_pixel[1:]])
        assert np.all(p[new_pixel & (pos == pos.max())] == 1)
        assert np.all(p[last_of_pixel & (pos == pos.min())] == 0)


# --- time reversal ---------------------------------------------------------------------------


def test_reverse_twice_is_identity_and_keeps_pixels(noisy):
    for events in noisy.events[:10]:
        back = ev.reverse_events(events)
        assert back.dtype == ev.EVENT_DTYPE and np.all(np.diff(back["t"]) >= 0)
        assert not np.array_equal(back, events)
        np.testing.assert_array_equal(ev.reverse_events(back), events)
        np.testing.assert_array_equal(np.sort(back["t"]), np.sort(D - 1 - events["t"]))
        assert (back["p"] == 1).sum() == (events["p"] == 0).sum()
        # the shape label is reversal-invariant: the same pixels are covered, the same number of times
        key = lambda e: np.sort(e["y"] * W + e["x"])  # noqa: E731
        np.testing.assert_array_equal(key(back), key(events))


@pytest.mark.parametrize("time_steps", [8, 7, 64])
def test_frames_of_reversed_events_are_flipped_frames(noisy, time_steps):
    for events in noisy.events[:8]:
        frames = ev.events_to_frames(events, time_steps)
        reversed_frames = ev.events_to_frames(ev.reverse_events(events), time_steps)
        np.testing.assert_array_equal(reversed_frames, frames[::-1, ::-1])


@pytest.mark.parametrize("time_steps", [3, 7, 13, 64, 256])
def test_binning_is_mirror_symmetric_for_every_tick(time_steps):
    """One event at every microsecond: reversal flips the frames exactly even when T does not divide
    DURATION_US, and each frame holds DURATION_US / T ticks (+-1)."""
    t = np.arange(D)
    every_tick = _make(np.stack([t % W, (t // W) % H, t, t % 2], axis=1))
    frames = ev.events_to_frames(every_tick, time_steps)
    np.testing.assert_array_equal(ev.events_to_frames(ev.reverse_events(every_tick), time_steps), frames[::-1, ::-1])
    per_frame = frames.sum(axis=(1, 2, 3))
    assert per_frame.sum() == D and np.all(np.abs(per_frame - D / time_steps) <= 1)


def test_centroid_moves_with_direction_and_against_it_when_reversed(clean):
    for events, d in zip(clean.events, clean.direction_labels):
        direction, opposite = ev.DIRECTIONS[d], ev.DIRECTIONS[ev.REVERSED_DIRECTION[d]]
        assert _progress(events, direction) > 2.0
        back = ev.reverse_events(events)
        assert _progress(back, direction) < -2.0
        assert _progress(back, opposite) > 2.0


def test_reversed_direction_mapping():
    names = [ev.DIRECTIONS[i] for i in ev.REVERSED_DIRECTION]
    assert names == ["left", "right", "down", "up"]
    assert all(ev.REVERSED_DIRECTION[ev.REVERSED_DIRECTION[i]] == i for i in range(len(ev.DIRECTIONS)))


# --- framing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("time_steps", [1, 3, 7, 8, 64])
def test_frames_cover_the_full_window(time_steps):
    events = _make([(1, 2, 0, 1), (3, 4, D // 2, 0), (5, 6, D - 1, 0)])
    frames = ev.events_to_frames(events, time_steps)
    assert frames.shape == (time_steps, P, H, W) and frames.dtype == np.float32
    assert frames.sum() == 3
    assert frames[0, 1, 2, 1] >= 1  # t=0 -> frame 0; ON channel 1; indexed [y, x]
    assert frames[time_steps - 1, 0, 6, 5] >= 1  # t=D-1 -> last frame


def test_frame_k_is_always_the_same_time_slice():
    """A lone event at the start of slice k lands in frame k (tonic's n_time_bins would put it in frame 0)."""
    for k in range(8):
        frames = ev.events_to_frames(_make([(0, 0, k * D // 8, 1)]), 8)
        assert frames[k, 1, 0, 0] == 1 and frames.sum() == 1
        frames = ev.events_to_frames(_make([(0, 0, (k + 1) * D // 8 - 1, 0)]), 8)
        assert frames[k, 0, 0, 0] == 1 and frames.sum() == 1
    assert ev.events_to_frames(_make([]), 5).shape == (5, P, H, W)


def test_frames_count_every_event(noisy):
    for events in noisy.events[:5]:
        frames = ev.events_to_frames(events, 8)
        assert frames.min() >= 0 and frames.sum() == len(events)
        for p in (0, 1):
            np.testing.assert_array_equal(
                frames[:, p].sum(axis=0),
                np.bincount(events["y"][events["p"] == p] * W + events["x"][events["p"] == p],
                            minlength=W * H).reshape(H, W))


# --- load_event_arrays -----------------------------------------------------------------------


def test_load_event_arrays_shapes_labels_and_cache():
    a = ev.load_event_arrays("shape", 8, 30, 12, 0.2, 4)
    assert a.train_x.shape == (30, 8, P, H, W) and a.test_x.shape == (12, 8, P, H, W)
    assert a.train_x.dtype == np.uint8 and a.test_x.dtype == np.uint8      # event counts per bin
    assert a.train_y.dtype == np.int64 and a.train_y.shape == (30,) and a.test_y.shape == (12,)
    assert a.class_names == ev.SHAPES
    assert a.train_x.min() >= 0 and a.train_x.sum() > 0
    assert not a.train_x.flags.writeable and not a.train_y.flags.writeable
    with pytest.raises(ValueError):
        a.train_x[0, 0, 0, 0, 0] = 1.0
    assert np.all(np.abs(np.bincount(a.train_y, minlength=5) - 30 / 5) <= 1)
    d = ev.load_event_arrays("direction", 8, 30, 12, 0.2, 4)
    assert d.class_names == ev.DIRECTIONS and np.shares_memory(d.train_x, a.train_x)  # cached, shared
    assert not np.array_equal(d.train_y, a.train_y)
    # train = samples [0, 30), test = samples [30, 42) of the same generator
    samples = ev.generate_event_samples(42, 0.2, 4)
    np.testing.assert_array_equal(a.test_y, samples.shape_labels[30:])
    np.testing.assert_array_equal(d.test_y, samples.direction_labels[30:])
    np.testing.assert_array_equal(a.test_x[3], ev.events_to_frames(samples.events[33], 8))
    np.testing.assert_array_equal(a.train_x[29], ev.events_to_frames(samples.events[29], 8))


# --- argument validation ---------------------------------------------------------------------


@pytest.mark.parametrize("call, name", [
    (lambda: ev.generate_event_samples(0, 0.1, 0), "n_samples"),
    (lambda: ev.generate_event_samples(2.5, 0.1, 0), "n_samples"),
    (lambda: ev.generate_event_samples(5, -0.1, 0), "noise_level"),
    (lambda: ev.generate_event_samples(5, float("nan"), 0), "noise_level"),
    (lambda: ev.generate_event_samples(5, 0.1, -1), "seed"),
    (lambda: ev.generate_event_samples(5, 0.1, 0, start=-2), "start"),
    (lambda: ev.load_event_arrays("colour", 8, 10, 10, 0.1, 0), "label"),
    (lambda: ev.load_event_arrays("shape", 0, 10, 10, 0.1, 0), "time_steps"),
    (lambda: ev.load_event_arrays("shape", 8, 0, 10, 0.1, 0), "train_samples"),
    (lambda: ev.load_event_arrays("shape", 8, 10, True, 0.1, 0), "test_samples"),
    (lambda: ev.load_event_arrays("shape", 8, 10, 10, 99.0, 0), "noise_level"),
    (lambda: ev.load_event_arrays("shape", 8, 10, 10, 0.1, "0"), "seed"),
    (lambda: ev.events_to_frames(_make([(0, 0, 5, 1)]), 0), "time_steps"),
    (lambda: ev.events_to_frames(_make([(0, 0, D, 1)]), 8), "events['t']"),
    (lambda: ev.events_to_frames(_make([(0, 0, 9, 1), (0, 0, 5, 1)]), 8), "events['t']"),
    (lambda: ev.events_to_frames(_make([(W, 0, 5, 1)]), 8), "events x, y"),
    (lambda: ev.events_to_frames(_make([(0, 0, 5, 2)]), 8), "events['p']"),
    (lambda: ev.events_to_frames(np.zeros((3, 4)), 8), "events"),
    (lambda: ev.reverse_events(_make([(0, 0, 5, 1)]), duration_us=0), "duration_us"),
    (lambda: ev.reverse_events(_make([(0, 0, 5, 1)]), duration_us=5), "events['t']"),
])
def test_bad_arguments_raise_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError) as info:
        call()
    assert name in str(info.value)
