"""What a run's data was read from, as a short hash: part of the run cache's key (``experiments.batch.RunCache``).

A procedural dataset (digits, the generated event clips) is a function of the config alone, so its fingerprint is
empty. A real dataset is whatever its folder holds when the run starts: the fingerprint hashes the folder it
resolves to and every file its layout lists (path, size, modification time), so adding, removing or rewriting a
recording gives a new key and never the result cached for the old contents. A folder that cannot be resolved or
listed gets a fingerprint of the reason (the run then fails with that message, and is never cached).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from . import DATASETS, folders

if TYPE_CHECKING:
    from ..fields import Section as DataConfig


def listed_files(name: str, root: Path) -> list[Path]:
    """Every file the dataset ``name``'s layout reads under ``root``."""
    if name == "shd":
        return [path for path in folders.shd_files(root) if path is not None]
    if name == "nmnist":
        listing = folders.nmnist_files(root)
    elif name == "dvs-gesture":
        listing = folders.dvs_gesture_files(root)
    else:
        # imported here: the file readers import tonic, which a procedural dataset's key should not pay for
        from .readers import SUFFIXES
        listing = folders.event_folder_files(root, SUFFIXES)
    return [path for path, _ in (*listing.train, *listing.test)]


def data_fingerprint(data: DataConfig) -> str:
    """'' for a procedural dataset; for a real one, a hash of its folder's files (module docstring)."""
    if data.dataset not in DATASETS or not DATASETS[data.dataset].reads_folder:
        return ""
    try:
        root = folders.resolve_root(data.data_dir, data.dataset)
        stats = [(str(path), path.stat().st_size, path.stat().st_mtime_ns) for path in listed_files(data.dataset, root)]
        text = json.dumps({"root": str(root.resolve()), "files": stats})
    except (ValueError, OSError) as problem:
        text = f"unreadable: {problem}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]
