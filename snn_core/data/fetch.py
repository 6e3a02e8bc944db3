"""Downloading the real datasets, as tonic's ``download=True`` does, into the folder ``folders.resolve_root`` reads.

``fetch_dataset("nmnist")`` puts N-MNIST (train and test) in ``user_data_dir()/nmnist`` in tonic's own layout
(``nmnist/NMNIST/Train/<digit>/*.bin``, with ``train.zip`` kept beside it as tonic keeps it, so
``tonic.datasets.NMNIST(save_to=folder)`` reads the folder without downloading again); ``dvs-gesture`` and ``shd``
likewise (``DVSGesture/ibmGestureTrain/...``, ``SHD/shd_train.h5``). The URLs, file names and md5 checksums are
tonic's (its dataset classes' attributes, read on first use into ``SOURCES``); the md5 is checked with tonic's
``calculate_md5``. What tonic's downloader lacks is written here:

- progress: ``progress(bytes done, bytes total, label)`` while downloading, checking and extracting (total 0: not
  known);
- resuming: a download goes to ``<file>.part`` and a second call continues it (an HTTP Range request; a server
  that ignores Range sends the whole file again); a stopped download is also retried at once, twice;
- nothing half done is ever read as complete: everything is assembled in a hidden sibling folder
  (``.<name>.fetching``, where a second call finds the files already verified and extracted) and the dataset's
  folder (``NMNIST/``) is renamed into place, with its ``.snn-fetch.json`` marker, only once every archive is in;
- bounds: an archive larger than ``MAX_ARCHIVE_BYTES`` (its Content-Length, or the bytes that arrive) or whose
  members total more than ``MAX_EXTRACTED_BYTES`` or number more than ``MAX_MEMBERS`` is refused before it is
  decoded; a member with an absolute path, a ``..``, or that is a link or a device is refused (tonic's
  ``extractall`` would write it), and the archive's folder is removed;
- errors: one line each (ValueError): an unknown name names the allowed ones, a host that cannot be reached
  says what to copy where, a checksum mismatch removes the bad file.

Nothing here imports tonic until a download starts.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import stat
import tarfile
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, BinaryIO

from ..files import member_path, write_atomically
from .folders import user_data_dir

Progress = Callable[[int, int, str], None]

FETCHABLE = ("nmnist", "dvs-gesture", "shd")
WRAPPERS = {"nmnist": "NMNIST", "dvs-gesture": "DVSGesture", "shd": "SHD"}    # tonic's folder: its class name
LAYOUTS = {      # what to copy where when the host cannot be reached (the layouts of snn_core.data.folders)
    "nmnist": "NMNIST/Train/<digit>/*.bin and NMNIST/Test/<digit>/*.bin (train.zip and test.zip of N-MNIST, "
              "https://www.garrickorchard.com/datasets/n-mnist, unzipped into NMNIST/)",
    "dvs-gesture": "DVSGesture/ibmGestureTrain/<user>_<lighting>/<label>.npy and DVSGesture/ibmGestureTest/... "
                   "(tonic's ibmGestureTrain.tar.gz and ibmGestureTest.tar.gz, extracted into DVSGesture/)",
    "shd": "SHD/shd_train.h5 and SHD/shd_test.h5 (shd_train.h5.zip and shd_test.h5.zip of "
           "https://zenkelab.org/datasets/, unzipped into SHD/)",
}
MARKER = ".snn-fetch.json"          # in the dataset's folder: written last, so its presence means complete
WHERE = "the dataset's folder"       # where an archive's members must stay (files.member_path's message)
MAX_ARCHIVE_BYTES = 8 << 30         # the largest archive (DVS Gesture's training set) is a few GB
MAX_EXTRACTED_BYTES = 32 << 30
MAX_MEMBERS = 500_000               # N-MNIST's training archive holds 60,000 files
MAX_MARKER_BYTES = 1 << 20
TIMEOUT_S = 30                      # per connection attempt and per read
ATTEMPTS = 3                        # a download that stops is resumed at once this many times in all
CHUNK = 1 << 20
USER_AGENT = "snn-explorer (tonic)"


@dataclass(frozen=True)
class Archive:
    """One file of a dataset's release: where it is downloaded from, its name on disk and its md5 checksum."""

    url: str
    filename: str
    md5: str


# name -> its archives; filled from tonic on first use (``archives``), so a test can put a local server here
SOURCES: dict[str, tuple[Archive, ...]] = {}
_LOCK = threading.Lock()
_BUSY: set[str] = set()             # folders being fetched in this process (two app sessions, one download)


def archives(name: str) -> tuple[Archive, ...]:
    """The archives of dataset ``name`` (tonic's URLs, file names and md5 checksums), train first."""
    _require_known(name)
    if name not in SOURCES:
        SOURCES[name] = _tonic_archives(name)
    return SOURCES[name]


