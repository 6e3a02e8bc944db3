"""Every ``SNN_*`` environment variable the engine and the app read, in one place: each one's name, parser, default
and meaning (``SETTINGS``). Readers call ``read`` instead of ``os.environ``, so a value is parsed and refused the
same way wherever it is read; the CLI and the app check them all once at start (``check_all``); README's table is
``describe()``, and a test keeps the two equal.

An unset or blank variable means its default. A bad value is a ValueError naming the variable, the value (cut to
``SHOWN`` characters) and what is allowed. Below every room: the standard library only, so any module may ask.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHOWN = 40      # characters of a bad value a message repeats: the value may be anything, the message stays one line


@dataclass(frozen=True)
class Megabytes:
    """A finite number of megabytes: positive, or also 0 with ``zero`` (where 0 means "keep nothing" or "off")."""

    zero: bool = False

    def parse(self, text: str) -> float | None:
        """The number, or None when ``text`` is not one allowed (NaN and infinity never are: no size is)."""
        try:
            value = float(text)
        except ValueError:
            return None
        return value if math.isfinite(value) and (value > 0 or (self.zero and value == 0)) else None

    @property
    def allowed(self) -> str:
        return "a number of megabytes >= 0" if self.zero else "a positive number of megabytes"


@dataclass(frozen=True)
class Count:
    """A whole number from ``low`` to ``high`` (None: no upper bound), written in ASCII digits only."""

    low: int
    high: int | None = None
    unit: str = ""          # what is counted, for the message where there is no upper bound

    def parse(self, text: str) -> int | None:
        # 19 digits and more count nothing real, and int() refuses 4,301 with a message of its own
        if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 18:
            return None
        value = int(text)
        return value if value >= self.low and (self.high is None or value <= self.high) else None

    @property
    def allowed(self) -> str:
        if self.high is None:
            return f"a whole number of {self.unit} >= {self.low}"
        return f"an integer {self.low}..{self.high}"


@dataclass(frozen=True)
class Folder:
    """A folder's path, taken as written (any text is a path; whether it can be used is known only when used)."""

    allowed = "a folder's path"

    def parse(self, text: str) -> Path:
        return Path(text)


@dataclass(frozen=True)
class Flag:
    """On when set to any text (``SNN_TRACEBACK=1``, or ``=0`` too: set is on), off when unset or blank."""

    allowed = "any text (set: on)"

    def parse(self, text: str) -> bool:
        return True


@dataclass(frozen=True)
class Setting:
    """One environment variable: ``kind`` parses it, ``default`` is its value when unset (None: the reader works
    it out, ``unset`` says how). A bad value's message reads
    ``NAME='value' is not {is_not}; allowed: {kind.allowed} {note}, or unset for {unset}``."""

    name: str
    kind: Megabytes | Count | Folder | Flag
    default: Any            # of the type ``kind`` parses to, or None
    meaning: str
    is_not: str = "valid"
    note: str = ""          # what a special value means, e.g. "(0 keeps nothing)"
    unset: str = ""         # the default in words; needed where ``default`` is not a number

    @property
    def allowed(self) -> str:
        return f"{self.kind.allowed} {self.note}".strip()

    @property
    def default_text(self) -> str:
        return self.unset or f"{self.default:g}"


def decode_limit(name: str, default_mb: float, meaning: str = "megabytes one file may decode to") -> Setting:
    """A limit on what one file may decode to (``files.Limit`` reads it): a positive number of megabytes."""
    return Setting(name, Megabytes(), default_mb, meaning, is_not="a size")


DATA_DIR = Setting("SNN_DATA_DIR", Folder(), None,
                   "where `snn data fetch` puts datasets; searched first for a dataset's folder",
                   unset="the user cache folder (`~/.cache/snn-explorer/data` on Linux)")
DATA_CACHE_MB = Setting("SNN_DATA_CACHE_MB", Megabytes(zero=True), 1024,
                        "loaded datasets kept in memory, least recently used evicted first",
                        is_not="a cache size", note="(0 keeps nothing)")
