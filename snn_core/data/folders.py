"""Where a real dataset's files are: each dataset's folder layout, as lists of (file, label) per split.

Nothing here reads events: a layout only finds files and their labels, and says clearly what it expected
when a folder does not match. The layouts are those the datasets are distributed in (or that tonic's
downloaders extract), so a folder fetched once on a machine with internet works as it is:

- ``nmnist``: ``DIR/Train/<digit>/*.bin`` and ``DIR/Test/<digit>/*.bin`` (also under ``DIR/NMNIST/``);
- ``dvs-gesture``: tonic's ``DVSGesture`` files, ``DIR/ibmGestureTrain/<user>_<lighting>/<label>.npy`` and
  ``DIR/ibmGestureTest/...`` (also under ``DIR/DVSGesture/``);
- ``shd``: ``DIR/shd_train.h5`` and ``DIR/shd_test.h5`` (also under ``DIR/SHD/``);
- ``event-folder``: ``DIR/<split>/<class>/<file>`` (split ``train``/``test``, any case), ``DIR/<class>/<file>``
  (no split), or ``DIR/labels.csv`` with columns ``file,label[,split]``; files in any format of
  ``snn_core.data.readers``.
"""
from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "test")
APP_NAME = "snn-explorer"
# the real recordings that ship with the repository (data/samples/SOURCES.md): about 200 N-MNIST training
# recordings and one file of each format the app opens, so the real-data features work on a fresh clone
BUNDLED_SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
NMNIST_CLASSES = tuple(str(d) for d in range(10))
DVS_GESTURE_CLASSES = ("hand clap", "right hand wave", "left hand wave", "right arm clockwise",
                       "right arm counter-clockwise", "left arm clockwise", "left arm counter-clockwise",
                       "arm roll", "air drums", "air guitar", "other gestures")
MAX_FILES = 200_000


@dataclass(frozen=True)
class FileList:
    """Files of a dataset with their labels (indices into ``class_names``), per split; ``test`` is empty
    when the folder has no test split (the loader then holds part of ``train`` out)."""

    root: Path
    class_names: tuple[str, ...]
    train: tuple[tuple[Path, int], ...]
    test: tuple[tuple[Path, int], ...]


def user_data_dir() -> Path:
    """Where ``snn data fetch`` puts datasets by default: ``$SNN_DATA_DIR``, else the platform's user cache folder
    (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows)."""
    if os.environ.get("SNN_DATA_DIR"):
        return Path(os.path.expanduser(os.environ["SNN_DATA_DIR"]))
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP_NAME / "data"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / APP_NAME / "data"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP_NAME / "data"


def default_roots() -> tuple[Path, ...]:
    """Searched in this order for ``ROOT/<dataset>`` when no folder is given: the fetch folder
    (``user_data_dir``: ``$SNN_DATA_DIR`` or the user cache), ``data/`` under the working folder, and the
    samples bundled with the repository (a small subset, so a fetched or copied full dataset comes first)."""
    return user_data_dir(), Path("data"), BUNDLED_SAMPLES


def resolve_root(data_dir: str, dataset: str) -> Path:
    """The folder to read: ``data_dir`` when given, else the first ``default_roots()``/<dataset> that exists."""
    if data_dir:
        root = Path(os.path.expanduser(data_dir))
        if not root.is_dir():
            raise ValueError(f"the data folder {str(root)!r} is not a folder; allowed: a folder in the {dataset} "
                             "layout (README: 'Real datasets')")
        return root
    tried = []
    for base in default_roots():
        candidate = base / dataset
        tried.append(str(candidate))
        if candidate.is_dir():
            return candidate
    raise ValueError(f"no {dataset} folder was found ({', '.join(tried)}); allowed: a folder in the {dataset} "
                     f"layout given as the data folder, or the dataset fetched (snn data fetch {dataset})")


