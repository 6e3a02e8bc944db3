"""Files in and out: a saved model (``checkpoint``, safetensors) to a ``.nir`` file and back, for the CLI's
``export`` and ``import`` commands and the app's downloads. Each returns a JSON-ready summary of what it did."""
from __future__ import annotations

from pathlib import Path

from ..checkpoint import MAX_FILE_MB, load_weights, model_from_bytes, model_to_bytes, read_model_file
from ..config.run_config import RunConfig
from ..methods.registry import build_model
from .nir_graph import DT, export_nir, graph_from_bytes, graph_to_bytes
from .nir_import import import_nir


def _read(path: str, what: str) -> bytes:
    """The bytes of ``path``, at most ``MAX_FILE_MB`` (+1 byte to notice a larger file); OSError naming ``what``."""
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_FILE_MB * 2**20 + 1)
    except OSError as problem:
        raise OSError(f"{what} {path}: cannot read it ({problem.strerror or problem})") from None


def _write(path: str, data: bytes, what: str) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as problem:
        raise OSError(f"{what} {path}: cannot write it ({problem.strerror or problem})") from None


def nir_bytes_of_model(data: bytes, dt: float = DT) -> bytes:
    """The ``.nir`` file of a saved model file (``checkpoint.model_to_bytes``); ValueError for what NIR cannot
    express (``nir_graph.exportable``) or a file that is no model of ours."""
    saved = read_model_file(data)
    model = build_model(saved.cfg, saved.frame_shape, saved.n_classes)
    load_weights(model, saved.tensors)
    return graph_to_bytes(export_nir(model.eval(), saved.cfg, saved.frame_shape, dt))


def model_bytes_of_nir(data: bytes, base: RunConfig | None = None, dt: float | None = None,
                       reset: str | None = None) -> bytes:
    """A saved model file (safetensors, ``snn-explorer/1``) of a ``.nir`` file's network (``nir_import``; ``reset``:
    the reset of neurons whose node states none, "hard" or "subtract")."""
    saved = import_nir(graph_from_bytes(data), base, dt, reset)
    model = build_model(saved.cfg, saved.frame_shape, saved.n_classes)
    load_weights(model, saved.tensors)
    return model_to_bytes(model, saved.cfg, saved.frame_shape, saved.n_classes)


def export_file(model_path: str, out: str, dt: float = DT) -> dict:
    """``export --format nir``: read ``model_path`` (safetensors), write the NIR graph to ``out``."""
    graph_data = nir_bytes_of_model(_read(model_path, "--model"), dt)
    _write(out, graph_data, "--out")
    graph = graph_from_bytes(graph_data)
    return {"model": model_path, "out": out, "format": "nir", "dt": dt, "bytes": len(graph_data),
            "nodes": {name: type(node).__name__ for name, node in graph.nodes.items()}}


def import_file(nir_path: str, out: str, base: RunConfig | None = None, dt: float | None = None,
                reset: str | None = None) -> dict:
    """``import``: read a ``.nir`` file, write the network as a model file (safetensors) to ``out``."""
    model_data = model_bytes_of_nir(_read(nir_path, "--model"), base, dt, reset)
    _write(out, model_data, "--out")
    saved_cfg, _ = model_from_bytes(model_data)
    return {"model": nir_path, "out": out, "format": "safetensors", "bytes": len(model_data),
            "config": saved_cfg.to_dict()}
