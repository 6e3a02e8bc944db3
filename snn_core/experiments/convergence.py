"""Whether a run had converged when it stopped: its validation accuracy flat over the last epochs (issue 26).

    converged  <=>  max(val[E-k+1 .. E]) - max(val[1 .. E-k]) <= tolerance

with k = ``WINDOW`` epochs and ``TOLERANCE`` = 1 point: the last k epochs add at most a point to the best
validation accuracy seen before them. A run still climbing would have gained from more epochs, so a row whose
runs are not converged says so (or its arm trains longer) instead of reading as the arm's ceiling.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..results.run_result import RunResult

WINDOW = 3
TOLERANCE = 0.01


def converged(run: RunResult, window: int = WINDOW, tolerance: float = TOLERANCE) -> bool | None:
    """The test above on ``run.history``; None for a failed run, one without validation accuracy, or one with no
    more than ``window`` epochs (nothing before the window to compare with)."""
    if window < 1 or not tolerance >= 0:
        raise ValueError(f"window={window!r}, tolerance={tolerance!r} are not valid; allowed: window >= 1, "
                         "tolerance >= 0")
    values = [record.validation_accuracy for record in run.history]
    measured = [value for value in values if value is not None]
    if not run.ok or len(values) <= window or len(measured) != len(values):
        return None
    return max(measured[-window:]) - max(measured[:-window]) <= tolerance


def convergence_note(runs: Sequence[RunResult], window: int = WINDOW, tolerance: float = TOLERANCE) -> str:
    """"converged in m of n runs" (what the test could judge), for a report row."""
    verdicts = [converged(run, window, tolerance) for run in runs]
    judged = [verdict for verdict in verdicts if verdict is not None]
    if not judged:
        return "convergence not judged (no validation history)"
    return f"converged in {sum(judged)} of {len(judged)} runs"
