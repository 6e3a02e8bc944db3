"""Open saved work: a run or config JSON sets the sidebar, a model file from Train & watch, or a NIR graph
(``.nir``, e.g. a network trained in snnTorch or Norse; ``snn_core.interop``), opens in the explorer.

What the app saves comes back as bytes (an upload, or a file on the server's disk). ``read`` turns them into an
``Opened`` (or a ValueError naming what was wrong and what is allowed) before the session is touched, so a file
that cannot be opened leaves the session's config and model as they were. ``put_in_session`` then sets the
sidebar's widgets, which Streamlit allows only before they are drawn: the page calls it from a widget callback.
"""
from __future__ import annotations

import hashlib
import json
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from snn_core.checkpoint import MAX_FILE_MB, load_weights, read_model_file
from snn_core.config.check import runnable_config
from snn_core.config.run_config import RunConfig, section_names
from snn_core.interop.nir_files import model_bytes_of_nir
from snn_core.interop.nir_import import ResetAssumed
from snn_core.training.trainer import Trainer

from . import sidebar, training
from .text import escape_markdown

MAX_UPLOAD_MB = MAX_FILE_MB       # a model of the largest network the sidebar allows fits well under it
SUFFIXES = ("json", "safetensors", "nir")
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"      # a .nir file is HDF5
CONFIG_KEYS = ("config", "base")  # run.json / sweep JSON: "config"; compare JSON: "base" (its variant is one edit)
NOT_OURS = ("expected a run or config JSON (run.json, config.json, or a compare or sweep JSON) or a model file "
            "(.safetensors) saved by Train & watch, or a NIR graph (.nir)")


@dataclass(frozen=True)
class Opened:
    """A saved file that was read: its name, what it is (``"settings"`` or ``"model"``), its config, and for a
    model the trainer holding its weights (untrained further: step 0); ``digest`` names the file's bytes."""

    name: str
    kind: str
    cfg: RunConfig
    trainer: Trainer | None
    digest: str


def config_from_json(data: bytes) -> RunConfig:
    """The config of a run, config, compare or sweep JSON the app or the CLI wrote, validated and checked."""
    try:
        tree = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):       # RecursionError: nested thousands deep
        raise ValueError(f"not a JSON file (or one nested too deeply to be a config): {NOT_OURS}") from None
    if isinstance(tree, dict) and not (tree and set(tree) <= set(section_names())):
        tree = next((tree[key] for key in CONFIG_KEYS if isinstance(tree.get(key), dict)), None)
    if not isinstance(tree, dict):
        raise ValueError(f"a JSON file without a config: {NOT_OURS}; a config has the sections {section_names()}")
    return runnable_config(tree, "its config")


def trainer_from_model_file(data: bytes) -> Trainer:
    """A trainer of the model file's config (its dataset loaded as the config says) holding the file's weights."""
    saved = read_model_file(data)
    with training.framing_bar():               # reserved in the server's ledger, as every run the app makes
        trainer = training.admitted(saved.cfg, "opened model", lambda: Trainer(saved.cfg))
    found = (tuple(trainer.dataset.frame_shape), trainer.dataset.n_classes)
    if found != (saved.frame_shape, saved.n_classes):
        raise ValueError(f"the model was saved for inputs {list(saved.frame_shape)} and {saved.n_classes} classes, "
                         f"but its dataset here gives {list(found[0])} and {found[1]}")
    load_weights(trainer.model, saved.tensors)
    return trainer


def read(name: str, data: bytes, base: RunConfig | None = None) -> Opened:
    """Open ``data`` (a file called ``name``): JSON by its first character, a NIR graph by the HDF5 signature (a
    graph from elsewhere completed by ``base``: dataset, T, ...), else a safetensors model."""
    if len(data) > MAX_UPLOAD_MB * 2**20:
        raise ValueError(f"{name} is {len(data) / 2**20:,.0f} MB; saved files of at most {MAX_UPLOAD_MB} MB are "
                         "opened")
    digest = hashlib.sha256(data).hexdigest()[:16]
    if data.lstrip()[:1] == b"{":
        return Opened(name, "settings", config_from_json(data), None, digest)
    if data.startswith(HDF5_SIGNATURE):
        data = model_bytes_of_nir(data, base)
    if len(data) > 8 and data[8:9] == b"{":                  # safetensors: 8 bytes of header length, then JSON
        trainer = trainer_from_model_file(data)
        return Opened(name, "model", trainer.cfg, trainer, digest)
    raise ValueError(f"it is not a file SNN Explorer saves: {NOT_OURS}")


def read_path(text: str, base: RunConfig | None = None) -> Opened:
    """Open a saved file on the server's disk, its size checked before it is read."""
    path = Path(text.strip()).expanduser()
    if not path.is_file():
        raise ValueError(f"no file at {path}; give the path of a .json, .safetensors or .nir file the server can read")
    if path.stat().st_size > MAX_UPLOAD_MB * 2**20:
        raise ValueError(f"{path.name} is {path.stat().st_size / 2**20:,.0f} MB; saved files of at most "
                         f"{MAX_UPLOAD_MB} MB are opened")
    return read(path.name, path.read_bytes(), base)


def put_in_session(opened: Opened) -> None:
    """The sidebar takes the file's settings; a model also becomes the session's model (paused, a fresh log)."""
    sidebar.seed_widgets(opened.cfg)
    st.session_state.config = opened.cfg
    if opened.trainer is not None:
        st.session_state.trainer = opened.trainer        # the live run pauses and starts fresh logs (state.live_run)
        st.session_state.opened_model = (opened.name, opened.digest, weakref.ref(opened.trainer))


def opened_model(trainer: Trainer) -> tuple[str, str] | None:
    """``(file name, digest)`` when ``trainer`` is the model opened from a file (a weak reference: a trainer the
    session replaced is not kept alive by it), else None."""
    opened = st.session_state.get("opened_model")
    if opened is None or opened[2]() is not trainer:
        return None
    return opened[0], opened[1]


def _open(name: str, load) -> None:
    """Open a saved file with ``load()`` and put it in the session, or keep the session as it is and say why."""
    try:
        with st.spinner(f"Opening {name}..."), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResetAssumed)
            opened = load()
    except (ValueError, OSError) as problem:                   # OSError: a path the server may not read
        st.session_state.saved_message = ("error", escape_markdown(f"Cannot open {name}: {problem}", 2000))
        return
    put_in_session(opened)
    what = ("its model is open below, and the sidebar has its settings" if opened.kind == "model"
            else "the sidebar has its settings; train them on **Train & watch**")
    assumed = [escape_markdown(str(w.message), 1000) for w in caught if issubclass(w.category, ResetAssumed)]
    st.session_state.saved_message = ("warning" if assumed else "success",
                                      f"Opened **{escape_markdown(opened.name, 2000)}**: {what}."
                                      + "".join(f"\n\nNote: {note}" for note in assumed))


def open_upload() -> None:
    """File uploader callback (``saved_upload``): open the uploaded file; removing it changes nothing."""
    upload = st.session_state.get("saved_upload")
    if upload is not None:
        _open(upload.name, lambda: read(upload.name, upload.getvalue(), st.session_state.get("config")))


def open_path() -> None:
    """Path field callback (``saved_path``): open the file at the typed path."""
    text = st.session_state.get("saved_path", "").strip()
    if text:
        _open(Path(text).name, lambda: read_path(text, st.session_state.get("config")))
