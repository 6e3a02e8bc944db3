"""Trained models as safetensors: the weights plus, in the file's metadata, the config that built them.

Files come back from users (an upload on the Spike explorer), so reading one trusts nothing: the size is capped,
the header is parsed as plain JSON (safetensors holds no code: no pickle, no ``torch.load``), the format tag and
its version are checked, the config is validated and checked, the sizes are type- and range-checked, and every
tensor's name and shape in the header is compared with the network the config describes, built on PyTorch's
``meta`` device (shapes without memory), before a weight is read or a real network is built: a file claiming
10^9 classes is refused, never allocated. Each refusal is a ValueError that names what was wrong and what is
allowed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from .config.check import runnable_config
from .config.run_config import RunConfig, json_kind, parse_config_json, shown
from .methods.registry import build_model
from .network.protocol import Network

FORMAT_NAME = "snn-explorer"
FORMAT = f"{FORMAT_NAME}/1"
MAX_FILE_MB = 200             # the largest model file read (the default conv net on N-MNIST is well under 10 MB)
MAX_HEADER_BYTES = 100 * 2**20   # safetensors' own limit on the JSON header
METADATA_KEYS = ("format", "config", "frame_shape", "n_classes")
MAX_CLASSES = 10_000          # a class count above it is no dataset the app reads (the largest has 35 classes)
MAX_SIDE = 65_535             # the largest sensor side or channel count a config allows
MAX_FRAME_DIMS = 3            # (features,), (channels, height, width) or (channels, length)


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
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError("not a safetensors file: its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise ValueError("not a safetensors file: its header is not a JSON object")
    return header


def _metadata(header: dict) -> dict:
    """The file's ``__metadata__``, checked to be an SNN Explorer model of this version with every key present."""
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict):
        metadata = {}                     # no metadata object: reported below as "no format tag"
    tag = metadata.get("format")
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
    return runnable_config(parse_config_json(text, "the model file's config"), "the model file's config")


def _sizes(metadata: dict) -> tuple[tuple[int, ...], int]:
    """The input frame shape and class count stored in a model file: JSON integers (never booleans or 64.5)
    within the caps, checked before anything is built from them."""
    try:
        frame_shape = json.loads(metadata["frame_shape"])
        n_classes = json.loads(metadata["n_classes"])
    except (ValueError, RecursionError):
        raise ValueError(f"the model file's frame_shape {shown(metadata['frame_shape'])} or n_classes "
                         f"{shown(metadata['n_classes'])} is not JSON; allowed: a list of sizes such as [2, 32, 32] "
                         "and a count such as 10") from None
    if not (isinstance(frame_shape, list) and 1 <= len(frame_shape) <= MAX_FRAME_DIMS
            and all(_whole(n, 1, MAX_SIDE) for n in frame_shape)):
        raise ValueError(f"the model file's frame_shape {shown(frame_shape)} is not valid; allowed: a list of 1 to "
                         f"{MAX_FRAME_DIMS} integers in 1..{MAX_SIDE}")
    if not _whole(n_classes, 2, MAX_CLASSES):
        raise ValueError(f"the model file's n_classes {shown(n_classes)} ({json_kind(n_classes)}) is not valid; "
                         f"allowed: an integer in 2..{MAX_CLASSES}")
    return tuple(frame_shape), n_classes


def _whole(value, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _header_shapes(header: dict) -> dict[str, tuple]:
    """Tensor name -> shape as the file's header states it (``__metadata__`` aside); ValueError if malformed."""
    shapes = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not (isinstance(shape, list) and all(_whole(n, 0, 2**40) for n in shape)):
            raise ValueError(f"not a safetensors file: tensor {shown(name, 60)} has no list of sizes as its shape")
        shapes[name] = tuple(shape)
    return shapes


def expected_shapes(cfg: RunConfig, frame_shape: tuple[int, ...], n_classes: int) -> dict[str, tuple]:
    """Tensor name -> shape of the network ``cfg`` describes, built on the ``meta`` device: no memory is
    allocated whatever the sizes (a 10^9-class readout is only a shape there)."""
    with torch.device("meta"):
        model = build_model(cfg, frame_shape, n_classes)
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


def compare_shapes(found: dict[str, tuple], wanted: dict[str, tuple]) -> None:
    """ValueError unless ``found`` has exactly the tensors of ``wanted``, shape for shape."""
    missing, extra = sorted(set(wanted) - set(found)), sorted(set(found) - set(wanted))
    if missing or extra:
        raise ValueError(f"the model file's tensors do not match the network its config describes: "
                         f"missing {missing[:5]}, unexpected {[shown(name, 60) for name in extra[:5]]}")
    for name, shape in wanted.items():
        if tuple(found[name]) != tuple(shape):
            raise ValueError(f"tensor {name!r} has shape {list(found[name])} in the file, but the network "
                             f"its config describes needs {list(shape)}")


def read_model_file(data: bytes) -> SavedModel:
    """The config, sizes and weights of a ``model_to_bytes`` file, every part checked (on the CPU): the metadata,
    then the header's tensor shapes against the network they must fill, and only then the weights."""
    header = _header(data)
    metadata = _metadata(header)
    cfg = _config(metadata["config"])
    frame_shape, n_classes = _sizes(metadata)
    compare_shapes(_header_shapes(header), expected_shapes(cfg, frame_shape, n_classes))
    try:
        tensors = load_tensors(data)
    except SafetensorError as problem:
        raise ValueError(f"the model file's tensors cannot be read: {_one_line(problem)}") from None
    return SavedModel(cfg, frame_shape, n_classes, tensors)


def _one_line(problem: Exception) -> str:
    text = " ".join(str(problem).split())
    return text if len(text) <= 300 else text[:299] + "…"


def load_weights(model: Network, tensors: dict[str, torch.Tensor]) -> None:
    """Copy ``tensors`` into ``model`` after checking that they are exactly its tensors, shape for shape."""
    compare_shapes({name: tuple(t.shape) for name, t in tensors.items()},
                   {name: tuple(t.shape) for name, t in model.state_dict().items()})
    model.load_state_dict(tensors)


def model_from_bytes(data: bytes) -> tuple[RunConfig, Network]:
    """Rebuild the network a ``model_to_bytes`` file describes and load its weights (on the CPU)."""
    saved = read_model_file(data)
    model = build_model(saved.cfg, saved.frame_shape, saved.n_classes)
    load_weights(model, saved.tensors)
    return saved.cfg, model
