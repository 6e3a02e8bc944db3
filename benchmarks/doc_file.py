"""Writing a generated doc without losing what other benchmarks appended to it.

``docs/PERFORMANCE.md`` and ``docs/APP_PERFORMANCE.md`` are rewritten whole by their own benchmark, while other
benchmarks add a section at the end (the library comparison, the session soak). Everything from ``KEPT`` on is
carried over on each rewrite, so those sections survive.
"""
from __future__ import annotations

from pathlib import Path

KEPT = "<!-- sections below are written by other benchmarks and kept when this file is regenerated -->"


def write_keeping_tail(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path``, followed by the part of the old file from ``KEPT`` on (if it had one)."""
    path = Path(path)
    old = path.read_text() if path.is_file() else ""
    tail = old[old.index(KEPT):] if KEPT in old else ""
    path.write_text(text.rstrip("\n") + "\n\n" + tail if tail else text)
