"""Size known before decoding: tiny hostile files (tests/hostile_files.py) are refused in one line naming the file
and SNN_MAX_FILE_DECODE_MB, and nothing near what they state is allocated (tracemalloc sees numpy's memory)."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import hostile_files
from snn_core.data.events import EVENT_DTYPE
from snn_core.data.folders import event_folder_files
from snn_core.data.framing import FrameSpec, frame_events
from snn_core.data.readers import SUFFIXES, decode_limit_mb, read_events

MB = 2**20


def refused(path, *words, peak_mb: float = 64) -> str:
    """read_events(path) raises a one-line ValueError starting with the path; at most ``peak_mb`` allocated."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as caught:
            read_events(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message, message
    assert all(word in message for word in words), message
    assert peak < peak_mb * MB, f"{peak / MB:.0f} MB allocated: {message}"
    return message


def test_the_limit_is_a_setting_read_at_call_time(monkeypatch):
    monkeypatch.delenv("SNN_MAX_FILE_DECODE_MB", raising=False)
    assert decode_limit_mb() == 2048
    monkeypatch.setenv("SNN_MAX_FILE_DECODE_MB", "3.5")
    assert decode_limit_mb() == 3.5
    for bad in ("0", "-1", "lots", "inf"):
        monkeypatch.setenv("SNN_MAX_FILE_DECODE_MB", bad)
        with pytest.raises(ValueError, match="SNN_MAX_FILE_DECODE_MB"):
            decode_limit_mb()


def test_a_dat_stating_a_huge_sensor_is_refused_and_its_frames_never_built(tmp_path, monkeypatch):
    path = hostile_files.dat_huge_width(tmp_path)
    assert path.stat().st_size < 50
    monkeypatch.setenv("SNN_MAX_FILE_DECODE_MB", "1024")
    refused(path, "600000000x1 sensor stated in the file", "SNN_MAX_FILE_DECODE_MB", "1,024 MB")
    monkeypatch.delenv("SNN_MAX_FILE_DECODE_MB")
    rec = read_events(path)                                    # 1.1 GB for one frame: under the default 2,048 MB
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"frames of 8x2x1x600000000 .*SNN_MAX_FILE_DECODE_MB"):
            frame_events(rec.events, rec.sensor_size, FrameSpec(8))
        assert tracemalloc.get_traced_memory()[1] < 64 * MB
    finally:
        tracemalloc.stop()
    assert frame_events(rec.events, rec.sensor_size, FrameSpec(8, frame_size=64)).shape == (8, 2, 1, 64)


def test_an_npz_whose_header_declares_3_gb_is_refused_unread(tmp_path):
    refused(hostile_files.npz_huge_shape(tmp_path), "shape (3000000000,)", "SNN_MAX_FILE_DECODE_MB")


def test_an_array_declaring_more_than_it_holds_is_refused_before_numpy_allocates_it(tmp_path):
    """Under the decode limit (800 MB of 2048) a 1 KB file could still make numpy allocate what it declares."""
    refused(hostile_files.npz_huge_shape(tmp_path, shape=(100_000, 8_000)), "declares a uint8 array of shape "
            "(100000, 8000)", "but holds 0.0 MB of data; allowed: a complete .npy array")
    path = tmp_path / "short.npy"
    with open(path, "wb") as out:
        np.lib.format.write_array_header_1_0(out, {"descr": "|u1", "fortran_order": False, "shape": (100_000, 8_000)})
        out.write(bytes(16))
    refused(path, "the array declares a uint8 array of shape (100000, 8000)")


def test_an_npy_header_and_a_bin_are_sized_before_decoding(tmp_path, monkeypatch):
    monkeypatch.setenv("SNN_MAX_FILE_DECODE_MB", "1")
    path = tmp_path / "big.npy"
    np.save(path, np.zeros(40_000, EVENT_DTYPE))                # 40,000 events: 1.2 MB + 1.2 MB as EVENT_DTYPE
    refused(path, "array of shape (40000,)", "at most 1 MB per file")
    binary = tmp_path / "big.bin"
    binary.write_bytes(bytes(5 * 40_000))
    refused(binary, "40,000 5-byte N-MNIST records")


def test_a_raw_of_endless_header_lines_is_refused_at_the_bound(tmp_path):
    refused(hostile_files.raw_many_header_lines(tmp_path), "'%' header longer than 1,000 lines")


@pytest.mark.parametrize("build", [hostile_files.aedat4_odd_header, hostile_files.aedat4_huge_packet])
def test_odd_aedat4_files_are_one_line_refusals_not_crashes(tmp_path, build):
    refused(build(tmp_path), "could not be decoded as AEDAT4")


def test_an_aedat4_is_refused_past_the_limit_while_it_decodes(real_data, monkeypatch):
    monkeypatch.setenv("SNN_MAX_FILE_DECODE_MB", "1")           # 111,954 events: 3.4 MB as EVENT_DTYPE
    refused(real_data / "dvs_recordings" / "inivation_320x240.aedat4", "counted while decoding", "1 MB")


def test_labels_csv_short_rows_and_long_fields_are_one_line_errors(tmp_path):
    for build, words in ((hostile_files.labels_csv_short_row, "line 2 has fewer values"),
                         (hostile_files.labels_csv_long_field, "cannot be read")):
        folder = build(tmp_path / build.__name__)
        with pytest.raises(ValueError) as caught:
            event_folder_files(folder, SUFFIXES)
        message = str(caught.value)
        assert message.startswith(str(folder / "labels.csv")) and words in message and "\n" not in message
        assert "4,096 characters" in message


def test_a_wrong_folder_is_not_listed_in_full(tmp_path):
    for i in range(30):
        (tmp_path / "train" / f"class{i:02d}").mkdir(parents=True)
        (tmp_path / "test" / f"other{i:02d}").mkdir(parents=True)
    (tmp_path / "train" / "class00" / "a.npy").write_bytes(b"x")
    with pytest.raises(ValueError) as caught:
        event_folder_files(tmp_path, SUFFIXES)
    message = str(caught.value)
    assert "other29" not in message and "class29" not in message and len(message) < 1000, message
