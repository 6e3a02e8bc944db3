"""HDF5 files read only after all of them is checked: the one way in for every HDF5 format we read (NIR graphs,
``interop.nir_graph``; Spiking Heidelberg Digits ``.h5``, ``data.readers``).

HDF5 can put a dataset's bytes in another file (external storage, virtual datasets, external links), so a file
that is read as weights or events could hand back any file the server can read; and a few KB can declare
gigabytes (a huge shape whose chunks are never written, a chunk far larger than its dataset, compressed data that
expands). ``check`` walks the whole file before any dataset's data is read, following no link, and refuses with one
line naming the object and the rule it breaks:

- links: hard links only, each object under one name (no soft, external or user-defined links, no group or
  dataset shared by two names: a reader that walks the tree would visit it twice, or forever);
- datasets: data inside the file (no external storage, no virtual dataset), filters that h5py ships (gzip,
  shuffle, fletcher32, szip, nbit, scaleoffset, lzf), no committed datatypes;
- dtypes: real numbers (bool, integers, floats of up to 8 bytes); strings and variable-length sequences of
  numbers only at the paths a format names (``strings`` and ``sequences``, fnmatch patterns);
- sizes: the decoded size (elements x item size, whatever the chunking or compression; a chunk counts whole) of
  each dataset, and of all datasets and attributes together, at most ``limit`` (a ``Limit``: a megabyte default
  and the environment variable that overrides it, read at each call); each attribute at most
  ``MAX_ATTRIBUTE_BYTES``; at most ``MAX_OBJECTS`` links and ``MAX_ATTRIBUTES`` attributes per object.

Variable-length data (strings, SHD's spike lists) has no size in its shape: each element points into the file's
heap. Once the walk passes, ``check`` reads those datasets a few elements at a time (one element is at most the
file's size) and adds up their bytes, refusing as soon as the total passes the limit. The file is then read by
its format's reader (``open_checked`` yields the checked handle).
"""
from __future__ import annotations

import contextlib
import fnmatch
import io
import math
from collections.abc import Iterator, Sequence

import h5py
import numpy as np

from .files import FILE_DECODE, Limit

