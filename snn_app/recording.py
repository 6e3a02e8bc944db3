"""Open a recording: an uploaded or local event file (or a zip of them) made safe to read, read and framed
(cached), and the session's trained model run on it. ``SAMPLES`` are recordings bundled with the repository
(data/samples, one of each format), so the page opens something on a fresh clone with nothing fetched.

The readers take paths (expelliarmus reads only files), so an upload is written to a temporary folder that
the session owns and that is removed when the session lets go of it. A zip names its own paths and sizes, so
it is extracted with guards: every member's path must stay inside the folder (no ``..``, no absolute path, no
link: "zip slip"), the archive may hold at most ``MAX_ZIP_FILES`` files, and the event files may expand to at
most ``MAX_ZIP_MB``: first as the zip's directory states each member's size and compression ratio (at most
``MAX_ZIP_RATIO`` to 1 for a member over ``RATIO_FROM_MB``), before anything is extracted, then again counted as
bytes are written (a header may understate a member: a zip bomb).
Every refusal is a ValueError naming the file (and member) and the limit, which the page shows as it is.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np
import streamlit as st
import torch

from snn_core.config.run_config import DataConfig
from snn_core.data import DATASETS
from snn_core.data.folders import BUNDLED_SAMPLES
from snn_core.data.framing import FrameSpec, frame_events, frame_shape, framed_size, spec_of
from snn_core.data.readers import SUFFIXES, Recording, read_events
from snn_core.data.real import HEADER_FORMATS
from snn_core.files import MEGABYTE, megabytes, member_path
from snn_core.network.records import Trace
from snn_core.training.trainer import Trainer

MAX_UPLOAD_MB = 200          # Streamlit's own server.maxUploadSize default; checked here too (a local path has none)
MAX_ZIP_FILES = 2_000        # members of an archive, folders not counted
MAX_ZIP_MB = 1_024           # uncompressed size of the event files extracted from one archive
MAX_ZIP_RATIO = 100          # stated size / compressed size of one member (event files compress 2 to 10 to 1)
RATIO_FROM_MB = 1            # the ratio is checked for members stating more than this (tiny files compress well)
ARCHIVE = ".zip"
ACCEPTED = (*SUFFIXES, ARCHIVE)
VIEW_MAX_SIDE = 128          # a larger framed view is downsampled for the page (an image per time step is sent)
VIEW_MAX_ROW = 4_096         # a 1-row sensor (SHD's 700 channels) is shown at its width up to this, else downsampled
SKIPPED_MEMBERS = ("__MACOSX/",)    # macOS resource forks: "._name.bin" copies that hold no events
FIXED_SENSOR_FORMATS = ("shd-h5", "dvs-gesture-npy")     # read with their dataset's sensor size
# one bundled recording of each format the page opens, by the name the page offers (data/samples/SOURCES.md)
SAMPLES = {"N-MNIST digit 0 (.bin, 34x34)": "nmnist/Train/0/00002.bin",
           "Prophesee EVT 2.0 (.raw, 640x480)": "dvs_recordings/prophesee_gen3_evt2.raw",
           "Prophesee EVT 3.0 (.raw, 1280x720)": "dvs_recordings/prophesee_gen41_evt3.raw",
           "iniVation AEDAT 4 (.aedat4, 320x240)": "dvs_recordings/inivation_320x240.aedat4",
           "decoded EVT 3.0 events (.npy, 1280x720)": "dvs_recordings/prophesee_gen41_evt3_decoded.npy",
           "DVS128 clip, unlabelled (.bin, 128x128)": "dvs128_clips_unlabeled/clip_01.bin"}
EXAMPLE_SAMPLE = "nmnist/Train/0/00002.bin"


@dataclass(frozen=True)
class Opened:
    """What the user opened: the name shown, its event files, and the folder that owns them when temporary."""

    name: str
    files: tuple[Path, ...]                                   # readable event files, sorted
    root: Path                                                # the files are listed relative to it
    owner: tempfile.TemporaryDirectory | None = None          # removes the folder when the last reference goes

    def label(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def shown(self, message: str) -> str:
        """A reader's message with the temporary folder left out, so it names the file the user gave."""
        return message.replace(f"{self.root}{os.sep}", "") if self.owner else message


# ------------------------------------------------------------------------------------------------ archives


def _member_target(info: zipfile.ZipInfo, dest: Path, archive: str) -> Path:
    """Where a member would be written; ValueError for a path that leaves ``dest`` or a link."""
    name = info.filename
    target = member_path(archive, name, dest, where="the extraction folder (zip slip)").resolve()
    if not target.is_relative_to(dest):
        raise ValueError(f"{archive}: member {name!r} would be written outside the extraction folder (zip slip); "
                         "allowed: relative paths inside the archive, without '..' or a leading '/'")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ValueError(f"{archive}: member {name!r} is a symbolic link; allowed: regular files only")
    return target


