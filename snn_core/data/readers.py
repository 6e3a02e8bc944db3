"""Read one event file, of any format we know, into tonic's structured event array with its sensor size.

Every format is decoded by the library that owns it, never by a decoder written here: tonic for the 5-byte
N-MNIST ``.bin`` (also the DVS128 clips) and, through the ``aedat`` package, for ``.aedat4``; expelliarmus for
Prophesee ``.raw`` (EVT2, EVT3) and ``.dat``; numpy for ``.npy``/``.npz``; h5py for Spiking Heidelberg Digits
``.h5``. What this module adds is what the libraries leave to the caller:

- one result for every format: ``EVENT_DTYPE`` (int64 x, y, t, p), p in {0, 1}, t in microseconds as stored
  (never shifted to 0), sorted by t with a stable sort (a file out of order is sorted and says so, it is no error);
- the sensor size: the caller's, else the one the file's header states, else the data's extent (max + 1);
- one kind of failure: every bad file raises a ValueError that starts with the path and says what was expected.
  The libraries fail in their own ways (numpy broadcasting errors, ``RuntimeError`` from aedat, ``OSError`` from
  h5py, ``None`` plus a line the C code prints on stderr from expelliarmus); the CLI and the app show one line.

``READERS`` (suffix -> reader) is the public list of what we read; every reader has ``read_events``' signature.
"""
from __future__ import annotations

import contextlib
import json
import numbers
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..files import FILE_DECODE, MEGABYTE, megabytes
from .framing import EVENT_DTYPE

FIELDS = ("x", "y", "t", "p")
SHD_UNITS = 700  # Spiking Heidelberg Digits: 700 cochlea channels, one "polarity"
SHD_KEYS = ("spikes/times", "spikes/units", "labels")
DVS_GESTURE_SENSOR = (128, 128)
# Old Prophesee RAW headers name only the camera plugin; Metavision (openeb, hal_psee_plugins raw_constants.h)
# gives each plugin's sensor size. Newer headers state it (``% geometry``, ``% format ...;width=;height=``).
PLUGIN_SENSORS = {
    "hal_plugin_gen3_fx3": (640, 480), "hal_plugin_gen31_fx3": (640, 480), "hal_plugin_gen31_evk2": (640, 480),
    "hal_plugin_gen31_evk3": (640, 480), "hal_plugin_gen4_fx3": (1280, 720), "hal_plugin_gen4_evk2": (1280, 720),
    "hal_plugin_gen41_evk2": (1280, 720), "hal_plugin_gen41_evk3": (1280, 720),
}
_WORD_BYTES = {"evt2": 4, "evt3": 2, "dat": 8}  # expelliarmus' encodings; a .dat has 2 bytes (type, size) first
_EVENTS_PER_WORD = {"evt2": 1, "evt3": 12, "dat": 1}  # at most: an EVT3 vector word carries up to 12 events
# Size known before decoding: every reader works out what a file will decode to (sensor W x H, event count from the
# file size and word size, an array's shape and dtype from its header, zip members' stated sizes) and refuses, before
# anything is allocated, a file over SNN_MAX_FILE_DECODE_MB megabytes (read when a file is read; the HDF5 reader
# uses the same setting). A header is read with a bound too.
DECODE_LIMIT_VARIABLE = FILE_DECODE.env
MAX_HEADER_LINES = 1_000                    # Prophesee '%' lines (real headers have about 10 to 30)
MAX_HEADER_BYTES = 64 * 1024
MAX_COMPRESSION_RATIO = 100                 # .npz members: stated size / compressed size, above COMPRESSED_FROM_MB
COMPRESSED_FROM_MB = 1
AEDAT_TIMEOUT_S = 600                       # the aedat package decodes in a child process (see read_aedat4)


@dataclass(frozen=True)
class Recording:
    """One recording: ``events`` (EVENT_DTYPE, sorted by t), ``sensor_size`` (W, H, P) in tonic's order."""

    events: np.ndarray
    sensor_size: tuple[int, int, int]
    format: str                     # "nmnist-bin", "evt2", "evt3", "dat", "aedat4", "npy", "npz", "shd-h5", ...
    sorted_on_read: bool            # True: the file's timestamps were out of order and were sorted here
    path: str
    label: int | None = None        # only SHD samples carry one
    samples: int | None = None      # SHD: how many samples the file holds (this is one of them)


# ---------------------------------------------------------------------------------------------------- checks