def _under(root: Path, wrapper: str, inner: tuple[str, ...]) -> Path:
    """``root`` itself, or ``root/wrapper`` when that is where tonic's downloader put the ``inner`` folders."""
    if not any((root / name).is_dir() or (root / name).is_file() for name in inner) and (root / wrapper).is_dir():
        return root / wrapper
    return root


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files of ``folder`` (not recursive) with one of ``suffixes``, sorted by name."""
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    if len(found) > MAX_FILES:
        raise ValueError(f"{folder} holds {len(found)} files; allowed: at most {MAX_FILES}")
    return found


def _class_folders(split_dir: Path, class_names: tuple[str, ...], suffixes: tuple[str, ...]) -> list[tuple[Path, int]]:
    """(file, label) from ``split_dir/<class>/*``; an empty class folder or an unknown class is an error."""
    pairs = []
    for folder in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        if folder.name not in class_names:
            raise ValueError(f"{folder} is not a class folder; allowed names: {', '.join(class_names)}")
        files = _files(folder, suffixes)
        if not files:
            raise ValueError(f"class folder {folder} holds no {'/'.join(suffixes)} files")
        pairs += [(path, class_names.index(folder.name)) for path in files]
    return pairs


def nmnist_files(root: Path) -> FileList:
    root = _under(root, "NMNIST", ("Train", "Test"))
    if not (root / "Train").is_dir():
        raise ValueError(f"{root} has no Train/ folder; expected the N-MNIST layout Train/<digit>/*.bin "
                         "(and optionally Test/<digit>/*.bin)")
    splits = {name: _class_folders(root / name, NMNIST_CLASSES, (".bin",)) if (root / name).is_dir() else []
              for name in ("Train", "Test")}
    if not splits["Train"]:
        raise ValueError(f"{root / 'Train'} holds no digit folders with .bin files")
    return FileList(root, NMNIST_CLASSES, tuple(splits["Train"]), tuple(splits["Test"]))


def dvs_gesture_files(root: Path) -> FileList:
    root = _under(root, "DVSGesture", ("ibmGestureTrain", "ibmGestureTest"))
    if not (root / "ibmGestureTrain").is_dir():
        raise ValueError(f"{root} has no ibmGestureTrain/ folder; expected tonic's DVSGesture layout "
                         "ibmGestureTrain/<user>_<lighting>/<label>.npy (and ibmGestureTest/)")
    splits = {}
    for name in ("ibmGestureTrain", "ibmGestureTest"):
        pairs = []
        for folder in sorted(p for p in (root / name).iterdir() if p.is_dir()) if (root / name).is_dir() else []:
            for path in _files(folder, (".npy",)):
                if not path.stem.isdigit() or int(path.stem) >= len(DVS_GESTURE_CLASSES):
                    raise ValueError(f"{path}: the file name must be the class number 0..10 (tonic's layout)")
                pairs.append((path, int(path.stem)))
        splits[name] = tuple(pairs)
    if not splits["ibmGestureTrain"]:
        raise ValueError(f"{root / 'ibmGestureTrain'} holds no <user>_<lighting>/<label>.npy files")
    return FileList(root, DVS_GESTURE_CLASSES, splits["ibmGestureTrain"], splits["ibmGestureTest"])


def shd_files(root: Path) -> tuple[Path, Path | None]:
    """(train file, test file or None) of Spiking Heidelberg Digits."""
    root = _under(root, "SHD", ("shd_train.h5",))
    train, test = root / "shd_train.h5", root / "shd_test.h5"
    if not train.is_file():
        raise ValueError(f"{root} has no shd_train.h5; expected the SHD release's shd_train.h5 (and shd_test.h5), "
                         "unzipped")
    return train, test if test.is_file() else None


def event_folder_files(root: Path, suffixes: tuple[str, ...]) -> FileList:
    """Any folder of event files: labels.csv, split/class folders, or class folders (see the module docstring)."""
    if (root / "labels.csv").is_file():
        return _labels_csv(root, suffixes)
    subfolders = sorted(p for p in root.iterdir() if p.is_dir())
    split_dirs = {p.name.lower(): p for p in subfolders if p.name.lower() in SPLITS}
    if "train" in split_dirs:
        names = sorted({c.name for split in split_dirs.values() for c in split.iterdir() if c.is_dir()})
        pairs = {split: _class_folders(folder, tuple(names), suffixes) for split, folder in split_dirs.items()}
        files = FileList(root, tuple(names), tuple(pairs["train"]), tuple(pairs.get("test", ())))
    else:
        names = tuple(p.name for p in subfolders)
        files = FileList(root, names, tuple(_class_folders(root, names, suffixes)) if names else (), ())
    if not files.train:
        raise ValueError(f"{root} holds no event files; expected <class>/<file>, train/<class>/<file> or labels.csv "
                         f"with files ending in {', '.join(suffixes)}")
    return files


def _labels_csv(root: Path, suffixes: tuple[str, ...]) -> FileList:
    """``labels.csv``: a header with ``file`` and ``label`` (and optionally ``split``), paths relative to root."""
    with open(root / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"file", "label"} <= set(rows[0]):
        raise ValueError(f"{root / 'labels.csv'} needs a header with columns file,label (and optionally split), "
                         f"got {sorted(rows[0]) if rows else 'no rows'}")
    names = tuple(sorted({row["label"] for row in rows}))
    splits: dict[str, list] = {"train": [], "test": []}
    for row in rows:
        path, split = root / row["file"], (row.get("split") or "train").strip().lower()
        inside = path.resolve().is_relative_to(root.resolve())
        if not inside or split not in SPLITS or not path.is_file() or path.suffix.lower() not in suffixes:
            raise ValueError(f"{root / 'labels.csv'}: row {row} names a missing file, a file outside the folder, "
                             f"an unknown split or format; allowed: existing files inside the folder ending in "
                             f"{', '.join(suffixes)}, split train or test")
        splits[split].append((path, names.index(row["label"])))
    return FileList(root, names, tuple(splits["train"]), tuple(splits["test"]))
