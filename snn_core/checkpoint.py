"""Trained models as safetensors: the weights plus, in the file's metadata, the config that built them.

Files come back from users (an upload on the Spike explorer), so reading one trusts nothing: the size is capped,
the header is parsed as plain JSON (safetensors holds no code: no pickle, no ``torch.load``), the format tag and
its version are checked, the config is validated and checked, and every tensor's shape is compared with the
network the config describes before a single weight is copied. Each refusal is a ValueError that names what was
wrong and what is allowed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from .config.check import runnable_config
from .config.run_config import RunConfig
from .methods.registry import build_model
from .network.protocol import Network

FORMAT_NAME = "snn-explorer"
FORMAT = f"{FORMAT_NAME}/1"
MAX_FILE_MB = 200             # the largest model file read (the default conv net on N-MNIST is well under 10 MB)
MAX_HEADER_BYTES = 100 * 2**20   # safetensors' own limit on the JSON header
METADATA_KEYS = ("format", "config", "frame_shape", "n_classes")


@dataclass(frozen=True)
class SavedModel:
    """What a model file holds: the config that built the network, its input and output sizes, and the weights."""

    cfg: RunConfig
    frame_shape: tuple[int, ...]
    n_classes: int
    tensors: dict[str, torch.Tensor]


def model_to_bytes(model: Network, cfg: RunConfig, frame_shape: tuple[int, ...], n_classes: int) -> bytes:
    """A safetensors file whose metadata holds the config, input frame shape and class count."""
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    metadata = {"format": FORMAT, "config": cfg.to_json(),
                "frame_shape": json.dumps(list(frame_shape)), "n_classes": str(n_classes)}
    return save_tensors(tensors, metadata=metadata)


def _header(data: bytes) -> dict:
    """The JSON header of a safetensors file: its first 8 bytes give the header's length (little-endian)."""
    if len(data) > MAX_FILE_MB * 2**20:
        raise ValueError(f"the file is {len(data) / 2**20:,.0f} MB; model files of at most {MAX_FILE_MB} MB are read")
    length = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if not 2 <= length <= min(len(data) - 8, MAX_HEADER_BYTES):
        raise ValueError("not a safetensors file: its first 8 bytes do not give the length of a header it holds")
    try:
        header = json.loads(data[8:8 + length])
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a safetensors file: its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise ValueError("not a safetensors file: its header is not a JSON object")
    return header


def _metadata(header: dict) -> dict:
    """The file's ``__metadata__``, checked to be an SNN Explorer model of this version with every key present."""
    metadata = header.get("__metadata__")
    tag = metadata.get("format") if isinstance(metadata, dict) else None
    if not isinstance(tag, str) or not tag.startswith(f"{FORMAT_NAME}/"):
        found = "no format tag" if tag is None else f"format {tag!r}"
        raise ValueError(f"not an SNN Explorer model file ({found}); expected format {FORMAT!r}, "
                         "as saved by Train & watch's 'model (safetensors)' download")
    if tag != FORMAT:
        raise ValueError(f"an SNN Explorer model file of another version ({tag!r}); this version reads {FORMAT!r}")
    missing = [key for key in METADATA_KEYS if not isinstance(metadata.get(key), str)]
    if missing:
        raise ValueError(f"the model file's metadata lacks {missing}; a {FORMAT!r} file has {list(METADATA_KEYS)}")
    return metadata


def _config(text: str) -> RunConfig:
    """The config stored in a model file, validated field by field and checked as a whole."""
    try:
        tree = json.loads(text)
    except ValueError as problem:
        raise ValueError(f"the model file's config is not JSON: {problem}") from None
    return runnable_config(tree, "the model file's config")


def _sizes(metadata: dict) -> tuple[tuple[int, ...], int]:
    """The input frame shape and class count stored in a model file."""
    try:
        frame_shape = tuple(int(n) for n in json.loads(metadata["frame_shape"]))
        n_classes = int(metadata["n_classes"])
    except (ValueError, TypeError):
        raise ValueError(f"the model file's frame_shape {metadata['frame_shape']!r} or n_classes "
                         f"{metadata['n_classes']!r} is not a list of sizes and a count") from None
    if not frame_shape or min(frame_shape) < 1 or n_classes < 2:
        raise ValueError(f"the model file's frame_shape {list(frame_shape)} or n_classes {n_classes} is out of range; "
                         "sizes are positive and there are at least 2 classes")
    return frame_shape, n_classes


def read_model_file(data: bytes) -> SavedModel:
    """The config, sizes and weights of a ``model_to_bytes`` file, every part checked (on the CPU)."""
    metadata = _metadata(_header(data))
    cfg = _config(metadata["config"])
    frame_shape, n_classes = _sizes(metadata)
    try:
        tensors = load_tensors(data)
    except SafetensorError as problem:
        raise ValueError(f"the model file's tensors cannot be read: {problem}") from None
    return SavedModel(cfg, frame_shape, n_classes, tensors)


def load_weights(model: Network, tensors: dict[str, torch.Tensor]) -> None:
    """Copy ``tensors`` into ``model`` after checking that they are exactly its tensors, shape for shape."""
    wanted = model.state_dict()
    missing, extra = sorted(set(wanted) - set(tensors)), sorted(set(tensors) - set(wanted))
    if missing or extra:
        raise ValueError(f"the model file's tensors do not match the network its config describes: "
                         f"missing {missing[:5]}, unexpected {extra[:5]}")
    for name, target in wanted.items():
        if tuple(tensors[name].shape) != tuple(target.shape):
            raise ValueError(f"tensor {name!r} has shape {list(tensors[name].shape)} in the file, but the network "
                             f"its config describes needs {list(target.shape)}")
    model.load_state_dict(tensors)


def model_from_bytes(data: bytes) -> tuple[RunConfig, Network]:
    """Rebuild the network a ``model_to_bytes`` file describes and load its weights (on the CPU)."""
    saved = read_model_file(data)
    model = build_model(saved.cfg, saved.frame_shape, saved.n_classes)
    load_weights(model, saved.tensors)
    return saved.cfg, model