class EventFileError(ValueError):
    """A file that cannot be read as events; the message starts with its path and says what was expected.
    Raised for our own checks and for every library error, which is wrapped into one."""


def _fail(path: str, problem: str) -> ValueError:
    return EventFileError(f"{path}: {problem}")


def _library(path: str, what: str, call: Callable):
    """``call()``, with any library exception turned into a ValueError naming the file and ``what`` failed."""
    try:
        return call()
    except EventFileError:
        raise
    except Exception as problem:  # numpy, tonic, aedat, h5py, expelliarmus: each fails its own way
        raise _fail(path, f"{what} ({type(problem).__name__}: {problem})") from None


def decode_limit_mb() -> float:
    """Megabytes one file may decode to (``files.FILE_DECODE``: ``$SNN_MAX_FILE_DECODE_MB``, else 2048), read at
    each call; ValueError naming the variable for a value that is not a positive number."""
    return FILE_DECODE.megabytes()


def check_decode_size(path: str, size: float, what: str) -> None:
    """ValueError (path first, one line) when ``what`` would take ``size`` bytes, more than one file may decode to."""
    limit = decode_limit_mb()
    if size > limit * MEGABYTE:
        raise _fail(path, f"{what} would take {megabytes(size)} to decode; allowed: at most {limit:,g} MB per file "
                          f"({DECODE_LIMIT_VARIABLE})")


def _events_fit(path: str, count: float, what: str) -> None:
    """``count`` events, as the EVENT_DTYPE array every reader returns, must fit the decode limit."""
    check_decode_size(path, count * EVENT_DTYPE.itemsize, f"{what} ({count:,.0f} events at most)")


def _sensor_fits(path: str, size: tuple[int, int] | None, whose: str, polarities: int = 2) -> None:
    """One uint8 frame of the sensor (P x H x W bytes) must fit the decode limit: a header may state any size."""
    if size:
        check_decode_size(path, size[0] * size[1] * polarities,
                          f"the {size[0]}x{size[1]} sensor {whose} (one frame of {polarities} polarities)")


def _check_sensor_size(sensor_size) -> tuple[int, int] | None:
    """The caller's (W, H) as ints, or None; ValueError unless it is two positive integers."""
    if sensor_size is None:
        return None
    if (not isinstance(sensor_size, (tuple, list)) or len(sensor_size) != 2
            or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in sensor_size)):
        raise ValueError(f"sensor_size must be (W, H), two positive integers, got {sensor_size!r}")
    return int(sensor_size[0]), int(sensor_size[1])


def _only_sample(path: str, sample: int) -> None:
    """Files other than SHD hold one recording: sample 0."""
    if sample != 0:
        raise _fail(path, f"sample {sample!r} is out of range; this file holds one recording (sample 0)")


def _integers(path: str, name: str, values: np.ndarray) -> np.ndarray:
    """A field as int64; bool and integer types pass, floats only when every value is a whole number."""
    if values.dtype.kind in "biu":
        return values.astype(np.int64)
    if values.dtype.kind == "f" and np.all(np.isfinite(values)) and np.all(values == np.round(values)):
        return values.astype(np.int64)
    raise _fail(path, f"field {name!r} has type {values.dtype} with non-integer values; expected integers")


def _polarity(path: str, p: np.ndarray) -> np.ndarray:
    """p as 0 (OFF) / 1 (ON): bool, {0, 1} and {-1, 1} are accepted; anything else is an error."""
    found = np.unique(p)
    if set(found.tolist()) <= {0, 1}:
        return p.astype(np.int64)
    if set(found.tolist()) <= {-1, 1}:
        return (p > 0).astype(np.int64)
    raise _fail(path, f"polarity values {found[:6].tolist()} are not valid; expected 0/1, -1/1 or True/False")


def _sensor(path: str, x: np.ndarray, y: np.ndarray, given, stated) -> tuple[int, int]:
    """The sensor (W, H): the caller's, else the header's, else the data's extent; events must lie on it."""
    if x.min() < 0 or y.min() < 0:
        raise _fail(path, f"negative coordinates (x min {x.min()}, y min {y.min()}); expected x, y >= 0")
    size, whose = (given, "given") if given else (stated, "stated in the file") if stated else (None, "")
    if size is None:
        return int(x.max()) + 1, int(y.max()) + 1
    if x.max() >= size[0] or y.max() >= size[1]:
        raise _fail(path, f"events outside the {size[0]}x{size[1]} sensor {whose} (x max {x.max()}, y max "
                          f"{y.max()}); expected x < {size[0]}, y < {size[1]}")
    return size


