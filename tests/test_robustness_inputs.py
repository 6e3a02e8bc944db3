"""Hostile but fair input, generated (hypothesis): settings over the whole config spec, malformed config trees,
links with Markdown in them, tampered model files. Each either works or is refused with a one-line ValueError
that names what was wrong; nothing else may escape (issue #15). Kept well under a minute: examples are bounded,
the trained runs tiny (digits, T <= 3, one epoch, <= 64 samples), and no example database is written.

    SNN_FUZZ=10 .venv/bin/python -m pytest -q tests/test_robustness_inputs.py    # explore: 10x, new examples"""
from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile_hdf5
from snn_app.url_state import decode, encode, escape_markdown
from snn_core.checkpoint import model_to_bytes, read_model_file
from snn_core.config.check import check
from snn_core.config.run_config import ALIASES, RunConfig, cli_index, parse_config_json, section_names
from snn_core.data.readers import read_events, shd_samples
from snn_core.experiments.run import train_run
from snn_core.interop.nir_files import model_bytes_of_nir
from snn_core.methods.registry import build_model

INDEX = cli_index()
FIELD_NAMES = sorted({f"{section}.{fld.name}" for section, fld in INDEX.values()})


def fast(examples: int, *checks: HealthCheck) -> settings:
    """Bounded examples, no deadline (a first example pays for imports), no example database on disk, and the
    same examples on every run (a suite that passes once passes again); ``SNN_FUZZ=N`` explores: N times the
    examples, new ones each run."""
    explore = int(os.environ.get("SNN_FUZZ", "0") or 0)
    return settings(max_examples=examples * max(explore, 1), deadline=None, database=None, derandomize=not explore,
                    suppress_health_check=[HealthCheck.too_slow, *checks])

# Fields left out of the trained sample: which dataset (digits, always) and how a real one is read.
NOT_TRAINED = {"dataset", "data-dir", "frame-size", "event-frames", "denoise-us", "crop-us", "holdout", "sensor",
               "T", "train-samples", "test-samples", "epochs", "hidden", "channels", "batch-size", "latency-window"}


def names_a_field(message: str) -> bool:
    """Whether a message names a config field: by its CLI option (``--T``), its CLI name in ``name=value``, or
    ``section.field``."""
    return bool(re.search(r"--[a-zA-Z]", message)) or any(name in message for name in FIELD_NAMES) \
        or any(f"{cli}=" in message for cli in [*INDEX, *ALIASES])


def one_line(message: str) -> bool:
    return "\n" not in message and 0 < len(message) < 2000


# --- values of one field: valid, invalid, and anything --------------------------------------------------------

def valid_value(fld) -> st.SearchStrategy[str]:
    """A valid value of ``fld`` as the CLI or a link gives it (text)."""
    m = fld.metadata
    if m["choices"] is not None:
        return st.sampled_from(m["choices"])
    if m["kind"] is bool:
        return st.sampled_from(["true", "false", "on", "off", "1", "0", "YES"])
    if m["kind"] is str:
        return st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
    if m["kind"] is int:
        number = st.integers(m["lo"], m["hi"]).map(str)
    else:
        number = st.floats(m["lo"], m["hi"], allow_nan=False).map(repr)
    if m["length"] is None:
        return number
    return st.lists(number, min_size=m["length"][0], max_size=m["length"][1]).map(",".join)


def invalid_value(fld) -> st.SearchStrategy[str]:
    """A value of ``fld`` that validation must refuse."""
    m = fld.metadata
    if m["choices"] is not None:
        return st.text(max_size=12).filter(lambda text: text not in m["choices"])
    if m["kind"] is bool:
        return st.sampled_from(["maybe", "2", "", "truee", "nan"])
    if m["kind"] is str:
        return st.sampled_from(["x" * (m["hi"] + 1), "a\x00b"])
    outside = st.one_of(st.integers(max_value=math.floor(m["lo"]) - 1), st.integers(min_value=math.ceil(m["hi"]) + 1),
                        st.sampled_from(["nan", "inf", "-inf", "1e999", "x", "1.5.2", "9" * 5000]))
    if m["kind"] is int:
        outside = st.one_of(outside, st.sampled_from([f"{m['lo']}.5", "0x10"]))
    if m["length"] is None:
        return outside.map(str)
    too_long = ",".join([str(m["lo"])] * (m["length"][1] + 1))
    return st.one_of(outside.map(str), st.just(too_long))


