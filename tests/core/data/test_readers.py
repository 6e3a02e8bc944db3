"""Tests of snn_core.data.readers: the real recordings' counts and sizes (checked against independent numpy
parsing where the format allows), small files of every format written here, and every malformed case, which
must be a ValueError starting with the file's path, never a library's own exception."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from expelliarmus import Wizard

from snn_core.data import readers
from snn_core.data.events import EVENT_DTYPE
from snn_core.data.folders import BUNDLED_SAMPLES
from snn_core.data.readers import describe, read_dvs_gesture_npy, read_events, shd_samples

DESCRIBE_KEYS = {"file", "format", "events", "sensor_size", "duration_us", "t_first", "t_last", "polarity_counts",
                 "sorted_on_read"}
EXPELLIARMUS_DTYPE = [("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "u1")]


def bad(path, *words, **kwargs) -> str:
    """Read ``path``; assert a ValueError that starts with the path and contains every word; return its text."""
    with pytest.raises(ValueError) as caught:
        read_events(path, **kwargs)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    for word in words:
        assert word in message, message
    return message


def events(**fields) -> np.ndarray:
    """A structured array with the given fields, in the given order and dtypes."""
    arrays = {name: np.asarray(values) for name, values in fields.items()}
    out = np.empty(len(next(iter(arrays.values()))), dtype=[(name, a.dtype) for name, a in arrays.items()])
    for name, a in arrays.items():
        out[name] = a
    return out


def nmnist_decode(raw: np.ndarray) -> np.ndarray:
    """Independent 5-byte N-MNIST decoding (files without overflow records): x, y, then p bit and 23-bit t."""
    raw = raw.astype(np.int64).reshape(-1, 5)
    assert not np.any(raw[:, 1] == 240), "overflow records: this decoder does not handle them"
    return events(x=raw[:, 0], y=raw[:, 1], t=((raw[:, 2] & 127) << 16) | (raw[:, 3] << 8) | raw[:, 4],
                  p=raw[:, 2] >> 7)


def prophesee_body(path) -> bytes:
    """A Prophesee file's bytes after its '%' header lines."""
    data = path.read_bytes()
    while data.startswith(b"%"):
        data = data[data.index(b"\n") + 1:]
    return data


def write_prophesee(path, encoding: str, header: str, x, y, t, p):
    """A small .raw/.dat written by expelliarmus, its header replaced by ``header`` (lines without '% ')."""
    Wizard(encoding=encoding).save(path, events(t=np.asarray(t, "<i8"), x=np.asarray(x, "<i2"),
                                                y=np.asarray(y, "<i2"), p=np.asarray(p, "u1")))
    body = prophesee_body(path)
    path.write_bytes("".join(f"% {line}\n" for line in header.splitlines()).encode() + body)
    return path


# ------------------------------------------------------------------------------------------------- real files


def test_real_evt2_raw(real_data):
    path = real_data / "dvs_recordings" / "prophesee_gen3_evt2.raw"
    rec = read_events(path)
    assert (len(rec.events), rec.sensor_size, rec.format) == (539_481, (640, 480, 2), "evt2")
    assert rec.events.dtype == EVENT_DTYPE and not rec.sorted_on_read and rec.label is None
    assert set(np.unique(rec.events["p"])) == {0, 1}
    assert rec.events["t"][0] > 0                                   # as stored, not shifted
    assert len(rec.events) <= len(prophesee_body(path)) // 4        # at most one event per 32-bit word
    assert describe(rec)["duration_us"] == 50_000


def test_real_evt3_raw_equals_its_decoded_npy(real_data):
    folder = real_data / "dvs_recordings"
    raw = read_events(folder / "prophesee_gen41_evt3.raw")
    npy = read_events(folder / "prophesee_gen41_evt3_decoded.npy")
    assert (len(raw.events), raw.sensor_size, raw.format) == (219_596, (1280, 720, 2), "evt3")
    assert (len(npy.events), npy.sensor_size, npy.format) == (219_596, (1280, 720, 2), "npy")
    assert np.array_equal(raw.events, npy.events)
    stored = np.load(folder / "prophesee_gen41_evt3_decoded.npy")       # t, x, y, p in their own order and widths
    assert all(np.array_equal(raw.events[name], stored[name]) for name in "xytp")