def _tonic_archives(name: str) -> tuple[Archive, ...]:
    if name == "nmnist":
        from tonic.datasets.nmnist import NMNIST
        return tuple(Archive(getattr(NMNIST, f"{split}_url"), getattr(NMNIST, f"{split}_filename"),
                             getattr(NMNIST, f"{split}_md5")) for split in ("train", "test"))
    if name == "dvs-gesture":
        from tonic.datasets.dvsgesture import DVSGesture
        return tuple(Archive(getattr(DVSGesture, f"{split}_url"), getattr(DVSGesture, f"{split}_filename"),
                             getattr(DVSGesture, f"{split}_md5")) for split in ("train", "test"))
    from tonic.datasets.hsd import SHD
    return tuple(Archive(SHD.base_url + getattr(SHD, f"{split}_zip"), getattr(SHD, f"{split}_zip"),
                         getattr(SHD, f"{split}_md5")) for split in ("train", "test"))


def _require_known(name: str) -> None:
    if name not in FETCHABLE:
        raise ValueError(f"cannot fetch {name!r}; allowed: {', '.join(FETCHABLE)}")


def default_folder(name: str) -> Path:
    """Where ``fetch_dataset(name)`` puts a dataset by default, the first place ``resolve_root`` looks."""
    _require_known(name)
    return user_data_dir() / name


def fetched(folder: Path, name: str) -> dict | None:
    """What a complete fetch of ``name`` into ``folder`` wrote (``dataset``, ``folder``, ``files``, ``bytes``,
    ``archives``), from its marker; None when ``folder`` holds no complete fetch."""
    _require_known(name)
    marker = Path(os.path.expanduser(folder)) / WRAPPERS[name] / MARKER
    try:
        with open(marker, "rb") as handle:
            info = json.loads(handle.read(MAX_MARKER_BYTES))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("dataset") != name:
        return None
    return {**info, "folder": str(Path(os.path.expanduser(folder)))}


def fetch_dataset(name: str, to: Path | None = None, progress: Progress | None = None) -> Path:
    """Download dataset ``name`` (``FETCHABLE``) into ``to`` (default ``user_data_dir()/<name>``, where
    ``resolve_root("", name)`` finds it) and return that folder; already fetched there: returned at once.
    Errors are ValueError (one line) or OSError (the disk)."""
    _require_known(name)
    folder = Path(os.path.expanduser(to)) if to is not None else default_folder(name)
    if fetched(folder, name) is not None:
        return folder
    if (folder / WRAPPERS[name]).exists():
        raise ValueError(f"{folder / WRAPPERS[name]} exists but no complete fetch wrote it; remove it, or fetch into "
                         "another folder")
    key = str(folder.resolve())
    with _LOCK:
        if key in _BUSY:
            raise ValueError(f"{name} is already being fetched into {folder}; wait for that fetch to finish")
        _BUSY.add(key)
    try:
        _fetch(name, folder, progress or (lambda done, total, label: None))
    finally:
        with _LOCK:
            _BUSY.discard(key)
    return folder


def _fetch(name: str, folder: Path, report: Progress) -> None:
    work = folder.parent / f".{folder.name}.fetching"          # beside the folder: the same file system
    assembled = work / WRAPPERS[name]
    assembled.mkdir(parents=True, exist_ok=True)
    try:
        _assemble(name, folder, work, assembled, report)
    finally:                                    # a failure with nothing to resume leaves no empty folders
        for empty in (assembled, work):
            try:
                empty.rmdir()
            except OSError:
                pass


def _assemble(name: str, folder: Path, work: Path, assembled: Path, report: Progress) -> None:
    done = []
    for archive in archives(name):
        record = work / f"{archive.filename}.done"
        if _record(record).get("md5") != archive.md5:          # not done yet (or done for another version)
            path = assembled / archive.filename
            _download_verified(name, archive, path, work / f"{archive.filename}.part", folder, report)
            files, size = _extract(path, work / f"extract-{archive.filename}", assembled, report,
                                   f"{name}: extracting {archive.filename}")
            text = json.dumps({**asdict(archive), "files": files, "bytes": size}).encode()
            write_atomically(record, _writer(text))
        done.append(_record(record))
    info = {"dataset": name, "files": sum(a["files"] for a in done), "bytes": sum(a["bytes"] for a in done),
            "archives": done}
    text = json.dumps(info, indent=2).encode()
    write_atomically(assembled / MARKER, _writer(text))
    folder.mkdir(parents=True, exist_ok=True)
    os.rename(assembled, folder / WRAPPERS[name])                # complete, at once
    shutil.rmtree(work, ignore_errors=True)