def _recording(path: str, raw: np.ndarray, fmt: str, *, given=None, stated=None, polarities: int = 2,
               label: int | None = None, samples: int | None = None) -> Recording:
    """Turn a library's structured array (fields x, y, t, p of any integer widths) into a Recording."""
    if len(raw) == 0:
        raise _fail(path, "holds no events; expected at least one")
    events = np.empty(len(raw), dtype=EVENT_DTYPE)
    for name in ("x", "y", "t"):
        events[name] = _integers(path, name, np.asarray(raw[name]))
    events["p"] = _polarity(path, np.asarray(raw["p"]))
    width, height = _sensor(path, events["x"], events["y"], given, stated)
    _sensor_fits(path, (width, height), "of its events" if not (given or stated) else "given" if given else
                 "stated in the file", polarities)
    unsorted = bool(np.any(np.diff(events["t"]) < 0))
    if unsorted:
        events = events[np.argsort(events["t"], kind="stable")]
    return Recording(events, (width, height, polarities), fmt, unsorted, path, label, samples)


def _existing(path) -> str:
    """The path as a str; ValueError if it is not a non-empty file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise _fail(path, f"no such file; expected an event file ({', '.join(SUFFIXES)})")
    if os.path.getsize(path) == 0:
        raise _fail(path, "is empty; expected events")
    return path


# ---------------------------------------------------------------------------------------------------- readers


def read_bin(path, *, sensor_size=None, sample: int = 0) -> Recording:
    """N-MNIST / ATIS 5-byte ``.bin`` (also the DVS128 clips) through tonic; no header, so the sensor is the
    data's extent unless given. tonic treats y == 240 as a timestamp-overflow record, not an event."""
    import tonic.io

    path, given = _existing(path), _check_sensor_size(sensor_size)
    _only_sample(path, sample)
    size = os.path.getsize(path)
    if size % 5:
        raise _fail(path, f"is truncated: {size} bytes is not a multiple of 5; expected 5-byte N-MNIST events")
    _events_fit(path, size // 5, f"{size // 5:,} 5-byte N-MNIST records")
    _sensor_fits(path, given, "given")
    events = _library(path, "tonic could not read it as N-MNIST .bin",
                      lambda: tonic.io.read_mnist_file(path, dtype=EVENT_DTYPE))
    return _recording(path, events, "nmnist-bin", given=given)


def _prophesee_header(path: str) -> tuple[dict[str, str], int]:
    """The ASCII ``% key value`` lines a Prophesee .raw/.dat starts with, as {lower-case key: value}, and their
    length in bytes (expelliarmus skips the same lines: every line that starts with '%')."""
    header: dict[str, str] = {}
    lines = 0
    with open(path, "rb") as handle:
        while handle.peek(1)[:1] == b"%":
            lines += 1
            if lines > MAX_HEADER_LINES or handle.tell() >= MAX_HEADER_BYTES:
                raise _fail(path, f"has a '%' header longer than {MAX_HEADER_LINES:,} lines or "
                                  f"{MAX_HEADER_BYTES // 1024} KB; allowed: a Prophesee header of '% key value' lines "
                                  "within those bounds")
            line = handle.readline(4096)
            if not line.endswith(b"\n"):
                raise _fail(path, "has a broken header (a '%' line without an end); expected ASCII '% key value' "
                                  "lines")
            key, _, value = line[1:].decode("ascii", "replace").strip().partition(" ")
            header.setdefault(key.lower(), value.strip())
        return header, handle.tell()


def _header_int(path: str, text: str, what: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise _fail(path, f"header {what} {text!r} is not valid; expected a positive integer")
    return int(text)


def _stated_sensor(path: str, header: dict[str, str]) -> tuple[int, int] | None:
    """The sensor (W, H) a Prophesee header states: ``format ...;width=;height=``, ``geometry WxH``,
    ``Width``/``Height`` lines, or the sensor of the camera plugin it names; None if none."""
    params = {key.strip().lower(): value.strip()
              for key, _, value in (part.partition("=") for part in header.get("format", "").split(";")[1:])}
    if "width" in params and "height" in params:
        return _header_int(path, params["width"], "format width"), _header_int(path, params["height"], "format height")
    if "geometry" in header:
        width, _, height = header["geometry"].partition("x")
        return _header_int(path, width, "geometry width"), _header_int(path, height, "geometry height")
    if "width" in header and "height" in header:
        return _header_int(path, header["width"], "Width"), _header_int(path, header["height"], "Height")
    return PLUGIN_SENSORS.get(header.get("plugin_name", ""))


def _raw_encoding(path: str, header: dict[str, str]) -> str:
    """evt2 or evt3, from ``% format EVT3;...`` or ``% evt 3.0``."""
    if not header:
        raise _fail(path, "has no '%' header; expected a Prophesee RAW file starting with '% evt 2.0' or "
                          "'% format EVT3' lines")
    if "format" in header:
        name = header["format"].split(";")[0].strip().upper()
    elif "evt" in header:
        name = {"2.0": "EVT2", "3.0": "EVT3"}.get(header["evt"], f"evt {header['evt']}")
    else:
        raise _fail(path, "header has no '% evt' or '% format' line; expected '% evt 2.0', '% evt 3.0' or "
                          "'% format EVT3;...'")
    if name not in ("EVT2", "EVT3"):
        raise _fail(path, f"header states {name!r}; expected EVT2 or EVT3 (the encodings expelliarmus reads)")
    return name.lower()


@contextlib.contextmanager
def _captured_c_stderr() -> Iterator[list[str]]:
    """Collect what C code prints on file descriptor 2 (expelliarmus explains its failures there, then returns
    None), so the message joins our ValueError instead of adding lines to the terminal."""
    captured: list[str] = []    # after the block: one string, what was printed ("" if nothing)
    try:
        saved = os.dup(2)
    except OSError:             # no stderr to redirect: let the C code print, if anything
        yield captured
        captured.append("")
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(" ".join(sink.read().decode("utf-8", "replace").split()))


def _expelliarmus(path: str, encoding: str, header_bytes: int) -> np.ndarray:
    """Decode with expelliarmus.Wizard after checking the data is whole words of the encoding."""
    from expelliarmus import Wizard

    if not path.endswith(".dat" if encoding == "dat" else ".raw"):
        raise _fail(path, f"expelliarmus reads only names ending in lower-case "
                          f"'{'.dat' if encoding == 'dat' else '.raw'}'; rename the file")
    data = os.path.getsize(path) - header_bytes - (2 if encoding == "dat" else 0)
    if data <= 0:
        raise _fail(path, "has a header but no events; expected event data after the '%' lines")
    if data % _WORD_BYTES[encoding]:
        raise _fail(path, f"is truncated: {data} data bytes is not a whole number of "
                          f"{_WORD_BYTES[encoding]}-byte {encoding.upper()} words")
    words = data // _WORD_BYTES[encoding]
    most = words * _EVENTS_PER_WORD[encoding]
    if encoding != "evt3":
        _events_fit(path, most, f"{words:,} {_WORD_BYTES[encoding]}-byte {encoding.upper()} words")
    else:
        _events_fit(path, words, f"{words:,} 2-byte EVT3 words")     # at least one word per event
    what = f"expelliarmus could not decode it as {encoding.upper()}"
    with _captured_c_stderr() as printed:
        if most * EVENT_DTYPE.itemsize <= decode_limit_mb() * MEGABYTE:
            events = _library(path, what, lambda: Wizard(encoding=encoding, fpath=path).read())
        else:       # EVT3 vector words might hold more: decode in chunks, and stop once past the limit
            events = _library(path, what, lambda: _chunked(path, Wizard(encoding=encoding, fpath=path)))
    if events is None:  # expelliarmus' way to fail: None, and a line printed by its C code
        reason = f" ({printed[0]})" if printed[0] else ""
        raise _fail(path, f"{what}{reason}; expected a valid Prophesee {encoding.upper()} file")
    return events


def _chunked(path: str, wizard) -> np.ndarray | None:
    """Every event of ``wizard``'s file, read a chunk at a time; ValueError as soon as they pass the decode limit."""
    chunks, count = [], 0
    wizard.set_chunk_size(1 << 20)
    for chunk in wizard.read_chunk():
        if chunk is None:
            return None
        chunks.append(chunk)
        count += len(chunk)
        _events_fit(path, count, "its EVT3 events, counted while decoding,")
    return np.concatenate(chunks) if chunks else None


def read_raw(path, *, sensor_size=None, sample: int = 0) -> Recording:
    """Prophesee RAW (EVT2 or EVT3, from the header) through expelliarmus."""
    path, given = _existing(path), _check_sensor_size(sensor_size)
    _only_sample(path, sample)
    header, header_bytes = _prophesee_header(path)
    encoding = _raw_encoding(path, header)
    stated = _stated_sensor(path, header)
    _sensor_fits(path, given or stated, "given" if given else "stated in the file")
    return _recording(path, _expelliarmus(path, encoding, header_bytes), encoding, given=given, stated=stated)


def read_dat(path, *, sensor_size=None, sample: int = 0) -> Recording:
    """Prophesee DAT (e.g. N-CARS) through expelliarmus; the header may state ``% Width``/``% Height``."""
    path, given = _existing(path), _check_sensor_size(sensor_size)
    _only_sample(path, sample)
    header, header_bytes = _prophesee_header(path)
    stated = _stated_sensor(path, header)
    _sensor_fits(path, given or stated, "given" if given else "stated in the file")
    return _recording(path, _expelliarmus(path, "dat", header_bytes), "dat", given=given, stated=stated)


# The aedat package (Rust) panics on some malformed files, and a panic while unwinding aborts the whole process;
# its packets may be LZ4/Zstandard-compressed, so a file's size does not bound what it decodes to. So it runs in a
# child process: memory capped (RLIMIT_AS, where the OS has it), events counted packet by packet and refused once
# past the decode limit, a crash reported as one line. It reads as tonic.io.read_aedat4 does: the event stream with
# the lowest id, its packets concatenated.
_AEDAT_CHILD = """
import json, sys
import numpy as np
path, out, limit, cap = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
except (ImportError, ValueError, OSError):
    pass
import aedat
decoder = aedat.Decoder(path)
streams = decoder.id_to_stream()
ids = sorted(key for key, stream in streams.items() if stream.get("type") == "events")
json.dump({"streams": {str(key): stream for key, stream in streams.items()}}, open(out + ".json", "w"))
packets, count = [], 0
if ids:
    for packet in decoder:
        if packet["stream_id"] == ids[0]:
            packets.append(packet["events"])
            count += len(packet["events"])
            if count * 32 > limit:
                print(f"past the limit at {count} events", file=sys.stderr)
                sys.exit(3)
    np.save(out, np.concatenate(packets) if packets else np.empty(0, [("t", "<u8"), ("x", "<u2"), ("y", "<u2"),
                                                                      ("p", "?")]), allow_pickle=False)
"""


def _aedat4_child(path: str) -> tuple[dict, np.ndarray | None]:
    """(streams by id, the first event stream's events or None) from the aedat package, in a child process."""
    import subprocess
    import sys

    limit = decode_limit_mb() * MEGABYTE
    what = "could not be decoded as AEDAT4"
    with tempfile.TemporaryDirectory(prefix="snn-aedat4-") as folder:
        out = os.path.join(folder, "events.npy")
        cap = int(1024 * MEGABYTE + 3 * limit)     # the interpreter, numpy and aedat, then the events three times
        try:
            done = subprocess.run([sys.executable, "-c", _AEDAT_CHILD, path, out, repr(limit), str(cap)],
                                  capture_output=True, text=True, timeout=AEDAT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise _fail(path, f"{what} (the aedat package took over {AEDAT_TIMEOUT_S} s); expected a valid AEDAT 4 "
                              "file") from None
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        said = next((line for line in reversed(lines) if "Error" in line or "Exception" in line),
                    lines[-1] if lines else "")[:300]
        if done.returncode == 3:
            check_decode_size(path, float("inf"), "its AEDAT4 events, counted while decoding,")
        if done.returncode != 0:
            how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit status {done.returncode}"
            if "MemoryError" in said or "memory allocation" in said:
                raise _fail(path, f"{what}: it needs more memory than the {decode_limit_mb():,g} MB one file may "
                                  f"decode to ({DECODE_LIMIT_VARIABLE})")
            raise _fail(path, f"{what} (the aedat package failed: {said or how}); expected a valid AEDAT 4 file")
        with open(out + ".json") as handle:
            streams = {int(key): stream for key, stream in json.load(handle)["streams"].items()}
        events = np.load(out, allow_pickle=False) if os.path.exists(out) else None
    return streams, events


def read_aedat4(path, *, sensor_size=None, sample: int = 0) -> Recording:
    """iniVation AEDAT 4 through the ``aedat`` package (tonic's reader), in a child process (``_AEDAT_CHILD``):
    the first event stream, its width and height. Its size is bounded while it decodes, not before."""
    path, given = _existing(path), _check_sensor_size(sensor_size)
    _only_sample(path, sample)
    _sensor_fits(path, given, "given")
    streams, events = _aedat4_child(path)
    event_streams = [streams[key] for key in sorted(streams) if streams[key].get("type") == "events"]
    if not event_streams or events is None:
        raise _fail(path, f"has no event stream (streams: {sorted(s.get('type') for s in streams.values())}); "
                          "expected an AEDAT4 file with polarity events")
    stated = (int(event_streams[0]["width"]), int(event_streams[0]["height"]))
    _sensor_fits(path, stated, "stated in the file")
    return _recording(path, events, "aedat4", given=given, stated=stated)


def _described(array: np.ndarray) -> str:
    names = array.dtype.names
    return f"fields {', '.join(names)}" if names else f"an unstructured {array.dtype} array of shape {array.shape}"


def _event_array(path: str, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The first array with fields x, y, t, p (or the only array); ValueError naming what the file has."""
    for array in arrays.values():
        if set(FIELDS) <= set(array.dtype.names or ()) and array.ndim == 1:
            return array
    if len(arrays) == 1:
        (array,) = arrays.values()
        shape = "" if array.ndim == 1 else f" of shape {array.shape}"
        raise _fail(path, f"has {_described(array)}{shape}; expected a 1-D structured array with fields x, y, t, p"
                          " (tonic's DVSGesture [N, 4] .npy: use read_dvs_gesture_npy)")
    found = "; ".join(f"{name}: {_described(array)}" for name, array in arrays.items()) or "no arrays"
    raise _fail(path, f"has no array with fields x, y, t, p ({found})")


_NUMPY_FAILED = "numpy could not load it as .npy/.npz without pickle"


def _npy_size(handle) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from an .npy header, read with numpy's own bounded header reader; nothing else is read."""
    version = np.lib.format.read_magic(handle)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in read_header:
        raise ValueError(f"npy format version {version} is not 1.0 or 2.0")
    shape, _, dtype = read_header[version](handle)
    return shape, dtype


def _numpy_size(path: str, name: str, shape: tuple[int, ...], dtype: np.dtype) -> float:
    """Bytes an array of this header decodes to, with the EVENT_DTYPE rows made of it; ValueError for objects."""
    if dtype.hasobject:
        raise _fail(path, f"numpy could not load it without pickle: {name} holds Python objects; expected a numeric "
                          "or structured array")
    rows = float(shape[0]) if shape else 1.0
    return float(np.prod(shape, dtype=np.float64)) * dtype.itemsize + rows * EVENT_DTYPE.itemsize


def _check_holds(path: str, name: str, shape: tuple[int, ...], dtype: np.dtype, held: int) -> None:
    """Refuse an array whose header declares more data than the file (or zip member) holds after it: numpy would
    allocate the declared shape before finding the data short, so a 1 KB file could claim up to the decode limit."""
    declared = float(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if declared > held:
        raise _fail(path, f"{name} declares a {dtype} array of shape {shape} ({megabytes(declared)}) but holds "
                          f"{megabytes(max(held, 0))} of data; allowed: a complete .npy array")


def _check_numpy_size(path: str) -> None:
    """Refuse, from the headers alone, an .npy/.npz whose arrays would pass the decode limit: an .npy header's
    shape and dtype; for an .npz each member's stated size and compression ratio from the zip's directory, then
    its .npy header (numpy allocates the stated shape before it reads a byte of the data)."""
    import zipfile

    if path.lower().endswith(".npy"):
        with open(path, "rb") as handle:
            shape, dtype = _library(path, _NUMPY_FAILED, lambda: _npy_size(handle))
            held = os.path.getsize(path) - handle.tell()
        check_decode_size(path, _numpy_size(path, "the array", shape, dtype), f"its {dtype} array of shape {shape}")
        _check_holds(path, "the array", shape, dtype, held)
        return
    if not zipfile.is_zipfile(path):
        return                                  # np.load says what it is not
    with _library(path, _NUMPY_FAILED, lambda: zipfile.ZipFile(path)) as zf:
        members = zf.infolist()
        total = 0.0
        for info in members:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > COMPRESSED_FROM_MB * MEGABYTE and ratio > MAX_COMPRESSION_RATIO:
                raise _fail(path, f"member {info.filename[:80]!r} states {megabytes(info.file_size)} compressed "
                                  f"{ratio:,.0f}:1; allowed: at most {MAX_COMPRESSION_RATIO}:1 (a zip bomb)")
            total += info.file_size
            check_decode_size(path, total, f"its members as the zip states them ({len(members):,} members)")
        for info in members:
            if not info.filename.endswith(".npy"):
                continue

            def header(info=info):
                with zf.open(info) as handle:
                    return (*_npy_size(handle), info.file_size - handle.tell())
            shape, dtype, held = _library(path, f"{_NUMPY_FAILED}: member {info.filename[:80]!r}", header)
            total += _numpy_size(path, f"member {info.filename[:80]!r}", shape, dtype)
            check_decode_size(path, total, f"member {info.filename[:80]!r} ({dtype} array of shape {shape})")
            _check_holds(path, f"member {info.filename[:80]!r}", shape, dtype, held)


def _load_numpy(path: str) -> dict[str, np.ndarray]:
    """Every array of an .npy (named "") or .npz, loaded without pickle, after its size is checked from the headers."""
    _check_numpy_size(path)

    def load() -> dict[str, np.ndarray]:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {"": loaded}
        with loaded:
            return {name: loaded[name] for name in loaded.files}

    return _library(path, _NUMPY_FAILED, load)


def read_numpy(path, *, sensor_size=None, sample: int = 0) -> Recording:
    """``.npy``/``.npz`` holding a structured array with fields x, y, t, p in any order and integer/bool widths."""
    path, given = _existing(path), _check_sensor_size(sensor_size)
    _only_sample(path, sample)
    events = _event_array(path, _load_numpy(path))
    return _recording(path, events, os.path.splitext(path)[1][1:].lower(), given=given)


def read_dvs_gesture_npy(path, *, sensor_size=None) -> Recording:
    """tonic's DVSGesture ``.npy``: an unstructured [N, 4] array, columns x, y, p, t with t in milliseconds
    (tonic multiplies by 1000). Never guessed by read_events: a plain [N, 4] array could be anything."""
    path, given = _existing(path), _check_sensor_size(sensor_size)
    array = _load_numpy(path).get("", np.empty(0))
    if array.ndim != 2 or array.shape[1] != 4 or array.dtype.kind not in "biuf":
        raise _fail(path, f"has {_described(array)}; expected tonic's DVSGesture [N, 4] array (x, y, p, t in ms)")
    events = np.empty(len(array), dtype=[("x", array.dtype), ("y", array.dtype), ("t", "<f8"), ("p", array.dtype)])
    events["x"], events["y"], events["p"] = array[:, 0], array[:, 1], array[:, 2]
    events["t"] = np.round(array[:, 3].astype(np.float64) * 1000.0)
    return _recording(path, events, "dvs-gesture-npy", given=given, stated=DVS_GESTURE_SENSOR)


def _shd_events(path: str, index: int, times: np.ndarray, units: np.ndarray) -> np.ndarray:
    """One SHD sample as EVENT_DTYPE: x = unit, y = 0, p = 0, t = round(seconds * 1e6); sorted (stable)."""
    times, units = np.asarray(times, dtype=np.float64), np.asarray(units)
    if times.shape != units.shape or times.ndim != 1:
        raise _fail(path, f"sample {index} has {times.size} times but {units.size} units; expected one unit per time")
    if not np.all(np.isfinite(times)) or units.dtype.kind not in "iu":
        raise _fail(path, f"sample {index} has non-finite times or non-integer units; expected seconds and unit ids")
    events = np.zeros(len(times), dtype=EVENT_DTYPE)
    events["x"], events["t"] = units, np.round(times * 1e6)
    if len(events) and (events["x"].min() < 0 or events["x"].max() >= SHD_UNITS):
        raise _fail(path, f"sample {index} has units {events['x'].min()}..{events['x'].max()}; expected 0..699")
    return events[np.argsort(events["t"], kind="stable")]


@contextlib.contextmanager
def _shd_file(path: str, whole: bool = True):
    """The open h5py File after checking all of it (``hdf5_safety``: no data outside the file, no link, real
    numbers but SHD's spike lists and ``extra/`` strings, decoded sizes within ``SNN_MAX_FILE_DECODE_MB``) and
    that it has the SHD keys; ValueError for anything else. ``whole``: the spike lists are measured too (a reader
    of one sample needs not: one element is at most the file's size)."""
    import h5py

    from ..hdf5_safety import HDF5Refusal, open_checked

    with contextlib.ExitStack() as stack:
        try:
            handle = stack.enter_context(open_checked(path, what=path, strings=("extra/*",), sequences=SHD_KEYS[:2],
                                                      measure=whole))
        except HDF5Refusal as problem:
            raise EventFileError(str(problem)) from None
        missing = [key for key in SHD_KEYS
                   if not isinstance(_library(path, "h5py could not read it", lambda: handle.get(key)), h5py.Dataset)]
        if missing:
            raise _fail(path, f"has no {', '.join(missing)}; expected the SHD layout {', '.join(SHD_KEYS)}")
        lengths = {key: len(handle[key]) for key in SHD_KEYS}
        if len(set(lengths.values())) != 1:
            raise _fail(path, f"has {lengths} entries; expected as many times, units and labels")
        yield handle


def _shd_read(path: str, read: Callable, whole: bool = True):
    """``read(handle)`` on an open SHD file (``whole``: see ``_shd_file``); h5py's own errors (corrupt datasets)
    become ValueError."""
    with _shd_file(path, whole) as handle:
        return _library(path, "h5py could not read it as SHD", lambda: read(handle))


def read_shd(path, *, sensor_size=None, sample: int = 0) -> Recording:
    """Sample ``sample`` of a Spiking Heidelberg Digits ``.h5``, with its label; sensor 700x1, one polarity."""
    path, given = _existing(path), _check_sensor_size(sensor_size)

    def read(handle):
        count = len(handle["labels"])
        if isinstance(sample, bool) or not isinstance(sample, numbers.Integral) or not 0 <= sample < count:
            raise _fail(path, f"sample {sample!r} is out of range; the file holds {count} samples (0..{count - 1})")
        events = _shd_events(path, sample, handle["spikes/times"][sample], handle["spikes/units"][sample])
        return events, int(handle["labels"][sample]), count

    events, label, count = _shd_read(path, read, whole=False)
    return _recording(path, events, "shd-h5", given=given, stated=(SHD_UNITS, 1), polarities=1, label=label,
                      samples=count)


def shd_samples(path) -> tuple[list[np.ndarray], np.ndarray]:
    """Every sample of an SHD ``.h5`` as EVENT_DTYPE arrays (x = unit, y = 0, p = 0, t = round(seconds * 1e6),
    sorted), and the labels as int64. A sample without spikes is an empty array, not an error."""
    path = _existing(path)

    def read(handle):
        times, units = handle["spikes/times"][:], handle["spikes/units"][:]
        labels = np.asarray(handle["labels"][:]).astype(np.int64)
        return [_shd_events(path, i, times[i], units[i]) for i in range(len(labels))], labels

    return _shd_read(path, read)


READERS: dict[str, Callable[..., Recording]] = {
    ".bin": read_bin, ".raw": read_raw, ".dat": read_dat, ".aedat4": read_aedat4, ".npy": read_numpy,
    ".npz": read_numpy, ".h5": read_shd, ".hdf5": read_shd,
}
SUFFIXES = tuple(READERS)


def read_events(path, *, sensor_size: tuple[int, int] | None = None, sample: int = 0) -> Recording:
    """Read one event file, the reader picked by its suffix (``READERS``). ``sensor_size`` (W, H) overrides the
    size a header states; ``sample`` picks a sample of an SHD file (other files hold one recording)."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in READERS:
        raise _fail(path, f"unknown suffix {suffix!r}; allowed: {', '.join(SUFFIXES)}")
    return READERS[suffix](path, sensor_size=sensor_size, sample=sample)


def describe(rec: Recording) -> dict:
    """What ``python -m snn_core inspect`` prints: counts, size and time span, all plain JSON values.
    SHD has one polarity (P = 1): every spike counts as "off" and "on" is 0."""
    t = rec.events["t"]
    on = int(np.count_nonzero(rec.events["p"] == 1))
    info = {
        "file": os.path.basename(rec.path), "format": rec.format, "events": len(rec.events),
        "sensor_size": [int(v) for v in rec.sensor_size], "duration_us": int(t[-1] - t[0]),
        "t_first": int(t[0]), "t_last": int(t[-1]), "polarity_counts": {"off": len(t) - on, "on": on},
        "sorted_on_read": rec.sorted_on_read,
    }
    if rec.samples is not None:
        info.update(samples=rec.samples, label=rec.label)
    return info