def _wanted(info: zipfile.ZipInfo) -> bool:
    """An event file to extract: a readable suffix, not a folder or a macOS resource fork."""
    name = info.filename.replace("\\", "/")
    return (not info.is_dir() and PurePosixPath(name).suffix.lower() in SUFFIXES
            and not name.startswith(SKIPPED_MEMBERS) and not PurePosixPath(name).name.startswith("._"))


def extract_zip(archive: str | os.PathLike | BinaryIO, dest: Path, *, name: str = "the archive",
                max_files: int = MAX_ZIP_FILES, max_mb: float = MAX_ZIP_MB) -> list[Path]:
    """Extract the event files of a zip into ``dest`` (an empty folder) after checking every member; returns the
    files written, sorted. ``name`` is how errors call the archive. Nothing but event files is written."""
    dest, limit = Path(dest).resolve(), max_mb * MEGABYTE
    try:
        handle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, EOFError) as problem:
        raise ValueError(f"{name}: is not a readable zip archive ({problem}); allowed: a .zip of event files "
                         f"({', '.join(SUFFIXES)})") from None
    with handle:
        members = handle.infolist()
        files = sum(not info.is_dir() for info in members)
        if files > max_files:
            raise ValueError(f"{name}: holds {files:,} files; allowed: at most {max_files:,} in one archive")
        targets = [(info, _member_target(info, dest, name)) for info in members]       # all checked first
        wanted = [(info, target) for info, target in targets if _wanted(info)]
        for info, _ in wanted:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FROM_MB * MEGABYTE and ratio > MAX_ZIP_RATIO:
                raise ValueError(f"{name}: member {info.filename[:100]!r} states {megabytes(info.file_size)} "
                                 f"compressed {ratio:,.0f} to 1 (a zip bomb); allowed: at most {MAX_ZIP_RATIO} to 1")
        stated = sum(info.file_size for info, _ in wanted)
        if stated > limit:
            raise ValueError(f"{name}: its event files expand to {megabytes(stated)}; allowed: at most "
                             f"{megabytes(limit)} from one archive")
        written = 0
        for info, target in wanted:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with handle.open(info) as source, open(target, "wb") as out:
                    while chunk := source.read(MEGABYTE):
                        written += len(chunk)
                        if written > limit:
                            raise ValueError(f"{name}: member {info.filename!r} expands past the {megabytes(limit)} "
                                             "limit (its header understates its size); allowed: at most "
                                             f"{megabytes(limit)} from one archive")
                        out.write(chunk)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, zlib.error) as problem:
                raise ValueError(f"{name}: member {info.filename!r} cannot be extracted ({problem}); allowed: "
                                 "unencrypted members, stored or deflated") from None
    if not wanted:
        raise ValueError(f"{name}: holds no event files; allowed: files ending in {', '.join(SUFFIXES)}")
    return sorted(target for _, target in wanted)


# ------------------------------------------------------------------------------------------------ sources


def _check_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in ACCEPTED:
        raise ValueError(f"{name}: unknown suffix {suffix!r}; allowed: {', '.join(ACCEPTED)}")
    return suffix


def open_upload(name: str, data: BinaryIO, size: int) -> Opened:
    """An uploaded file (``data``, ``size`` bytes) written to a new temporary folder, a zip extracted there."""
    name = Path(name).name                                     # a browser sends a bare name; never a path
    if size > MAX_UPLOAD_MB * MEGABYTE:
        raise ValueError(f"{name}: {megabytes(size)}; allowed: at most {MAX_UPLOAD_MB} MB per upload")
    suffix = _check_suffix(name)
    owner = tempfile.TemporaryDirectory(prefix="snn-recording-")
    root = Path(owner.name).resolve()
    try:
        if suffix == ARCHIVE:
            data.seek(0)
            files = extract_zip(data, root, name=name)
        else:
            path = root / (Path(name).stem + suffix)            # lower-case suffix: expelliarmus wants ".raw"
            data.seek(0)
            with open(path, "wb") as out:
                shutil.copyfileobj(data, out)
            files = [path]
    except BaseException:
        owner.cleanup()
        raise
    return Opened(name, tuple(files), root, owner)


def open_path(text: str) -> Opened:
    """A file on this machine: an event file as it is, or a zip extracted into a new temporary folder."""
    path = Path(text.strip()).expanduser()
    if not path.is_file():
        raise ValueError(f"{text.strip()}: no such file; allowed: the path of an event file ({', '.join(SUFFIXES)}) "
                         f"or of a {ARCHIVE} of them")
    if _check_suffix(str(path)) != ARCHIVE:
        return Opened(str(path), (path,), path.parent)
    owner = tempfile.TemporaryDirectory(prefix="snn-recording-")
    root = Path(owner.name).resolve()
    try:
        files = extract_zip(path, root, name=str(path))
    except BaseException:
        owner.cleanup()
        raise
    return Opened(str(path), tuple(files), root, owner)