def any_value(fld) -> st.SearchStrategy[str]:
    return st.one_of(valid_value(fld), invalid_value(fld), st.text(max_size=20))


def flat_settings(value, keys=None) -> st.SearchStrategy[dict[str, str]]:
    """A flat ``{cli: text}`` of a few fields, each value drawn by ``value(field)``."""
    keys = sorted(INDEX) if keys is None else keys
    pair = st.sampled_from(keys).flatmap(lambda key: st.tuples(st.just(key), value(INDEX[key][1])))
    return st.lists(pair, max_size=6).map(dict)


# --- generated settings: refused in one line naming a field, or runnable --------------------------------------

@fast(400)
@given(flat_settings(any_value))
def test_generated_settings_are_refused_in_one_line_naming_a_field_or_checked(flat):
    try:
        cfg = RunConfig().with_values(flat)
    except ValueError as problem:
        assert one_line(str(problem)) and names_a_field(str(problem)), str(problem)
        return
    for problem in check(cfg):
        assert one_line(problem) and names_a_field(problem), problem
    assert RunConfig.from_dict(json.loads(cfg.to_json())) == cfg


def tiny(flat: dict[str, str], data: st.DataObject) -> dict[str, str]:
    """``flat`` made tiny enough to train in a fraction of a second, on digits."""
    steps = data.draw(st.integers(1, 3), label="T")
    return {**flat, "dataset": "digits", "T": str(steps), "epochs": "1",
            "train-samples": str(data.draw(st.integers(20, 64), label="train-samples")),
            "test-samples": str(data.draw(st.integers(20, 40), label="test-samples")),
            "hidden": data.draw(st.sampled_from(["8", "8,4", "", "4,4,4"]), label="hidden"),
            "channels": data.draw(st.sampled_from(["2", "2,4"]), label="channels"),
            "batch-size": str(data.draw(st.integers(1, 64), label="batch-size")),
            "latency-window": str(data.draw(st.integers(0, steps), label="latency-window"))}


def finite_numbers(tree) -> bool:
    """Every number in a result (nested dicts and lists) is finite; None (not measured) is allowed."""
    if isinstance(tree, dict):
        return all(finite_numbers(value) for value in tree.values())
    if isinstance(tree, (list, tuple)):
        return all(finite_numbers(value) for value in tree)
    return not isinstance(tree, float) or math.isfinite(tree)


@fast(25)
@given(flat_settings(valid_value, sorted(set(INDEX) - NOT_TRAINED)), st.data())
def test_a_sample_of_valid_settings_trains_a_tiny_run_to_finite_metrics(flat, data):
    cfg = RunConfig().with_values(tiny(flat, data))
    problems = check(cfg)
    if problems:                                       # a combination the rules refuse, with the way out
        assert all(one_line(p) and names_a_field(p) for p in problems), problems
        return
    torch.set_num_threads(1)
    result = train_run(cfg, device="cpu")
    assert 0.0 <= result.metrics.test_accuracy <= 1.0
    tree = result.to_json()
    assert finite_numbers(tree), tree
    json.dumps(tree, allow_nan=False)                   # what leaves the program is valid JSON


def test_batch_norm_with_one_value_per_channel_is_refused_by_the_config_check():
    """Found by the fuzzer above: with T = 1 a batch of one sample gives BatchNorm one value per feature."""
    cfg = RunConfig().with_values({"T": 1, "batch-size": 1, "hidden": "8", "epochs": 1, "train-samples": 20,
                                   "test-samples": 20, "robustness": False})
    assert [p for p in check(cfg) if "--batch-size 2 or more" in p and "model.batch_norm" in p]
    assert not [p for p in check(cfg.with_values({"batch-norm": "false"})) if "batch_norm" in p]


# --- malformed config trees and files ------------------------------------------------------------------------

KEYS = st.one_of(st.sampled_from(section_names()), st.sampled_from([fld.name for _, fld in INDEX.values()]),
                 st.text(max_size=8))
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)),
    max_leaves=20)
SECTIONS = st.dictionaries(st.sampled_from(section_names()),
                           st.one_of(JSON_VALUES, st.dictionaries(st.sampled_from([f.name for _, f in INDEX.values()]),
                                                                  JSON_VALUES, max_size=4)), max_size=5)