def test_real_aedat4(real_data):
    rec = read_events(real_data / "dvs_recordings" / "inivation_320x240.aedat4")
    assert (len(rec.events), rec.sensor_size, rec.format) == (111_954, (320, 240, 2), "aedat4")
    assert rec.events["x"].max() < 320 and rec.events["y"].max() < 240
    assert not rec.sorted_on_read and np.all(np.diff(rec.events["t"]) >= 0)


def test_every_nmnist_bin(real_data):
    files = sorted((real_data / "nmnist" / "Train").glob("*/*.bin"))
    assert len(files) == (200 if real_data == BUNDLED_SAMPLES else 1000)      # the bundle: 20 per digit
    widths = set()
    for path in files:
        rec = read_events(path)
        raw = np.fromfile(path, dtype=np.uint8)
        assert len(rec.events) == len(raw) // 5 - np.count_nonzero(raw[1::5] == 240), path
        assert 1_069 <= len(rec.events) <= 7_152, path
        assert rec.events["x"].min() >= 0 and rec.events["x"].max() <= 33 and rec.events["y"].max() <= 33, path
        assert rec.sensor_size[0] <= 34 and rec.sensor_size[1] <= 34 and rec.sensor_size[2] == 2, path
        widths.add(rec.sensor_size[:2])
    assert (34, 34) in widths       # from the data: a few digits never reach column or row 33 (their size is 33)
    first = files[0]
    assert np.array_equal(read_events(first).events, nmnist_decode(np.fromfile(first, np.uint8)).astype(EVENT_DTYPE))


def test_dvs128_clips(real_data):
    files = sorted((real_data / "dvs128_clips_unlabeled").glob("clip_*.bin"))
    assert len(files) == (1 if real_data == BUNDLED_SAMPLES else 10)         # the bundle: clip_01 only
    for path in files:
        rec = read_events(path)
        assert 63_471 <= len(rec.events) <= 181_179 and len(rec.events) == path.stat().st_size // 5, path
        assert rec.events["x"].max() <= 127 and rec.events["y"].max() <= 127 and rec.sensor_size == (128, 128, 2)
    assert np.array_equal(rec.events, nmnist_decode(np.fromfile(path, np.uint8)).astype(EVENT_DTYPE))


def test_describe_is_small_plain_json(real_data):
    info = describe(read_events(real_data / "nmnist" / "Train" / "0" / "00002.bin"))
    assert set(info) == DESCRIBE_KEYS and json.loads(json.dumps(info)) == info
    assert info["file"] == "00002.bin" and info["format"] == "nmnist-bin"
    assert info["polarity_counts"]["off"] + info["polarity_counts"]["on"] == info["events"]
    assert info["duration_us"] == info["t_last"] - info["t_first"]


# ------------------------------------------------------------------------------------------------- small files


def test_npy_any_field_order_and_widths(tmp_path):
    path = tmp_path / "e.npy"
    np.save(path, events(p=np.array([True, False, True]), t=np.array([5, 7, 9], "i4"),
                         y=np.array([0, 2, 1], "i2"), x=np.array([3, 0, 250], "u1")))
    rec = read_events(path)
    assert rec.events.dtype == EVENT_DTYPE and rec.format == "npy" and rec.sensor_size == (251, 3, 2)
    assert rec.events.tolist() == [(3, 0, 5, 1), (0, 2, 7, 0), (250, 1, 9, 1)]
    assert read_events(path, sensor_size=(300, 4)).sensor_size == (300, 4, 2)


def test_npy_polarity_minus_one_is_off(tmp_path):
    path = tmp_path / "e.npy"
    np.save(path, events(x=[0, 1], y=[0, 0], t=[0, 1], p=np.array([-1, 1], "i1")))
    assert read_events(path).events["p"].tolist() == [0, 1]


