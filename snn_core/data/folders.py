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
import itertools
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import settings

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
MAX_CLASSES = 1_000          # class (or user) folders in one folder
MAX_LABELS_FIELD = 4_096     # characters in one labels.csv field (a path or a label)
MAX_LISTED = 12              # names of a folder's entries a message shows: a wrong folder's contents are not listed


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
    chosen = settings.read(settings.DATA_DIR)
    if chosen is not None:
        return Path(os.path.expanduser(chosen))
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


def _listed(names, most: int = MAX_LISTED) -> str:
    """At most ``most`` names, then how many more: messages never list a whole folder."""
    names = list(names)
    shown = ", ".join(repr(str(name)[:60]) if not str(name).isprintable() else str(name)[:60] for name in names[:most])
    return shown + (f" and {len(names) - most:,} more" if len(names) > most else "")


def _entries(folder: Path, most: int, what: str) -> list[Path]:
    """The entries of ``folder``, at most ``most`` of them (the listing stops there: no folder is read in full)."""
    found = list(itertools.islice(folder.iterdir(), most + 1))
    if len(found) > most:
        raise ValueError(f"{folder} holds more than {most:,} entries; allowed: at most {most:,} {what}")
    return found


def _subfolders(folder: Path) -> list[Path]:
    """Folders in ``folder``, sorted; at most ``MAX_CLASSES`` (a wrong folder, e.g. /, is not listed in full)."""
    return sorted(p for p in _entries(folder, MAX_CLASSES + MAX_FILES, "files and class folders") if p.is_dir())[
        :MAX_CLASSES + 1]


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files of ``folder`` (not recursive) with one of ``suffixes``, sorted by name."""
    return sorted(p for p in _entries(folder, MAX_FILES, "files in one folder")
                  if p.is_file() and p.suffix.lower() in suffixes)


def _class_folders(split_dir: Path, class_names: tuple[str, ...], suffixes: tuple[str, ...]) -> list[tuple[Path, int]]:
    """(file, label) from ``split_dir/<class>/*``; an empty class folder or an unknown class is an error."""
    pairs = []
    folders = _subfolders(split_dir)
    if len(folders) > MAX_CLASSES:
        raise ValueError(f"{split_dir} holds more than {MAX_CLASSES:,} folders; allowed: at most {MAX_CLASSES:,} "
                         "class folders")
    for folder in folders:
        if folder.name not in class_names:
            raise ValueError(f"{folder} is not a class folder; allowed names: {_listed(class_names)}")
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
        for folder in _subfolders(root / name) if (root / name).is_dir() else []:
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
    subfolders = _subfolders(root)
    if len(subfolders) > MAX_CLASSES:
        raise ValueError(f"{root} holds more than {MAX_CLASSES:,} folders; allowed: at most {MAX_CLASSES:,} class "
                         "folders")
    split_dirs = {p.name.lower(): p for p in subfolders if p.name.lower() in SPLITS}
    if "train" in split_dirs:
        names = tuple(sorted({c.name for split in split_dirs.values() for c in _subfolders(split)}))
        pairs = {split: _class_folders(folder, names, suffixes) for split, folder in split_dirs.items()}
        files = FileList(root, names, tuple(pairs["train"]), tuple(pairs.get("test", ())))
    else:
        names = tuple(p.name for p in subfolders)
        files = FileList(root, names, tuple(_class_folders(root, names, suffixes)) if names else (), ())
    if not files.train:
        raise ValueError(f"{root} holds no event files; expected <class>/<file>, train/<class>/<file> or labels.csv "
                         f"with files ending in {', '.join(suffixes)}")
    return files


def _csv_rows(table: Path) -> list[dict]:
    """The rows of ``labels.csv`` (at most ``MAX_FILES``, fields at most ``MAX_LABELS_FIELD`` characters), each
    with ``file`` and ``label``; one-line ValueError naming the file, the line and what is allowed otherwise."""
    allowed = (f"allowed: a header line file,label[,split] and one line per file with a value in every column, "
               f"at most {MAX_FILES:,} lines of fields up to {MAX_LABELS_FIELD:,} characters, UTF-8")
    limit = csv.field_size_limit()
    rows: list[dict] = []
    try:
        csv.field_size_limit(MAX_LABELS_FIELD)
        with open(table, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                if len(rows) >= MAX_FILES:
                    raise ValueError(f"{table}: more than {MAX_FILES:,} rows; {allowed}")
                if rows == [] and not {"file", "label"} <= set(reader.fieldnames or ()):
                    raise ValueError(f"{table} needs a header with columns file,label (and optionally split), got "
                                     f"{_listed(sorted(str(name) for name in reader.fieldnames or ()))}")
                if None in row or any(row.get(key) is None for key in ("file", "label")):
                    raise ValueError(f"{table}: line {reader.line_num} has {'more' if None in row else 'fewer'} "
                                     f"values than the header's {len(reader.fieldnames or ())} columns; {allowed}")
                rows.append(row)
    except csv.Error as problem:
        raise ValueError(f"{table}: cannot be read after line {reader.line_num} ({str(problem)[:100]}); "
                         f"{allowed}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{table}: is not UTF-8 text; {allowed}") from None
    finally:
        csv.field_size_limit(limit)
    if not rows:
        raise ValueError(f"{table} needs a header with columns file,label (and optionally split), got no rows")
    return rows


def _labels_csv(root: Path, suffixes: tuple[str, ...]) -> FileList:
    """``labels.csv``: a header with ``file`` and ``label`` (and optionally ``split``), paths relative to root."""
    table = root / "labels.csv"
    rows = _csv_rows(table)
    names = tuple(sorted({row["label"] for row in rows}))
    index = {name: i for i, name in enumerate(names)}
    splits: dict[str, list] = {"train": [], "test": []}
    for number, row in enumerate(rows, 2):
        path, split = root / row["file"], (row.get("split") or "train").strip().lower()
        try:
            inside = bool(row["file"]) and path.resolve().is_relative_to(root.resolve())
            usable = inside and split in SPLITS and path.is_file() and path.suffix.lower() in suffixes
        except (OSError, ValueError):       # a name the OS refuses (NUL, too long)
            usable = False
        if not usable:
            shown = {key: value[:80] for key, value in row.items()}
            raise ValueError(f"{table}: row {number} {shown} names a missing file, a file outside the folder, "
                             f"an unknown split or format; allowed: existing files inside the folder ending in "
                             f"{', '.join(suffixes)}, split train or test")
        splits[split].append((path, index[row["label"]]))
    return FileList(root, names, tuple(splits["train"]), tuple(splits["test"]))