@fast(300)
@given(st.one_of(JSON_VALUES, SECTIONS))
def test_any_json_tree_gives_a_config_or_a_one_line_value_error(tree):
    try:
        text = json.dumps(tree)
    except ValueError:                                  # NaN is not JSON: a file cannot hold it
        text = json.dumps(tree, allow_nan=True)
    try:
        RunConfig.from_dict(parse_config_json(text, "c.json"))
    except ValueError as problem:
        assert one_line(str(problem)), str(problem)


@pytest.mark.parametrize("text", ["[" * 100_000, "{\"data\":" * 50_000 + "1" + "}" * 50_000, "null", "3", "[]",
                                  '{"data": "x"}', '{"model": {"hidden": [1e400]}}', '{"model": {"hidden": [64.0]}}',
                                  b"\xff\xfe\x00".decode("latin-1"), "{" + '"a":1,' * 10_000 + '"b":2}'])
def test_hand_picked_bad_config_files_are_value_errors(text):
    try:
        cfg = RunConfig.from_dict(parse_config_json(text, "c.json"))
    except ValueError as problem:
        assert one_line(str(problem))
    else:
        assert cfg.model.hidden == (64,)


# --- links: never a crash, never Markdown in a notice --------------------------------------------------------

INJECTIONS = ["[click here](http://evil.example/login)", "![x](http://host/p.png)", "<img src=x onerror=alert(1)>",
              "**bold** _it_ `code`", ":red[alarm] :material/flag:", "$x^2$", "www.evil.example", "a@evil.example",
              "# heading", "| a | b |", "line\nbreak", "- item", "\\](http://x)", "&lt;b&gt;"]
LINK_TEXT = st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=40))


@fast(200)
@given(st.dictionaries(st.one_of(LINK_TEXT, st.sampled_from(sorted(INDEX))), st.one_of(LINK_TEXT, st.lists(LINK_TEXT,
                                                                                                         max_size=3)),
                       max_size=5))
def test_any_link_decodes_and_its_notices_escape_to_plain_text(params):
    cfg, notices = decode(params)
    assert isinstance(cfg, RunConfig)
    for notice in notices:
        shown = escape_markdown(notice)
        assert "\n" not in shown and len(shown) <= 2 * 600
        unescaped = re.sub(r"\\.", "", shown)          # what is left once every escaped character is taken out
        assert not re.search(r"[\[\]()<>*_`!#|$]", unescaped), shown
        assert "http://" not in shown and "www." not in shown


@fast(100)
@given(flat_settings(valid_value))
def test_valid_settings_survive_the_link_round_trip(flat):
    cfg = RunConfig().with_values(flat)
    decoded, _ = decode(encode(cfg))
    assert decoded == cfg


# --- tampered model files ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_file() -> bytes:
    cfg = RunConfig().with_values({"hidden": "8", "T": 2})
    return model_to_bytes(build_model(cfg, (64,), 10), cfg, (64,), 10)


def tamper(data: bytes, draw) -> bytes:
    """``data`` truncated, with bytes overwritten, or with its header's JSON changed."""
    length = int.from_bytes(data[:8], "little")
    kind = draw(st.sampled_from(["cut", "bytes", "header"]))
    if kind == "cut":
        return data[:draw(st.integers(0, len(data) - 1))]
    if kind == "bytes":
        chunk = draw(st.binary(min_size=1, max_size=16))
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + chunk + data[at + len(chunk):]
    header = json.loads(data[8:8 + length])
    key = draw(st.sampled_from(sorted(header)))
    if key == "__metadata__":
        field = draw(st.sampled_from(sorted(header[key])))
        header[key][field] = draw(st.one_of(st.text(max_size=20), JSON_VALUES.map(json.dumps)))
    else:
        header[key] = draw(st.one_of(JSON_VALUES, st.fixed_dictionaries(
            {"dtype": st.sampled_from(["F32", "F64", "I8", "X"]), "shape": JSON_VALUES,
             "data_offsets": st.lists(st.integers(-5, 10**6), max_size=3)})))
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data[8 + length:]


@fast(150, HealthCheck.function_scoped_fixture)
@given(st.data())
def test_a_tampered_model_file_is_read_or_refused_with_a_value_error(model_file, data):
    tampered = tamper(model_file, data.draw)
    try:
        saved = read_model_file(tampered)
    except ValueError as problem:
        assert one_line(str(problem)) or str(problem).count("\n") <= 1, str(problem)
        return
    assert saved.n_classes <= 10_000 and all(1 <= n <= 65_535 for n in saved.frame_shape)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["zip", "dat", "raw", "npz"]), size=st.integers(0, 2**40), lines=st.integers(1, 3_000),
       text=st.text(max_size=40))