MB = 2**20
MAX_ATTRIBUTE_BYTES = 1 * MB        # each attribute's decoded size (no format we read needs attributes)
MAX_ATTRIBUTES = 1000               # per object
MAX_OBJECTS = 100_000               # links in the file (an SHD file has about 10, a NIR graph about 10 per node)
VLEN_ELEMENT_BYTES = 128            # what one variable-length element costs once read (pointer + numpy object)
FILTERS = {1: "gzip", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset", 32000: "lzf"}
NUMBERS = "real numbers (bool, integers, floats of up to 8 bytes)"


class HDF5Refusal(ValueError):
    """A file ``check`` will not read: one line, starting with what the caller called the file."""


def _shown(text) -> str:
    """A name or path from the file, safe to show on one line: repr, at most 100 characters."""
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    shown = repr(text)
    return shown if len(shown) <= 100 else shown[:97] + "..."


def _mb(n: int) -> str:
    return f"{n / MB:,.1f} MB" if n >= MB // 10 else f"{n:,} bytes"


class _Walk:
    """The state of one ``check``: totals so far, the rules of the format, and how to refuse."""

    def __init__(self, what: str, limit: Limit, strings: Sequence[str], sequences: Sequence[str]):
        self.what, self.limit, self.strings, self.sequences = what, limit, tuple(strings), tuple(sequences)
        self.max_bytes = int(limit.megabytes() * MB)
        self.total, self.objects = 0, 0
        self.variable: list[str] = []

    def refuse(self, name: str, problem: str) -> HDF5Refusal:
        return HDF5Refusal(f"{self.what}: {_shown('/' + name)} {problem}")

    def allowed_types(self, name: str) -> str:
        extra = ([f"strings at {', '.join(self.strings)}"] if self.strings else []) + \
            ([f"sequences of numbers at {', '.join(self.sequences)}"] if self.sequences else [])
        return f"allowed: {NUMBERS}" + (f"; {'; '.join(extra)}" if extra else "")

    def add(self, name: str, size: int, kind: str) -> None:
        """Count ``size`` decoded bytes of ``name``; refuse when it, or the file's total, passes the limit."""
        if size > self.max_bytes:
            raise self.refuse(name, f"{kind} {_mb(size)} decoded; the limit is {self.limit.describe()}")
        self.total += size
        if self.total > self.max_bytes:
            raise self.refuse(name, f"brings the file's decoded size to {_mb(self.total)}; the limit is "
                                    f"{self.limit.describe()}")

    # --- types --------------------------------------------------------------------------------------------------

    def item_bytes(self, name: str, dtype: np.dtype) -> tuple[int, bool]:
        """Bytes per element once read, and whether the data is variable-length; refuse types outside the list."""
        string = h5py.check_string_dtype(dtype)
        if string is not None:
            if not any(fnmatch.fnmatchcase(name, pattern) for pattern in self.strings):
                raise self.refuse(name, f"holds strings; {self.allowed_types(name)}")
            return (VLEN_ELEMENT_BYTES, True) if string.length is None else (max(dtype.itemsize, 1), False)
        base = h5py.check_vlen_dtype(dtype)
        if base is not None:
            if not any(fnmatch.fnmatchcase(name, pattern) for pattern in self.sequences) or not _number(base):
                raise self.refuse(name, f"holds variable-length sequences of {base}; {self.allowed_types(name)}")
            return VLEN_ELEMENT_BYTES, True
        if not _number(dtype):
            described = "a reference" if h5py.check_ref_dtype(dtype) is not None else \
                "a compound type" if dtype.names else "an array type" if dtype.subdtype else f"type {dtype}"
            raise self.refuse(name, f"holds {described}; {self.allowed_types(name)}")
        return dtype.itemsize, False

    # --- objects ------------------------------------------------------------------------------------------------

    def link(self, handle: h5py.File, name: str, link) -> None:
        """One link met by the walk: refuse anything but a hard link to a group or a checked dataset."""
        self.objects += 1
        if self.objects > MAX_OBJECTS:
            raise self.refuse(name, f"is link number {self.objects:,}; allowed: at most {MAX_OBJECTS:,} links")
        if isinstance(link, h5py.ExternalLink):
            raise self.refuse(name, f"is an external link to {_shown(link.filename)}:{_shown(link.path)}; allowed: "
                                    "hard links inside the file only")
        if isinstance(link, h5py.SoftLink):
            raise self.refuse(name, f"is a soft link to {_shown(link.path)}; allowed: hard links inside the file "
                                    "only")
        if not isinstance(link, h5py.HardLink):
            raise self.refuse(name, f"is a {type(link).__name__}; allowed: hard links inside the file only")
        item = handle[name]
        info = h5py.h5o.get_info(item.id)
        if info.rc != 1:
            raise self.refuse(name, f"is reached by {info.rc} hard links; allowed: each object under one name")
        self.attributes(name, item, info.num_attrs)
        if isinstance(item, h5py.Dataset):
            self.dataset(name, item)
        elif not isinstance(item, h5py.Group):
            raise self.refuse(name, f"is a {type(item).__name__}; allowed: groups and datasets")

    def attributes(self, name: str, item, count: int) -> None:
        if count > MAX_ATTRIBUTES:
            raise self.refuse(name, f"has {count:,} attributes; allowed: at most {MAX_ATTRIBUTES:,}")
        for key in item.attrs:
            attribute = h5py.h5a.open(item.id, key.encode("utf-8"))
            shape, dtype = attribute.shape, attribute.dtype
            variable = h5py.check_vlen_dtype(dtype) is not None or dtype.kind == "O"
            size = math.prod(shape or ()) * (VLEN_ELEMENT_BYTES if variable else dtype.itemsize)
            if size > MAX_ATTRIBUTE_BYTES:
                raise self.refuse(name, f"has attribute {_shown(key)} of {_mb(size)} decoded; allowed: at most "
                                        f"{_mb(MAX_ATTRIBUTE_BYTES)} per attribute")
            self.add(name, size, f"attribute {_shown(key)} is")

    def dataset(self, name: str, dataset: h5py.Dataset) -> None:
        plist = dataset.id.get_create_plist()
        if plist.get_external_count() > 0:
            where = plist.get_external(0)[0]
            raise self.refuse(name, f"keeps its data in another file ({_shown(where)}, HDF5 external storage); "
                                    "allowed: data stored inside the file")
        if plist.get_layout() == h5py.h5d.VIRTUAL:
            sources = {plist.get_virtual_filename(i) for i in range(plist.get_virtual_count())}
            raise self.refuse(name, f"is a virtual dataset (data mapped from {', '.join(map(_shown, sorted(sources)))}"
                                    "); allowed: data stored inside the file")
        for index in range(plist.get_nfilters()):
            code = plist.get_filter(index)[0]
            if code not in FILTERS:
                raise self.refuse(name, f"is compressed with HDF5 filter {code}; allowed: "
                                        f"{', '.join(FILTERS.values())}")
        item, variable = self.item_bytes(name, dataset.dtype)
        elements = math.prod(dataset.shape or ())        # a null dataspace (h5py.Empty) holds nothing
        self.add(name, elements * item, f"declares {elements:,} elements of {item} bytes:")
        if dataset.chunks:
            chunk = math.prod(dataset.chunks) * item
            if chunk > self.max_bytes:
                raise self.refuse(name, f"has chunks of {_mb(chunk)} decoded (each read whole); the limit is "
                                        f"{self.limit.describe()}")
        if variable:
            self.variable.append(name)

    # --- variable-length data -------------------------------------------------------------------------------------

    def measure(self, handle: h5py.File) -> None:
        """Read each variable-length dataset a few elements at a time, adding up the bytes they hold."""
        file_bytes = max(handle.id.get_filesize(), 1)
        for name in self.variable:
            dataset = handle[name]
            if not dataset.shape:
                self.add(name, _payload(dataset[()]), "holds")
                continue
            row = math.prod(dataset.shape[1:])
            at = 0
            while at < dataset.shape[0]:
                budget = max(self.max_bytes - self.total, 0) // file_bytes        # elements that surely fit
                if row == 0:
                    break
                if budget < row:                                                 # one element at a time
                    for index in np.ndindex(*dataset.shape[1:]):
                        self.add(name, _payload(dataset[(at, *index)]), "holds variable-length data of")
                    at += 1
                    continue
                stop = min(dataset.shape[0], at + min(budget // row, 4096))
                self.add(name, _payload(dataset[at:stop]), "holds variable-length data of")
                at = stop


def _number(dtype: np.dtype) -> bool:
    return dtype.kind in "biuf" and dtype.itemsize <= 8 and dtype.subdtype is None and dtype.names is None


def _payload(value) -> int:
    """The bytes a read variable-length value holds: strings, arrays, and arrays of them."""
    if isinstance(value, (bytes, str)):
        return len(value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "O":
        return sum(_payload(item) for item in value.flat)
    if isinstance(value, np.ndarray):
        return value.nbytes
    return 8


def check(handle: h5py.File, *, what: str, limit: Limit = FILE_DECODE, strings: Sequence[str] = (),
          sequences: Sequence[str] = (), measure: bool = True) -> int:
    """Check an open HDF5 file before its data is read (module docstring); its decoded size in bytes.
    ``what`` starts each message (a path, or "the NIR file"); ``strings``/``sequences``: fnmatch patterns of the
    dataset paths (no leading "/") that may hold strings / variable-length sequences of numbers; ``measure``:
    whether to add up the variable-length data too (False only for a caller that reads one element of each such
    dataset: one element is at most the file's size). HDF5Refusal (a ValueError) of one line for a file that
    breaks a rule."""
    walk = _Walk(what, limit, strings, sequences)
    try:
        walk.attributes("", handle, h5py.h5o.get_info(handle.id).num_attrs)
        links: list = []                      # h5py cannot raise out of the visit: collect, then check

        def collect(name, link) -> bool | None:
            links.append((name, link))
            return True if len(links) > MAX_OBJECTS else None     # anything but None stops h5py's visit

        handle.visititems_links(collect)
        for name, link in links:
            walk.link(handle, name, link)
        if measure:
            walk.measure(handle)
    except HDF5Refusal:
        raise
    except Exception as problem:          # noqa: BLE001 - h5py fails its own ways on a damaged file
        text = " ".join(str(problem).split())[:200]
        raise HDF5Refusal(f"{what}: h5py could not read its structure ({type(problem).__name__}: {text})") from None
    return walk.total


@contextlib.contextmanager
def open_checked(source, *, what: str, limit: Limit = FILE_DECODE, strings: Sequence[str] = (),
                 sequences: Sequence[str] = (), measure: bool = True) -> Iterator[h5py.File]:
    """The h5py File of ``source`` (a path, bytes, or a binary file object), read-only, once ``check`` passes;
    HDF5Refusal (a ValueError of one line) for a file h5py cannot open or that breaks a rule."""
    opened = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    try:
        handle = h5py.File(opened, "r")
    except Exception as problem:          # noqa: BLE001 - OSError, ValueError, ... for a file that is no HDF5
        text = " ".join(str(problem).split())[:200]
        raise HDF5Refusal(f"{what}: h5py could not open it as HDF5 ({type(problem).__name__}: {text})") from None
    with handle:
        check(handle, what=what, limit=limit, strings=strings, sequences=sequences, measure=measure)
        yield handle
