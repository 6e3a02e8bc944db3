"""A run's slot in a batch, whoever ran it: a finished run's result, a failed run's error, a cancelled run; and the
engine fingerprint that says which code produced it (the run cache's key, and what a Ray worker must match)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from ..config.run_config import RunConfig
from ..results.run_result import RunResult

CANCELLED = "Cancelled"                         # the error of a run that a cancel stopped or never started


NOT_IN_A_RUN = ("report",)      # rooms of snn_core that only compose and word runs: no run executes their code


def fingerprinted_files() -> list[Path]:
    """Every ``snn_core`` source file a run may execute: all of them but the rooms in ``NOT_IN_A_RUN`` (the report's
    wording never changes a run's result, so editing it keeps the run cache)."""
    root = Path(__file__).parents[1]                   # snn_core/
    return [path for path in sorted(root.rglob("*.py")) if path.relative_to(root).parts[0] not in NOT_IN_A_RUN]


def engine_fingerprint() -> str:
    """SHA-256 of the torch version and every source file a run may execute (``fingerprinted_files``): a code change
    never serves a stale cached result."""
    digest = hashlib.sha256(torch.__version__.encode())
    root = Path(__file__).parents[1]
    for path in fingerprinted_files():
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def failed_slot(cfg: RunConfig, problem: BaseException) -> RunResult:
    """The slot of a run that raised ``problem``: no history or metrics, ``error`` its type and first line."""
    message = str(problem).splitlines()[0] if str(problem) else ""
    return RunResult(cfg, cached=False, error=f"{type(problem).__name__}: {message}")


def cancelled_slot(cfg: RunConfig) -> RunResult:
    return RunResult(cfg, cached=False, error=f"{CANCELLED}: the batch was cancelled before this run finished")


def is_cancelled(slot: RunResult | None) -> bool:
    """Whether ``slot`` is a cancelled slot (a run stopped or never started by a cancel), not a failed run."""
    return slot is not None and (slot.error or "").startswith(CANCELLED)