FRAME_CACHE_DIR = Setting("SNN_FRAME_CACHE_DIR", Folder(), Path(".cache") / "frames",
                          "the folder of framed real datasets (the frame cache)",
                          unset="`.cache/frames` under the working folder")
FRAME_CACHE_MB = Setting("SNN_FRAME_CACHE_MB", Megabytes(zero=True), 2048,
                         "the frame cache's size cap, least recently used entries evicted first",
                         is_not="a cache size", note="(0 turns the cache off)")
LOADER_WORKERS = Setting("SNN_LOADER_WORKERS", Count(0, unit="worker processes"), None,
                         "worker processes that read a training split's batches from the frame cache",
                         note="(0 = read in the training process)",
                         unset="one per two cores for large splits on disk, else 0")
MAX_FILE_DECODE_MB = decode_limit("SNN_MAX_FILE_DECODE_MB", 2048,
                                  "megabytes one event file, or the frames made of it, may decode to")
MAX_NIR_DECODE_MB = decode_limit("SNN_MAX_NIR_DECODE_MB", 512, "megabytes a `.nir` file's datasets may decode to")
MEMORY_BUDGET_MB = Setting("SNN_MEMORY_BUDGET_MB", Megabytes(), None,
                           "memory for the whole server's runs, twins, jobs and recordings (the CLI: one run)",
                           is_not="a memory budget", note="(e.g. 8000)", unset="half the machine's memory")
RUN_CACHE_DIR = Setting("SNN_RUN_CACHE_DIR", Folder(), Path(".cache") / "runs",
                        "the folder of finished runs (the run cache) the app, `compare`, `sweep` and `reproduce` reuse",
                        unset="`.cache/runs` under the working folder")
RUN_CACHE_MB = Setting("SNN_RUN_CACHE_MB", Megabytes(zero=True), 500,
                       "the run cache's size cap (its folder, and its copy in memory)", is_not="a cache size")
# benchmarks/threads.py: on 2 cores one thread per process beat two (docs/PERFORMANCE.md); more than 256 only
# oversubscribes any machine (the CLI's --threads bound too)
MAX_THREADS = 256
THREADS = Setting("SNN_THREADS", Count(1, MAX_THREADS), 1,
                  "torch CPU threads per process, where `--threads` is not given")
TRACEBACK = Setting("SNN_TRACEBACK", Flag(), False,
                    "the CLI raises an unexpected error with its traceback instead of one line", unset="off")
SETTINGS = (DATA_DIR, DATA_CACHE_MB, FRAME_CACHE_DIR, FRAME_CACHE_MB, LOADER_WORKERS, MAX_FILE_DECODE_MB,
            MAX_NIR_DECODE_MB, MEMORY_BUDGET_MB, RUN_CACHE_DIR, RUN_CACHE_MB, THREADS, TRACEBACK)


def read(setting: Setting, environ: Mapping[str, str] = os.environ) -> Any:
    """``setting``'s value in ``environ``: its default when unset or blank; ValueError naming the variable, the
    value and what is allowed when its kind refuses it."""
    text = environ.get(setting.name, "").strip()
    if not text:
        return setting.default
    value = setting.kind.parse(text)
    if value is None:
        shown = text if len(text) <= SHOWN else text[:SHOWN - 1] + "…"
        raise ValueError(f"{setting.name}={shown!r} is not {setting.is_not}; allowed: {setting.allowed}, "
                         f"or unset for {setting.default_text}")
    return value


def check_all(environ: Mapping[str, str] = os.environ) -> list[str]:
    """Every setting's problem in ``environ`` (none: []), so a bad one is named at start, not when first read."""
    problems = []
    for setting in SETTINGS:
        try:
            read(setting, environ)
        except ValueError as problem:
            problems.append(str(problem))
    return problems


def describe() -> str:
    """The settings as a Markdown table, README's "Environment settings" (a test keeps the two equal)."""
    rows = [f"| `{s.name}` | {s.meaning} | {s.allowed} | {s.default_text} |" for s in SETTINGS]
    return "\n".join(["| variable | what it sets | allowed | unset |", "|---|---|---|---|", *rows])
