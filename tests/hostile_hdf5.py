"""Hostile HDF5 files, built on purpose: one definition for the tests (tests/core/test_hdf5_safety.py,
tests/core/interop/test_nir_hdf5_safety.py, tests/test_robustness_inputs.py) and for benchmarks/reliability.py.

Each builder writes one file at ``path`` and returns ``path``. Two canaries stand for a file of the server's that
must never leak: ``write_canaries(folder)`` writes ``canary.bin`` (raw bytes: ``CANARY`` repeated) and
``canary.h5`` (an HDF5 file whose dataset ``/secret`` holds the same bytes as float32, ``/units`` as uint8). A
reader that follows a hostile file's pointer puts ``CANARY`` into what it returns; ``leaked(data)`` says whether
it did.

The legitimate files: ``legit_nir`` (a NIR graph 64 -> 16 LIF -> 10, as nir 1.0 writes it) and ``legit_shd``
(three SHD samples, variable-length spikes as in the SHD release; ``fixed=True``: (3, 16) arrays). The hostile
ones change one dataset of those (``replace``, one of ``FEATURES``):

- external storage (``create_dataset(..., external=[(canary.bin, 0, h5py.h5f.UNLIMITED)])``): the data is
  another file;
- a virtual dataset mapping ``canary.h5:/secret``; an external link to it; a soft link; a second hard link;
- a huge declared shape (10^9 float64, chunked and gzip-compressed, no chunk written: a few KB on disk);
- a chunk far larger than its dataset (16 MB for one element: maxshape unlimited, one element written);
- a dtype outside the allow-list (complex, compound, fixed bytes, opaque, object reference, array, vlen);
- for NIR, a node that is valid HDF5 but no network this engine runs (``tau = 0``).

``NAMED`` lists the security review's cases by format; ``hostile_file(path, base, changes, canaries)`` mixes
features for the generated test.
"""
from __future__ import annotations

from pathlib import Path

import h5py
import nir
import numpy as np

CANARY = b"SECRET-CANARY-01"                  # 16 ASCII bytes: as float32 they are finite numbers, as uint8 units
CANARY_BYTES = CANARY * 256                   # < 700 (SHD's channels): a reader that leaks them keeps them whole
WEIGHT = "node/nodes/fc1.synapse/weight"      # the legitimate NIR graph's first weight, (16, 64) float32
UNITS = "spikes/units"                        # the legitimate SHD file's units
SHD_SHAPE = (3, 16)                           # the fixed-size SHD layout: 3 samples of 16 spikes
FEATURES = ("external", "virtual", "external-link", "soft-link", "hard-link", "huge", "big-chunk", "complex",
            "compound", "bytes", "opaque", "reference", "array", "vlen")


def write_canaries(folder: Path) -> tuple[Path, Path]:
    """``canary.bin`` (raw) and ``canary.h5`` (``/secret``: the same bytes as (16, 64) float32; ``/units``: the
    first 48 as (3, 16) uint8)."""
    raw, h5 = Path(folder) / "canary.bin", Path(folder) / "canary.h5"
    raw.write_bytes(CANARY_BYTES)
    with h5py.File(h5, "w") as handle:
        handle["secret"] = np.frombuffer(CANARY_BYTES, "<f4").reshape(16, 64)
        handle["units"] = np.frombuffer(CANARY_BYTES[:48], np.uint8).reshape(SHD_SHAPE)
    return raw, h5


def leaked(data) -> bool:
    """Whether ``data`` (bytes, or an array of floats or small ints) holds 8 bytes in a row of the canary."""
    if isinstance(data, np.ndarray):
        pieces = [data.tobytes()]
        if data.dtype.kind in "iu" and data.size and data.min() >= 0 and data.max() < 256:
            pieces.append(data.astype(np.uint8).tobytes())
        return any(leaked(piece) for piece in pieces)
    return any(CANARY[i:i + 8] in bytes(data) for i in range(len(CANARY) - 7))


# --- the legitimate files --------------------------------------------------------------------------------------

def nir_graph(**lif_changes) -> nir.NIRGraph:
    """Input 64 -> fc1 (Affine 16x64, LIF tau 2, r 2) -> readout (Affine 10x16) -> Output."""
    lif = {"tau": 2.0, "r": 2.0, "v_leak": 0.0, "v_threshold": 1.0, **lif_changes}
    nodes = {"input": nir.Input(input_type={"input": np.array([64])}),
             "fc1.synapse": nir.Affine(weight=np.full((16, 64), 0.25, np.float32), bias=np.zeros(16, np.float32)),
             "fc1.neuron": nir.LIF(**{key: np.full(16, value, dtype=float) for key, value in lif.items()}),
             "readout": nir.Affine(weight=np.full((10, 16), 0.5, np.float32), bias=np.zeros(10, np.float32)),
             "output": nir.Output(output_type={"output": np.array([10])})}
    names = list(nodes)
    return nir.NIRGraph(nodes=nodes, edges=list(zip(names[:-1], names[1:])))


