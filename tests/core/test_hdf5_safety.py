"""Every HDF5 file is checked whole before its data is read (``snn_core.hdf5_safety``): nothing outside the file
(external storage, virtual datasets, external or soft links), only the allowed dtypes, decoded sizes within the
limit. Here through the module itself and the SHD reader; NIR in tests/core/interop/test_nir_hdf5_safety.py."""
import re
import resource
import tracemalloc

import h5py
import numpy as np
import pytest

import hostile_hdf5 as hostile
from snn_core.data.readers import read_events, shd_samples
from snn_core.hdf5_safety import FILE_DECODE, HDF5Refusal, Limit, check, open_checked

NIR_LIKE = {"strings": ("version", "node/type", "node/*/type", "node/edges", "node/*/edges", "node/*/metadata/*")}
SMALL = Limit("SNN_TEST_HDF5_LIMIT_MB", 4)             # below the 16 MB chunk of "big-chunk"


@pytest.fixture
def canaries(tmp_path):
    return hostile.write_canaries(tmp_path)


def refusal(source, **rules) -> str:
    with pytest.raises(HDF5Refusal) as caught:
        with open_checked(source, what="file.h5", **rules):
            pass
    message = str(caught.value)
    assert "\n" not in message and message.startswith("file.h5: ") and not hostile.leaked(message.encode())
    return message


def test_the_legitimate_files_pass_and_their_size_is_counted(tmp_path):
    with open_checked(hostile.legit_nir(tmp_path / "g.nir").read_bytes(), what="g", **NIR_LIKE) as handle:
        assert handle["node/nodes/fc1.synapse/weight"].shape == (16, 64)
    shd = hostile.legit_shd(tmp_path / "s.h5")
    with h5py.File(shd, "r") as handle:
        size = check(handle, what="s", strings=("extra/*",), sequences=("spikes/*",))
    assert 3 * 1 + 3 * 5 <= size < 10_000        # labels, keys, 2 x 3 vlen elements and their 12 values


@pytest.mark.parametrize(("feature", "message"), [
    ("external", r"keeps its data in another file \('.*canary.bin', HDF5 external storage\); allowed: data stored "
                 "inside the file"),
    ("virtual", r"is a virtual dataset \(data mapped from '.*canary.h5'\); allowed: data stored inside the file"),
    ("external-link", r"is an external link to '.*canary.h5':'/secret'; allowed: hard links inside the file only"),
    ("soft-link", r"is a soft link to '/stash\d+'; allowed: hard links inside the file only"),
    ("hard-link", r"is reached by 2 hard links; allowed: each object under one name"),
    ("huge", r"declares 1,000,000,000 elements of 8 bytes: 7,629.4 MB decoded; the limit is 4 MB "
             r"\(SNN_TEST_HDF5_LIMIT_MB\)"),
    ("big-chunk", r"has chunks of 16.0 MB decoded \(each read whole\); the limit is 4 MB"),
    ("complex", r"holds type complex64; allowed: real numbers \(bool, integers, floats of up to 8 bytes\); strings "
                "at version"),
    ("compound", "holds a compound type; allowed: real numbers"),
    ("bytes", "holds strings; allowed: real numbers"),
    ("opaque", r"holds type \|V4; allowed: real numbers"),
    ("reference", "holds a reference; allowed: real numbers"),
    ("array", "holds an array type; allowed: real numbers"),
    ("vlen", "holds variable-length sequences of float32; allowed: real numbers"),
])
def test_each_hostile_feature_is_refused_in_one_line_naming_the_dataset_and_the_rule(tmp_path, canaries, feature,
                                                                                   message):
    path = hostile.replace(hostile.legit_nir(tmp_path / "g.nir"), hostile.WEIGHT, feature, canaries)
    found = refusal(path.read_bytes(), limit=SMALL, **NIR_LIKE)
    assert f"'/{hostile.WEIGHT}'" in found or (feature == "hard-link" and "'/alias" in found)
    assert re.search(message, found), found