def _record(path: Path) -> dict:
    """An archive's ``.done`` record (its md5, files and bytes once extracted); {} when there is none."""
    try:
        info = json.loads(path.read_bytes()[:MAX_MARKER_BYTES])
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _download_verified(name: str, archive: Archive, path: Path, part: Path, folder: Path, report: Progress) -> None:
    """``archive`` at ``path``, its md5 checked: an earlier call's verified file is kept, a ``.part`` resumed."""
    from tonic.download_utils import calculate_md5

    label = f"{name}: checking {archive.filename}"
    if path.is_file():                          # downloaded and verified, then stopped while extracting
        report(0, 0, label)
        if calculate_md5(str(path)) == archive.md5:
            return
        path.unlink()
    for fresh in (False, True):
        resumed = _download(name, archive, part, folder, report, restart=fresh)
        report(0, 0, label)
        got = calculate_md5(str(part))
        if got == archive.md5:
            os.replace(part, path)
            return
        part.unlink(missing_ok=True)
        if not resumed:
            break                               # a resumed file may hold an older version's start: once afresh
    raise ValueError(f"{archive.filename} from {archive.url} does not match its md5 checksum (got {got}, expected "
                     f"{archive.md5}); the download was removed: fetch again, or copy the dataset to {folder} in "
                     f"this layout: {LAYOUTS[name]}")


def _download(name: str, archive: Archive, part: Path, folder: Path, report: Progress, restart: bool) -> bool:
    """``archive.url`` into ``part``, continuing what it holds (unless ``restart``). Returns whether it resumed."""
    if restart:
        part.unlink(missing_ok=True)
    label, problem, resumed, have = f"{name}: downloading {archive.filename}", "", False, 0
    for _ in range(ATTEMPTS):
        have = part.stat().st_size if part.is_file() else 0
        headers = {"User-Agent": USER_AGENT, **({"Range": f"bytes={have}-"} if have else {})}
        try:
            response = urllib.request.urlopen(urllib.request.Request(archive.url, headers=headers),
                                              timeout=TIMEOUT_S)
        except urllib.error.HTTPError as error:
            if error.code == 416 and have:      # the partial file is no start of this file: afresh
                part.unlink()
                continue
            raise _unreachable(name, archive.url, f"HTTP {error.code} {error.reason}", folder) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise _unreachable(name, archive.url, _reason(error), folder) from None
        with response:
            start = _start(response, have, archive)
            if start is None:                   # a part of the file other than the one asked for: afresh
                part.unlink(missing_ok=True)
                problem = "the server sent another range than the one asked for"
                continue
            have, total = start
            resumed = resumed or have > 0
            _require_space(part.parent, total - have if total else 0, archive.filename)
            have, problem = _receive(response, part, have, total, archive, lambda n: report(n, total, label))
        if not problem:
            return resumed
    raise ValueError(f"the download of {archive.url} stopped {ATTEMPTS} times ({problem}); the {have} bytes received "
                     f"are kept in {part}: fetch again to resume")


def _start(response, have: int, archive: Archive) -> tuple[int, int] | None:
    """(bytes already in the ``.part`` file that this response continues, the whole file's size or 0); None for a
    partial response that does not continue at ``have``."""
    length = response.headers.get("Content-Length", "")
    length = int(length) if length.strip().isdigit() else None
    if response.status == 206:
        content_range = response.headers.get("Content-Range", "")
        if not have or not content_range.startswith(f"bytes {have}-"):
            return None
        whole = content_range.rsplit("/", 1)[-1]
        total = int(whole) if whole.isdigit() else (have + length if length is not None else 0)
    else:                                       # the whole file (a server that ignores Range, or a first request)
        have, total = 0, length or 0
    if total > MAX_ARCHIVE_BYTES:
        raise ValueError(f"{archive.url} is {total} bytes; allowed: at most {MAX_ARCHIVE_BYTES} bytes "
                         f"({archive.filename} is smaller than that)")
    return have, total


def _receive(response, part: Path, have: int, total: int, archive: Archive,
             report: Callable[[int], None]) -> tuple[int, str]:
    """Append the response's body to ``part`` (or write it afresh when ``have`` is 0): (bytes in ``part``, why it
    stopped early or "")."""
    limit = total or MAX_ARCHIVE_BYTES
    with open(part, "ab" if have else "wb") as out:
        while True:
            try:
                chunk = response.read(CHUNK)
            except (OSError, http.client.HTTPException) as error:     # reset, timed out, cut short
                return have, _reason(error)
            if not chunk:
                break
            if have + len(chunk) > limit:
                raise ValueError(f"{archive.url} sent more than {limit} bytes; allowed: at most {limit} bytes "
                                 f"({'its Content-Length' if total else 'the largest archive'})")
            out.write(chunk)
            have += len(chunk)
            report(have)
    if total and have < total:
        return have, f"the connection closed after {have} of {total} bytes"
    return have, ""


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return " ".join(str(text).split())