def legit_nir(path: Path, **lif_changes) -> Path:
    nir.write(path, nir_graph(**lif_changes))
    return Path(path)


def legit_shd(path: Path, fixed: bool = False) -> Path:
    """Three SHD samples (vlen times and units, as the SHD release); ``fixed``: (3, 16) float32/uint8 arrays."""
    with h5py.File(path, "w") as handle:
        if fixed:
            handle["spikes/times"] = np.tile(np.linspace(0.0, 0.5, SHD_SHAPE[1], dtype=np.float32), (3, 1))
            handle["spikes/units"] = np.arange(48, dtype=np.uint8).reshape(SHD_SHAPE)
        else:
            for name, rows, dtype in (("times", [[0.001, 0.0005, 0.25], [0.0, 1.2], [0.5]], np.float32),
                                      ("units", [[3, 699, 0], [10, 10], [42]], np.uint16)):
                data = handle.create_dataset(f"spikes/{name}", (3,), dtype=h5py.vlen_dtype(dtype))
                for i, row in enumerate(rows):
                    data[i] = np.asarray(row, dtype)
        handle["labels"] = np.array([7, 0, 19], np.uint8)
        handle["extra/keys"] = np.array([b"zero", b"one", b"two"])
    return Path(path)


# --- one hostile change -----------------------------------------------------------------------------------------

def replace(path: Path, name: str, feature: str, canaries: tuple[Path, Path]) -> Path:
    """Dataset ``name`` of the HDF5 file at ``path`` replaced by one of ``FEATURES`` (its shape and dtype kept
    where the feature allows; the canaries are where the pointers point)."""
    raw, h5 = canaries
    with h5py.File(path, "a") as handle:
        shape, dtype = handle[name].shape, handle[name].dtype
        plain = dtype.kind in "biuf" and dtype.names is None and dtype.subdtype is None
        small = bool(shape) and int(np.prod(shape, dtype=np.float64)) <= 4096      # not a "huge" one
        shape, dtype = (shape, dtype) if plain and small else ((16, 64), np.dtype("<f4"))
        parent, _, key = name.rpartition("/")
        group = handle[parent] if parent else handle
        del group[key]
        if feature == "external":
            group.create_dataset(key, shape, dtype, external=[(str(raw), 0, h5py.h5f.UNLIMITED)])
        elif feature == "virtual":
            layout = h5py.VirtualLayout(shape=(16, 64), dtype="<f4")
            layout[:] = h5py.VirtualSource(str(h5), "secret", shape=(16, 64))
            group.create_virtual_dataset(key, layout, fillvalue=0)
        elif feature == "external-link":
            group[key] = h5py.ExternalLink(str(h5), "/secret")
        elif feature == "soft-link":
            stash = _unused(handle, "stash")
            handle[stash] = np.zeros(shape, dtype)
            group[key] = h5py.SoftLink(f"/{stash}")
        elif feature == "hard-link":
            group[key] = np.zeros(shape, dtype)
            handle[_unused(handle, "alias")] = group[key]    # the same dataset under a second name
        elif feature == "huge":
            group.create_dataset(key, (10**9,), "<f8", chunks=(2**16,), compression="gzip")
        elif feature == "big-chunk":
            data = group.create_dataset(key, (1,), "<f4", maxshape=(None,), chunks=(2**22,), compression="gzip")
            data[0] = 1.0                                # one chunk of 16 MB (compressed to about 16 KB)
        else:
            _odd(group, key, feature, handle)
    return Path(path)


def _unused(handle: h5py.File, stem: str) -> str:
    return next(f"{stem}{i}" for i in range(len(handle) + 1) if f"{stem}{i}" not in handle)


def _odd(group: h5py.Group, key: str, feature: str, handle: h5py.File) -> None:
    """A small dataset of a dtype outside the allow-list."""
    if feature == "complex":
        group[key] = np.ones((16, 64), np.complex64)
    elif feature == "compound":
        group[key] = np.zeros((16, 64), dtype=[("a", "<f4"), ("b", "<i4")])
    elif feature == "bytes":
        group[key] = np.full((16, 64), b"1.0", dtype="S4")
    elif feature == "opaque":
        group[key] = np.zeros((16, 64), dtype="V4")
    elif feature == "reference":
        data = group.create_dataset(key, (4,), dtype=h5py.ref_dtype)
        data[0] = handle.ref
    elif feature == "array":
        group.create_dataset(key, (16,), dtype=np.dtype(("<f4", (64,))))      # an HDF5 array type
    elif feature == "vlen":
        data = group.create_dataset(key, (16,), dtype=h5py.vlen_dtype(np.float32))
        for i in range(16):
            data[i] = np.ones(64, np.float32)
    else:
        raise ValueError(f"unknown feature {feature!r}; allowed: {', '.join(FEATURES)}")


