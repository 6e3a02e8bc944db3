"""Hostile files, built small: each is a few bytes to a megabyte on disk and states (or expands to) far more. The
tests feed them to the readers and the upload extraction, and benchmarks/reliability.py imports ``BUILDERS`` to
count them. Every builder takes a folder and returns the path it wrote; none allocates what the file claims."""
from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np

CHUNK = 1 << 20


def dat_huge_width(folder: Path, width: int = 600_000_000, height: int = 1) -> Path:
    """A 39-byte Prophesee .dat whose header states a width x height sensor and which holds one event."""
    event = struct.pack("<II", 5, 3)                 # t = 5 us; x = 3, y = 0, p = 0 (N-CARS' 8-byte word)
    path = Path(folder) / "wide.dat"
    path.write_bytes(f"% Width {width}\n% Height {height}\n".encode() + b"\x00\x08" + event)
    return path


def zip_bomb(folder: Path, member: str = "bomb.bin", size: int = 2**30) -> Path:
    """A zip of one deflated member of ``size`` zero bytes (1 GiB: about 1 MB on disk), written in chunks."""
    path = Path(folder) / "bomb.zip"
    zeros = bytes(CHUNK)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(member, "w", force_zip64=True) as out:
            for start in range(0, size, CHUNK):
                out.write(zeros[:min(CHUNK, size - start)])
    return path


def npz_huge_shape(folder: Path, shape: tuple[int, ...] = (3_000_000_000,), dtype: str = "u1") -> Path:
    """An .npz whose one member's .npy header declares ``shape`` (3 GB) and which holds 16 bytes of data."""
    path = Path(folder) / "huge.npz"
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("events.npy", "w") as out:
            np.lib.format.write_array_header_1_0(out, header)
            out.write(bytes(16))
    return path


def raw_many_header_lines(folder: Path, lines: int = 100_000) -> Path:
    """A Prophesee .raw of ``lines`` '%' header lines (the 150 MB original hung the reader), then one EVT2 word."""
    path = Path(folder) / "header.raw"
    with open(path, "wb") as out:
        out.write(b"% evt 2.0\n")
        for start in range(0, lines, 10_000):
            out.write(b"% comment line of a long header\n" * min(10_000, lines - start))
        out.write(bytes(4))
    return path


def aedat4_odd_header(folder: Path) -> Path:
    """A 2 KB AEDAT4 file: the magic, then a 4-byte header whose flatbuffer offset points 2 GB away (the aedat
    package panics on it, a PanicException that is no Exception)."""
    path = Path(folder) / "odd.aedat4"
    path.write_bytes(b"#!AER-DAT4.0\r\n" + struct.pack("<i", 4) + b"\xff\xff\xff\x7f" + bytes(2000))
    return path


def aedat4_huge_packet(folder: Path) -> Path:
    """An AEDAT4 file cut after a packet header that states a 2 GB packet."""
    path = Path(folder) / "packet.aedat4"
    path.write_bytes(b"#!AER-DAT4.0\r\n" + struct.pack("<i", 16) + bytes(16) + struct.pack("<ii", 0, 2**31 - 1)
                     + bytes(100))
    return path


def labels_csv_short_row(folder: Path) -> Path:
    """An event folder whose labels.csv has a row with fewer values than its header."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / "labels.csv").write_text("file,label\na.npy\n")
    return Path(folder)


def labels_csv_long_field(folder: Path, length: int = 200_000) -> Path:
    """An event folder whose labels.csv has a field longer than csv's own limit (131,072 characters)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / "labels.csv").write_text(f"file,label\n{'x' * length},1\n")
    return Path(folder)


# name -> builder, for benchmarks/reliability.py and the tests: the event files the readers refuse
EVENT_FILE_BUILDERS = {"dat_huge_width": dat_huge_width, "npz_huge_shape": npz_huge_shape,
                       "raw_many_header_lines": raw_many_header_lines, "aedat4_odd_header": aedat4_odd_header,
                       "aedat4_huge_packet": aedat4_huge_packet}
# archives extract_zip refuses, and event folders the layouts refuse
ARCHIVE_BUILDERS = {"zip_bomb": zip_bomb}
FOLDER_BUILDERS = {"labels_csv_short_row": labels_csv_short_row, "labels_csv_long_field": labels_csv_long_field}
BUILDERS = {**EVENT_FILE_BUILDERS, **ARCHIVE_BUILDERS, **FOLDER_BUILDERS}
