"""Why a run cannot be made or go on, in one line for the page (no Streamlit here: the live run's background
thread uses it too)."""
from __future__ import annotations

from snn_core.config.budget import out_of_memory_message

FAILURES = (ValueError, OSError, MemoryError, RuntimeError)   # what a page catches around a run's construction/step


def failure_message(problem: BaseException) -> str:
    """One line for the page when a run cannot be made or go on: an out-of-memory error says which settings to
    lower (``snn_core.config.budget.out_of_memory_message``); a ValueError or OSError is already a message; any
    other RuntimeError is named with its type (a failure inside torch, not a setting the user chose)."""
    memory = out_of_memory_message(problem)
    if memory is not None:
        return memory
    if isinstance(problem, (ValueError, OSError)):
        return str(problem)
    text = str(problem).splitlines()[0] if str(problem) else "no details"
    return f"{type(problem).__name__}: {text}"