def bundled_samples() -> dict[str, Path]:
    """The bundled sample recordings there are (a copy of the package without data/samples has none), by name."""
    return {name: BUNDLED_SAMPLES / part for name, part in SAMPLES.items() if (BUNDLED_SAMPLES / part).is_file()}


def shown_path(path: Path) -> str:
    """``path`` as the path field shows it: relative to the working folder when inside it (data/samples/...)."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def sample_named(path_text: str, samples: dict[str, Path]) -> str | None:
    """The name of the bundled sample that ``path_text`` points at, if it points at one."""
    if not path_text.strip():
        return None
    typed = Path(path_text.strip()).expanduser().resolve()
    return next((name for name, path in samples.items() if path.resolve() == typed), None)


def use_sample() -> None:
    """The sample picker's callback: its sample's path goes into the path field, which then opens it."""
    name = st.session_state.get("recording_sample")
    if name in SAMPLES:
        st.session_state.recording_path = shown_path(BUNDLED_SAMPLES / SAMPLES[name])


def source_in_use(upload, path_text: str) -> tuple[str, str] | None:
    """(the upload's name, the path left unused) when both an upload and a typed path are given: the upload is
    the one shown, and the page says so; None when there is only one (or neither)."""
    return (Path(upload.name).name, path_text.strip()) if upload is not None and path_text.strip() else None


def current(upload, path_text: str) -> Opened | None:
    """What the page shows: the upload when there is one, else the typed path; kept in the session while the
    same file is open, so a zip is extracted once. ValueError when it cannot be opened."""
    if upload is not None:
        key = ("upload", upload.file_id)
    elif path_text.strip():
        path = Path(path_text.strip()).expanduser()
        key = ("path", str(path), *stamp(path)) if path.is_file() else ("missing", str(path))
    else:
        st.session_state.recording_opened = None              # nothing open: its temporary folder can go
        _release()
        return None
    kept = st.session_state.get("recording_opened")
    if kept is not None and kept[0] == key:
        return kept[1]
    st.session_state.recording_opened = kept = None           # the previous temporary folder can go
    opened = open_upload(upload.name, upload, upload.size) if upload is not None else open_path(path_text)
    _admit(opened)
    st.session_state.recording_opened = (key, opened)
    return opened


DECODE_FACTOR = 16     # bytes in memory per byte of event file once read: 32-byte events (framing.EVENT_DTYPE) from
                       # EVT 3.0's 2-byte words; N-MNIST's 5-byte events and EVT 2.0's 4 take less


def _admit(opened: Opened) -> None:
    """Reserve the largest file's decoded size (one file is read at a time) in the server-wide memory ledger
    (``snn_core.config.budget``), released when the session lets ``opened`` go; ``AdmissionRefused`` (a ValueError
    the page shows) when the budget cannot take it now."""
    from snn_core.config import budget as admission

    from .state import owner

    old = st.session_state.get("admission:recording")
    largest = max(file.stat().st_size for file in opened.files)
    reservation = admission.LEDGER.reserve(
        largest * DECODE_FACTOR, f"this session's recording {opened.name}", kind="recording", owner=owner(),
        wait=admission.WAIT_SECONDS, replaces=old, lower="the file's size (a shorter recording)")
    if old is not None:
        old.release()
    st.session_state["admission:recording"] = reservation.attach(opened)


def _release() -> None:
    """Give back the session's recording reservation now (nothing is open any more)."""
    reservation = st.session_state.pop("admission:recording", None)
    if reservation is not None:
        reservation.release()


def stamp(path: Path) -> tuple[int, int]:
    """(modification time in ns, size): names a file's contents for the caches."""
    info = path.stat()
    return info.st_mtime_ns, info.st_size


# ------------------------------------------------------------------------------------------------ reading


@st.cache_resource(max_entries=2, show_spinner="Reading the recording...")
def read(path: str, file_stamp: tuple[int, int], sample: int = 0) -> Recording:
    """The recording in ``path`` (sample ``sample`` of an SHD file), events made read-only: the object is shared,
    not copied (a large file holds millions of events), so nothing may change it."""
    recording = read_events(path, sample=sample)
    recording.events.flags.writeable = False
    return recording


def view_spec(data: DataConfig, sensor: tuple[int, int, int]) -> tuple[FrameSpec, str]:
    """The framing the page shows: the sidebar's, so the user sees what a network would see; a 2-D view larger
    than ``VIEW_MAX_SIDE`` is downsampled to it (and the note says so)."""
    spec = spec_of(data)
    width, height = framed_size(sensor, spec.frame_size)
    side = VIEW_MAX_ROW if height == 1 else VIEW_MAX_SIDE
    if max(width, height) <= side:
        return spec, ""
    view = dataclasses.replace(spec, frame_size=side)
    shown = framed_size(sensor, side)
    return view, (f"shown downsampled to {shown[0]}x{shown[1]} ({side} px on the longer side); the "
                  f"sidebar's frame-size {spec.frame_size} frames it at {width}x{height}")


@st.cache_data(max_entries=8, show_spinner="Framing the recording...")
def frames(_recording: Recording, key: tuple, spec: FrameSpec, sensor: tuple[int, int, int]) -> np.ndarray:
    """uint8 ``[T, P, H, W]`` frames of the recording named by ``key`` (path, stamp, sample) on ``sensor``."""
    return frame_events(_recording.events, sensor, spec)


def sensor_source(recording: Recording) -> str:
    """Where the sensor size came from, for the page's help text."""
    if recording.format in HEADER_FORMATS:
        return "as the file's header states it (or, when it states none, the events' extent)"
    if recording.format in FIXED_SENSOR_FORMATS:
        return "the sensor of the format's dataset"
    return "the events' extent (largest x + 1, largest y + 1): this format states no sensor size"


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in shape)