def test_unsorted_npy_is_sorted_stably_and_flagged(tmp_path):
    path = tmp_path / "e.npy"
    np.save(path, events(x=[0, 1, 2, 3], y=[0, 0, 0, 0], t=[30, 10, 30, 10], p=[1, 1, 0, 0]))
    rec = read_events(path)
    assert rec.sorted_on_read and describe(rec)["sorted_on_read"] is True
    assert rec.events["x"].tolist() == [1, 3, 0, 2]      # stable: equal times keep the file's order
    assert describe(rec)["t_first"] == 10                 # as stored: not shifted to 0


def test_npz_takes_the_first_event_array(tmp_path):
    path = tmp_path / "e.npz"
    np.savez(path, meta=np.arange(3), events=events(t=[1, 2], y=[4, 5], x=[6, 7], p=[0, 1]))
    rec = read_events(path)
    assert rec.format == "npz" and rec.events["x"].tolist() == [6, 7]
    single = tmp_path / "one.npz"
    np.savez(single, events(x=[1], y=[1], t=[1], p=[1]))
    assert len(read_events(single).events) == 1


def test_one_event_has_zero_duration(tmp_path):
    path = tmp_path / "e.npy"
    np.save(path, events(x=[2], y=[3], t=[100], p=[1]))
    info = describe(read_events(path))
    assert (info["duration_us"], info["t_first"], info["polarity_counts"]) == (0, 100, {"off": 0, "on": 1})


def test_dvs_gesture_npy_helper(tmp_path):
    path = tmp_path / "gesture.npy"
    np.save(path, np.array([[1, 2, 0, 0.5], [127, 0, 1, 0.25]]))              # x, y, p, t in ms
    rec = read_dvs_gesture_npy(path)
    assert rec.sensor_size == (128, 128, 2) and rec.sorted_on_read
    assert rec.events.tolist() == [(127, 0, 250, 1), (1, 2, 500, 0)]
    bad(path, "unstructured float64", "(2, 4)", "read_dvs_gesture_npy")       # never guessed by read_events


def test_dat_states_its_size(tmp_path):
    path = write_prophesee(tmp_path / "cars.dat", "dat", "Date 2024-01-01\nVersion 2\nWidth 304\nHeight 240",
                           x=[1, 2, 303], y=[0, 239, 5], t=[10, 20, 30], p=[0, 1, 1])
    rec = read_events(path)
    assert (rec.format, rec.sensor_size, rec.events["x"].tolist()) == ("dat", (304, 240, 2), [1, 2, 303])


def test_raw_header_geometry_and_format_lines(tmp_path):
    xs, ys, ts, ps = [0, 5, 99], [0, 50, 9], [100, 200, 300], [1, 0, 1]
    evt3 = write_prophesee(tmp_path / "a.raw", "evt3", "evt 3.0\nformat EVT3;height=60;width=100", xs, ys, ts, ps)
    rec = read_events(evt3)
    assert (rec.format, rec.sensor_size, rec.events["t"].tolist()) == ("evt3", (100, 60, 2), ts)
    evt2 = write_prophesee(tmp_path / "b.raw", "evt2", "evt 2.0\ngeometry 120x70", xs, ys, ts, ps)
    assert read_events(evt2).sensor_size == (120, 70, 2)
    plain = write_prophesee(tmp_path / "c.raw", "evt2", "evt 2.0", xs, ys, ts, ps)
    assert read_events(plain).sensor_size == (100, 51, 2)                    # no size stated: the data's extent


def write_shd(path, times, units, labels, keys: bool = True):
    with h5py.File(path, "w") as handle:
        spikes = handle.create_group("spikes")
        for name, rows, dtype in (("times", times, np.float32), ("units", units, np.uint16)):
            data = spikes.create_dataset(name, (len(rows),), dtype=h5py.vlen_dtype(dtype))
            for i, row in enumerate(rows):
                data[i] = np.asarray(row, dtype)
        handle["labels"] = np.asarray(labels, np.uint8)
        if keys:
            handle.create_group("extra")["keys"] = np.array([b"zero", b"one", b"two"])
    return path