def _unreachable(name: str, url: str, reason: str, folder: Path) -> ValueError:
    return ValueError(f"cannot reach {url} ({reason}); copy the dataset to {folder} in this layout: {LAYOUTS[name]}")


def _require_space(where: Path, need: int, what: str) -> None:
    free = shutil.disk_usage(where).free
    if need > free:
        raise ValueError(f"{what} needs {need} bytes but {where} has {free} free; allowed: a folder with more space "
                         "(fetch into another folder)")


def _extract(archive: Path, scratch: Path, into: Path, report: Progress, label: str) -> tuple[int, int]:
    """Extract ``archive`` (zip or tar, by its name) into ``scratch``, then move what it holds into ``into``:
    (files, bytes). A refused member or a failure removes ``scratch``; nothing reaches ``into`` half written."""
    shutil.rmtree(scratch, ignore_errors=True)                     # an earlier call stopped while extracting
    scratch.mkdir(parents=True)
    try:
        if archive.name.endswith(".zip"):
            counts = _extract_zip(archive, scratch, report, label)
        elif archive.name.endswith((".tar", ".tar.gz", ".tgz")):
            counts = _extract_tar(archive, scratch, report, label)
        else:
            raise ValueError(f"{archive.name}: not an archive this can extract; allowed: .zip, .tar, .tar.gz")
        for entry in sorted(scratch.iterdir()):
            target = into / entry.name
            if target.is_dir() and not target.is_symlink():        # moved there by a call that then stopped
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            os.rename(entry, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return counts


def _writer(data: bytes) -> Callable[[BinaryIO], None]:
    """What ``write_atomically`` calls to write ``data``."""
    def write(handle: BinaryIO) -> None:
        handle.write(data)
    return write


def _copy(source: IO[bytes], target: Path, size: int, archive: Path, name: str) -> None:
    """Copy a member's bytes, at most the ``size`` its header declares."""
    written = 0
    with open(target, "xb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > size:
                raise ValueError(f"{archive.name}: member {name!r} holds more than the {size} bytes it declares")
            out.write(chunk)


def _extract_zip(archive: Path, root: Path, report: Progress, label: str) -> tuple[int, int]:
    with zipfile.ZipFile(archive) as zipped:
        members = zipped.infolist()
        total = sum(info.file_size for info in members)
        if len(members) > MAX_MEMBERS or total > MAX_EXTRACTED_BYTES:
            raise ValueError(f"{archive.name} holds {len(members)} members of {total} bytes; allowed: at most "
                             f"{MAX_MEMBERS} members and {MAX_EXTRACTED_BYTES} bytes")
        targets = [member_path(archive.name, info.filename, root, where=WHERE) for info in members]   # all checked
        for info in members:
            kind = stat.S_IFMT(info.external_attr >> 16)           # 0: no Unix type given (a plain file)
            if kind not in (0, stat.S_IFREG) and not (info.is_dir() and kind == stat.S_IFDIR):
                raise ValueError(f"{archive.name}: member {info.filename!r} is a link or a special file; allowed: "
                                 "plain files and folders")
        _require_space(root, total, archive.name)
        done = files = 0
        for info, target in zip(members, targets):
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(info) as source:
                _copy(source, target, info.file_size, archive, info.filename)
            done, files = done + info.file_size, files + 1
            report(done, total, label)
    return files, total


def _extract_tar(archive: Path, root: Path, report: Progress, label: str) -> tuple[int, int]:
    size, files, total = archive.stat().st_size, 0, 0
    with open(archive, "rb") as raw, tarfile.open(fileobj=raw, mode="r:*") as tar:
        for count, member in enumerate(tar, 1):       # one pass: each header is checked before its data is read
            target = member_path(archive.name, member.name, root, where=WHERE)
            if count > MAX_MEMBERS or total + max(member.size, 0) > MAX_EXTRACTED_BYTES:
                raise ValueError(f"{archive.name} holds more than {MAX_MEMBERS} members or {MAX_EXTRACTED_BYTES} "
                                 "bytes; allowed: at most that")
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                raise ValueError(f"{archive.name}: member {member.name!r} is a link or a special file; allowed: "
                                 "plain files and folders")
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:                                       # only for what isfile refused above
                raise ValueError(f"{archive.name}: member {member.name!r} has no data to read")
            _copy(source, target, member.size, archive, member.name)
            files, total = files + 1, total + member.size
            report(raw.tell(), size, label)
    return files, total
