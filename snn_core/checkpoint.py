"""Trained models as safetensors: the weights plus, in the file's metadata, the config that built them."""
from __future__ import annotations

import json

from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from .config.run_config import RunConfig
from .methods.registry import build_model
from .network.protocol import Network

FORMAT = "snn-explorer/1"


def model_to_bytes(model: Network, cfg: RunConfig, frame_shape: tuple[int, ...], n_classes: int) -> bytes:
    """A safetensors file whose metadata holds the config, input frame shape and class count."""
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    metadata = {"format": FORMAT, "config": cfg.to_json(),
                "frame_shape": json.dumps(list(frame_shape)), "n_classes": str(n_classes)}
    return save_tensors(tensors, metadata=metadata)


def _metadata(data: bytes) -> dict:
    """The ``__metadata__`` of a safetensors file: its first 8 bytes give the JSON header's length."""
    try:
        length = int.from_bytes(data[:8], "little")
        return json.loads(data[8:8 + length]).get("__metadata__", {})
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a safetensors file: its header is not valid JSON") from None


def model_from_bytes(data: bytes) -> tuple[RunConfig, Network]:
    """Rebuild the network a ``model_to_bytes`` file describes and load its weights (on the CPU)."""
    metadata = _metadata(data)
    if metadata.get("format") != FORMAT:
        raise ValueError(f"not an SNN Explorer model file (format {metadata.get('format')!r}); expected {FORMAT!r}")
    cfg = RunConfig.from_dict(json.loads(metadata["config"]))
    model = build_model(cfg, tuple(json.loads(metadata["frame_shape"])), int(metadata["n_classes"]))
    model.load_state_dict(load_tensors(data))
    return cfg, model