@pytest.fixture
def shd(tmp_path):
    times = [[0.001, 0.0005, 0.25], [0.0, 1.2], [0.5]]
    return write_shd(tmp_path / "shd.h5", times, [[3, 699, 0], [10, 10], [42]], [7, 0, 19])


def test_shd_samples_and_labels(shd):
    rec = read_events(shd, sample=0)
    assert (rec.format, rec.sensor_size, rec.label, rec.samples) == ("shd-h5", (700, 1, 1), 7, 3)
    assert rec.events.tolist() == [(699, 0, 500, 0), (3, 0, 1000, 0), (0, 0, 250_000, 0)]
    assert not rec.sorted_on_read               # each sample is put in time order as it is read
    assert read_events(shd, sample=2).label == 19
    info = describe(read_events(shd, sample=1))
    assert set(info) == DESCRIBE_KEYS | {"samples", "label"}
    assert (info["samples"], info["label"], info["polarity_counts"], info["t_last"]) == (3, 0, {"off": 2, "on": 0},
                                                                                      1_200_000)
    samples, labels = shd_samples(shd)
    assert labels.dtype == np.int64 and labels.tolist() == [7, 0, 19]
    assert [s.dtype for s in samples] == [EVENT_DTYPE] * 3
    assert np.array_equal(samples[0], rec.events)
    assert samples[2].tolist() == [(42, 0, 500_000, 0)]
    bad(shd, "sample 3 is out of range", "3 samples", sample=3)
    bad(shd, "sample -1 is out of range", sample=-1)


def test_shd_without_its_keys_or_not_hdf5(tmp_path):
    path = tmp_path / "other.hdf5"
    with h5py.File(path, "w") as handle:
        handle["labels"] = np.arange(3)
    bad(path, "spikes/times", "spikes/units", "expected the SHD layout")
    with pytest.raises(ValueError, match="expected the SHD layout"):
        shd_samples(path)
    text = tmp_path / "text.h5"
    text.write_text("not hdf5 at all\n")
    bad(text, "h5py could not open it")
    units = write_shd(tmp_path / "units.h5", [[0.1]], [[700]], [1], keys=False)
    bad(units, "units 700..700", "0..699")


# ------------------------------------------------------------------------------------------------- bad files


def test_missing_file_unknown_suffix_empty_file(tmp_path):
    bad(tmp_path / "none.bin", "no such file", ".aedat4")
    odd = tmp_path / "events.txt"
    odd.write_text("1 2 3 4\n")
    message = bad(odd, "unknown suffix '.txt'")
    assert all(suffix in message for suffix in readers.SUFFIXES)
    assert set(readers.SUFFIXES) == {".bin", ".raw", ".dat", ".aedat4", ".npy", ".npz", ".h5", ".hdf5"}
    for suffix in readers.SUFFIXES:
        empty = tmp_path / f"empty{suffix}"
        empty.write_bytes(b"")
        bad(empty, "is empty")


def test_bad_bin(tmp_path, real_data):
    source = (real_data / "nmnist" / "Train" / "0" / "00002.bin").read_bytes()
    truncated = tmp_path / "cut.bin"
    truncated.write_bytes(source[:-2])
    bad(truncated, "truncated", "not a multiple of 5")
    overflow_only = tmp_path / "overflow.bin"
    overflow_only.write_bytes(bytes([0, 240, 0, 0, 0]) * 3)
    bad(overflow_only, "no events")
    real = real_data / "nmnist" / "Train" / "0" / "00002.bin"
    bad(real, "outside the 20x20 sensor given", "x max 33", sensor_size=(20, 20))
    bad(real, "holds one recording", sample=1)