# ------------------------------------------------------------------------------------------------ the model


@dataclass(frozen=True)
class ModelFit:
    """How the model would see a recording: its framing and sensor, or why it cannot (``reason``)."""

    spec: FrameSpec | None
    sensor: tuple[int, int, int] | None
    reason: str = ""


def model_sensor(recording: Recording, data: DataConfig) -> tuple[int, int, int]:
    """The sensor to frame on for a model: its dataset's fixed sensor (N-MNIST 34x34, ...) or the sensor it was
    given (event-folder's ``sensor``) when the recording's events lie on it, else the recording's own. A file
    without a header (N-MNIST .bin) states only its events' extent, which may be a pixel short of the sensor."""
    fixed = DATASETS[data.dataset].sensor or ((*data.sensor, 2) if len(data.sensor) == 2 else None)
    events = recording.events
    if fixed and fixed[2] == recording.sensor_size[2] and events["x"].max() < fixed[0] and events["y"].max() < fixed[1]:
        return tuple(int(v) for v in fixed)
    return recording.sensor_size


def model_fit(recording: Recording, trainer: Trainer) -> ModelFit:
    """Whether ``trainer``'s model can take the recording: framed with the model's own settings, its frames
    must have the shape the model was built for; otherwise the reason names both shapes and a way out."""
    data, cfg = trainer.dataset, trainer.cfg.data
    if not data.has_time_axis:
        real = ", ".join(name for name, info in DATASETS.items() if info.has_time_axis)
        return ModelFit(None, None, f"The model was trained on {cfg.dataset}: static images, encoded into spikes. "
                                    f"A recording needs a model trained on event frames; allowed: {real}.")
    spec, sensor = spec_of(cfg), model_sensor(recording, cfg)
    expected, got = tuple(data.frame_shape), frame_shape(sensor, spec)
    if got == expected:
        return ModelFit(spec, sensor)
    way_out = "train a model on recordings of this sensor"
    side = max(expected[1:])
    if got[0] == expected[0] and framed_size(sensor, side) == (expected[2], expected[1]):
        way_out = f"train the model with frame-size {side} (this recording then frames to {shape_text(expected)}), " \
                  f"or {way_out}"
    return ModelFit(None, None, f"The model expects {shape_text(expected)} frames (polarities x height x width; "
                                f"{cfg.dataset}, frame-size {cfg.frame_size}); this {sensor[0]}x{sensor[1]} "
                                f"recording frames to {shape_text(got)} with the model's settings. Allowed: a "
                                f"recording of the model's sensor, or {way_out}.")


@dataclass(frozen=True)
class Prediction:
    trace: Trace                      # the recording's internals, batch axis of one
    predicted: int
    probabilities: np.ndarray         # (classes,) softmax of the readout


@st.cache_data(max_entries=8, show_spinner="Running the recording through the network...")
def predict(_trainer: Trainer, weights: str, key: tuple, _frames: np.ndarray) -> Prediction:
    """The model's answer to the frames named by ``key`` under the weights named ``weights``
    (``explorer.weights_key``), with every layer recorded, in eval mode as the evaluation runs it."""
    x = torch.from_numpy(np.ascontiguousarray(_frames))[None]                  # (1, T, P, H, W)
    _trainer.model.eval()
    with torch.no_grad():
        out = _trainer.forward(x, None, record=torch.arange(1, device=_trainer.device))
    probabilities = torch.softmax(out.logits[0].float(), 0).cpu().numpy()
    return Prediction(out.trace, int(out.predictions[0]), probabilities)