def test_a_tiny_file_declaring_a_billion_elements_is_refused_before_anything_is_allocated(tmp_path):
    path = hostile.shd_huge_declared(tmp_path / "huge.h5")
    assert path.stat().st_size < 10_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss          # KB on Linux: the peak so far
    tracemalloc.start()
    try:
        for read in (lambda: read_events(path), lambda: shd_samples(path)):
            with pytest.raises(ValueError, match=r"huge.h5: '/spikes/(times|units)' declares 1,000,000,000 "
                                                 r"elements of 128 bytes: 122,070.3 MB decoded; the limit is 2,048 "
                                                 r"MB \(SNN_MAX_FILE_DECODE_MB\)"):
                read()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert peak < 5 * 2**20 and grown_mb < 100, (peak, grown_mb)


@pytest.mark.parametrize("name", ["external storage", "virtual dataset", "external link"])
def test_an_shd_file_pointing_at_another_file_is_refused_by_both_readers(tmp_path, canaries, name):
    path = hostile.NAMED["shd"][name](tmp_path / "rec.h5", canaries)
    for read in (lambda: read_events(path), lambda: shd_samples(path)):
        with pytest.raises(ValueError, match="allowed: (data stored inside the file|hard links inside the file)") \
                as caught:
            read()
        assert str(caught.value).startswith(f"{path}: '/spikes/units' ") and "\n" not in str(caught.value)
    assert read_events(hostile.legit_shd(tmp_path / "ok.h5", fixed=True), sample=1).events["x"].tolist() == \
        list(range(16, 32))                                            # the same layout, its data inside: read


def test_variable_length_data_is_measured_before_the_whole_file_is_read(tmp_path, monkeypatch):
    path = tmp_path / "long.h5"
    with h5py.File(path, "w") as handle:
        for name, dtype in (("times", np.float64), ("units", np.uint16)):
            data = handle.create_dataset(f"spikes/{name}", (3,), dtype=h5py.vlen_dtype(dtype))
            for i in range(3):
                data[i] = np.arange(100_000, dtype=dtype) % 700 / (1e6 if name == "times" else 1)
        handle["labels"] = np.zeros(3, np.uint8)
    monkeypatch.setenv("SNN_MAX_FILE_DECODE_MB", "1")        # 3 x 100,000 float64 = 2.3 MB of spike times
    with pytest.raises(ValueError, match=r"'/spikes/times' brings the file's decoded size to 1.\d MB; the limit "
                                         r"is 1 MB \(SNN_MAX_FILE_DECODE_MB\)"):
        shd_samples(path)
    assert len(read_events(path, sample=2).events) == 100_000    # one sample: at most the file's size, read
    monkeypatch.setenv("SNN_MAX_FILE_DECODE_MB", "lots")
    with pytest.raises(ValueError, match=r"SNN_MAX_FILE_DECODE_MB='lots' is not a size; allowed: a positive number"):
        read_events(path)
    monkeypatch.delenv("SNN_MAX_FILE_DECODE_MB")
    assert FILE_DECODE.megabytes() == 2048 and len(shd_samples(path)[0]) == 3


def test_attributes_are_bounded_too(tmp_path):
    path = tmp_path / "attrs.h5"
    with h5py.File(path, "w", libver="latest") as handle:          # dense attribute storage: past 64 KB
        handle["x"] = np.zeros(3)
        handle["x"].attrs["big"] = np.zeros(2**18)              # 2 MB
    assert "has attribute 'big' of 2.0 MB decoded; allowed: at most 1.0 MB per attribute" in refusal(path)


def test_a_file_that_is_no_hdf5_is_refused_in_one_line(tmp_path):
    assert "h5py could not open it as HDF5" in refusal(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    broken = hostile.legit_nir(tmp_path / "g.nir").read_bytes()
    message = refusal(broken[:len(broken) // 2], **NIR_LIKE)
    assert "h5py could not" in message