def test_hostile_zips_and_event_headers_are_read_or_refused_in_one_line(tmp_path_factory, kind, size, lines, text):
    """Generated zips (stated sizes, ratios) and event-file headers (sensor sizes, header lines, array shapes) are
    read or refused with one line naming the file, and never allocate what they state (tracemalloc)."""
    import tracemalloc
    import zipfile

    import numpy as np

    from snn_app.recording import extract_zip
    from snn_core.data.readers import read_events

    folder = tmp_path_factory.mktemp("hostile")
    if kind == "zip":
        path = folder / "a.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("e.bin", bytes(min(size, 3 * 2**20)))
            archive.writestr(f"{text[:20]}.npy".replace("/", "_"), b"\x93NUMPY" + text.encode()[:30])
        read = lambda: extract_zip(path, folder / "out", name=str(path))      # noqa: E731
    elif kind == "dat":
        path = folder / "a.dat"
        path.write_bytes(f"% Width {size}\n% Height {lines}\n% {text}\n".encode("utf-8", "replace")
                         + b"\x00\x08" + bytes(8))
        read = lambda: read_events(path)                                      # noqa: E731
    elif kind == "raw":
        path = folder / "a.raw"
        path.write_bytes(b"% evt 2.0\n" + f"% geometry {size}x{lines}\n".encode() + b"% x\n" * lines + bytes(4))
        read = lambda: read_events(path)                                      # noqa: E731
    else:
        path = folder / "a.npz"
        header = {"descr": "|u1", "fortran_order": False, "shape": (size, lines)}
        with zipfile.ZipFile(path, "w") as archive, archive.open("x.npy", "w") as out:
            np.lib.format.write_array_header_1_0(out, header)
            out.write(bytes(16))
        read = lambda: read_events(path)                                      # noqa: E731
    tracemalloc.start()
    try:
        try:
            read()
        except ValueError as problem:
            assert str(problem).startswith(str(path)) and one_line(str(problem)), problem
        assert tracemalloc.get_traced_memory()[1] < 256 * 2**20
    finally:
        tracemalloc.stop()


# --- hostile HDF5 files (NIR graphs, SHD recordings) ----------------------------------------------------------

HOSTILE_HDF5 = st.tuples(st.sampled_from(["nir", "shd", "shd-fixed"]),
                         st.lists(st.tuples(st.sampled_from(["none", *hostile_hdf5.FEATURES]), st.integers(0, 4)),
                                  min_size=1, max_size=3))


def read_hostile_hdf5(path, base: str) -> list:
    """What the app and the CLI get from ``path``: a model file (NIR), or one sample and all samples (SHD)."""
    if base == "nir":
        return [model_bytes_of_nir(path.read_bytes())]
    recording, (samples, labels) = read_events(path, sample=0), shd_samples(path)
    return [recording.events["x"], recording.events["t"], *[s["x"] for s in samples], labels]


@fast(40)
@given(HOSTILE_HDF5)
def test_a_hostile_hdf5_file_is_read_within_limits_or_refused_and_never_leaks_another_file(case):
    """Random mixes of external storage, virtual datasets, external/soft/hard links, huge declared shapes, big
    chunks and odd dtypes in a NIR graph or an SHD file: read (nothing of the canary files in the result, nothing
    past the limits: 8 MB here) or refused in one line (nothing of the canaries in the message)."""
    base, changes = case
    with tempfile.TemporaryDirectory() as folder, mock.patch.dict(os.environ, {"SNN_MAX_NIR_DECODE_MB": "8",
                                                                               "SNN_MAX_FILE_DECODE_MB": "8"}):
        canaries = hostile_hdf5.write_canaries(Path(folder))
        path = hostile_hdf5.hostile_file(Path(folder) / ("g.nir" if base == "nir" else "s.h5"), base,
                                         [change for change in changes if change[0] != "none"], canaries)
        try:
            results = read_hostile_hdf5(path, base)
        except ValueError as problem:
            assert one_line(str(problem)) and not hostile_hdf5.leaked(str(problem).encode()), str(problem)
            return
    assert not any(hostile_hdf5.leaked(np.asarray(r) if not isinstance(r, bytes) else r) for r in results)
    assert sum(len(r) if isinstance(r, bytes) else np.asarray(r).nbytes for r in results) < 8 * 2**20