# --- the named hostile files (the security review's cases) -------------------------------------------------------

def nir_external_storage(path: Path, canaries: tuple[Path, Path]) -> Path:
    """fc1's weight stored in ``canary.bin`` (HDF5 external storage): the canary would become the weights."""
    return replace(legit_nir(path), WEIGHT, "external", canaries)


def nir_virtual_dataset(path: Path, canaries: tuple[Path, Path]) -> Path:
    """fc1's weight a virtual dataset mapping ``canary.h5:/secret``."""
    return replace(legit_nir(path), WEIGHT, "virtual", canaries)


def nir_external_link(path: Path, canaries: tuple[Path, Path]) -> Path:
    """fc1's weight an external link to ``canary.h5:/secret``."""
    return replace(legit_nir(path), WEIGHT, "external-link", canaries)


def nir_huge_declared(path: Path, canaries: tuple[Path, Path] | None = None) -> Path:
    """fc1's weight declared as 10^9 float64 (8 GB decoded), chunked and compressed: the file is about 44 KB."""
    return replace(legit_nir(path), WEIGHT, "huge", canaries or (Path("-"), Path("-")))


def nir_tau_zero(path: Path, canaries: tuple[Path, Path] | None = None) -> Path:
    """Valid HDF5 and a valid NIR graph, but fc1's LIF has tau = 0 (its leak dt/tau divides by zero)."""
    return legit_nir(path, tau=0.0, r=0.0)


def shd_external_storage(path: Path, canaries: tuple[Path, Path]) -> Path:
    """A fixed-size SHD file whose units are stored in ``canary.bin``: the canary would become the raster."""
    return replace(legit_shd(path, fixed=True), UNITS, "external", canaries)


def shd_virtual_dataset(path: Path, canaries: tuple[Path, Path]) -> Path:
    """A fixed-size SHD file whose units map ``canary.h5:/units``."""
    legit_shd(path, fixed=True)
    with h5py.File(path, "a") as handle:
        del handle[UNITS]
        layout = h5py.VirtualLayout(shape=SHD_SHAPE, dtype=np.uint8)
        layout[:] = h5py.VirtualSource(str(canaries[1]), "units", shape=SHD_SHAPE)
        handle.create_virtual_dataset(UNITS, layout, fillvalue=0)
    return Path(path)


def shd_external_link(path: Path, canaries: tuple[Path, Path]) -> Path:
    """A fixed-size SHD file whose units are an external link to ``canary.h5:/units``."""
    legit_shd(path, fixed=True)
    with h5py.File(path, "a") as handle:
        del handle[UNITS]
        handle[UNITS] = h5py.ExternalLink(str(canaries[1]), "/units")
    return Path(path)


def shd_huge_declared(path: Path, canaries: tuple[Path, Path] | None = None, elements: int = 10**9) -> Path:
    """An SHD file of ``elements`` samples (vlen times and units, uint8 labels), chunked and compressed, no chunk
    written: about 3 KB on disk; reading it whole takes tens of GB."""
    with h5py.File(path, "w") as handle:
        for name, dtype in (("spikes/times", np.float32), ("spikes/units", np.uint16)):
            handle.create_dataset(name, (elements,), h5py.vlen_dtype(dtype), chunks=(2**14,), compression="gzip")
        handle.create_dataset("labels", (elements,), np.uint8, chunks=(2**16,), compression="gzip")
    return Path(path)


NAMED = {"nir": {"external storage": nir_external_storage, "virtual dataset": nir_virtual_dataset,
                 "external link": nir_external_link, "huge declared shape": nir_huge_declared, "tau = 0": nir_tau_zero},
         "shd": {"external storage": shd_external_storage, "virtual dataset": shd_virtual_dataset,
                 "external link": shd_external_link, "huge declared shape": shd_huge_declared}}


# --- mixes, for the generated test ------------------------------------------------------------------------------

NIR_TARGETS = (WEIGHT, "node/nodes/fc1.synapse/bias", "node/nodes/fc1.neuron/tau", "node/nodes/readout/weight",
               "node/nodes/input/shape")
SHD_TARGETS = (UNITS, "spikes/times", "labels")


def hostile_file(path: Path, base: str, changes: list[tuple[str, int]], canaries: tuple[Path, Path]) -> Path:
    """The legitimate ``base`` file ("nir", "shd" or "shd-fixed") with each ``(feature, target index)`` of
    ``changes`` applied in turn (a target that is a link already is left as it is)."""
    targets = NIR_TARGETS if base == "nir" else SHD_TARGETS
    path = legit_nir(path) if base == "nir" else legit_shd(path, fixed=base == "shd-fixed")
    for feature, index in changes:
        name = targets[index % len(targets)]
        with h5py.File(path, "r") as handle:
            if not isinstance(handle.get(name, getlink=True), h5py.HardLink):
                continue
        replace(path, name, feature, canaries)
    return path