def test_bad_raw(tmp_path, real_data, capfd):
    source = (real_data / "dvs_recordings" / "prophesee_gen3_evt2.raw").read_bytes()
    body = prophesee_body(real_data / "dvs_recordings" / "prophesee_gen3_evt2.raw")
    header = source[:len(source) - len(body)]
    cases = {
        "no_header": (body[:4000], "has no '%' header"),
        "zero_header": (bytes(len(header)) + body[:4000], "has no '%' header"),
        "header_only": (header, "has a header but no events"),
        "no_evt_line": (b"% Date 2020\n" + body[:4000], "no '% evt' or '% format' line"),
        "evt21": (header.replace(b"evt 2.0", b"evt 2.1") + body[:4000], "states 'evt 2.1'"),
        "mid_word": (header + body[:4001], "truncated", "4-byte EVT2 words"),
        "wrong_encoding": (header.replace(b"evt 2.0", b"evt 3.0") + body[:4000], "expelliarmus could not decode"),
        "garbage": (header + bytes(range(256)) * 16, "expelliarmus could not decode", "expected a valid"),
        "broken_line": (b"% evt 2.0", "broken header"),
        "too_small": (header.replace(b"evt 2.0", b"geometry 64x48\n% evt 2.0") + body[:4000], "outside the 64x48 "
                      "sensor stated in the file"),
    }
    for name, (data, *words) in cases.items():
        path = tmp_path / f"{name}.raw"
        path.write_bytes(data)
        bad(path, *words)
    assert capfd.readouterr().err == ""           # expelliarmus' own stderr lines are in the messages instead


def test_bad_dat(tmp_path):
    path = write_prophesee(tmp_path / "a.dat", "dat", "Width 10\nHeight 10", x=[1, 2], y=[1, 2], t=[1, 2], p=[0, 1])
    cut = tmp_path / "cut.dat"
    cut.write_bytes(path.read_bytes()[:-3])
    bad(cut, "truncated", "8-byte DAT words")
    upper = tmp_path / "A.DAT"
    upper.write_bytes(path.read_bytes())
    bad(upper, "lower-case '.dat'")


def test_bad_aedat4(tmp_path, real_data):
    text = tmp_path / "text.aedat4"
    text.write_text("hello\n" * 20)
    bad(text, "could not be decoded as AEDAT4", "wrong magic number")
    cut = tmp_path / "cut.aedat4"
    cut.write_bytes((real_data / "dvs_recordings" / "inivation_320x240.aedat4").read_bytes()[:100_000])
    bad(cut, "could not be decoded as AEDAT4")


def test_bad_numpy(tmp_path):
    cases = {
        "fields.npy": (events(a=[1], b=[2]), "fields a, b", "expected a 1-D structured array with fields x, y, t, p"),
        "plain.npy": (np.zeros((3, 4)), "unstructured float64"),
        "negative.npy": (events(x=[-1, 2], y=[0, 0], t=[0, 1], p=[0, 1]), "negative coordinates", "x min -1"),
        "polarity.npy": (events(x=[0, 1], y=[0, 0], t=[0, 1], p=[0, 2]), "polarity values [0, 2]"),
        "float_t.npy": (events(x=[0], y=[0], t=[0.5], p=[0]), "field 't'", "expected integers"),
        "none.npy": (events(x=np.array([], int), y=[], t=[], p=[]), "holds no events"),
    }
    for name, (array, *words) in cases.items():
        np.save(tmp_path / name, array)
        bad(tmp_path / name, *words)
    np.savez(tmp_path / "two.npz", a=np.arange(2), b=np.ones(2))
    bad(tmp_path / "two.npz", "no array with fields x, y, t, p", "a: an unstructured int64")
    np.save(tmp_path / "objects.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    bad(tmp_path / "objects.npy", "numpy could not load it")
    (tmp_path / "text.npy").write_text("x,y,t,p\n1,2,3,4\n")
    bad(tmp_path / "text.npy", "numpy could not load it")
    (tmp_path / "text.npz").write_bytes(b"PK\x03\x04 broken zip")
    bad(tmp_path / "text.npz", "numpy could not load it")


def test_sensor_size_argument_is_checked(tmp_path):
    path = tmp_path / "e.npy"
    np.save(path, events(x=[0], y=[0], t=[0], p=[0]))
    for size in ((0, 5), (5,), (1.5, 2), "34,34"):
        with pytest.raises(ValueError, match="sensor_size must be"):
            read_events(path, sensor_size=size)
