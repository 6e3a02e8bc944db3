"""A real ``compare`` process interrupted (SIGINT) once its first run has finished: the scenario both the test suite
(``tests/core/experiments/test_compare.py``) and the reliability benchmark (``benchmarks/reliability.py``) drive."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple


class Interrupted(NamedTuple):
    process: subprocess.Popen       # ended: its return code and pid (its session) are what callers check
    stdout: str
    stderr: str
    progress: str                   # the progress lines read before the signal


def interrupt_compare(base: str, workers: str, out: Path, cwd: Path | None = None) -> Interrupted:
    """``compare --base BASE --variant max-spikes=1 --seeds 20`` on ``workers`` processes, writing ``out``, sent
    SIGINT as soon as its stderr reports the first finished run (of 40); killed if it outlives 120 s after that."""
    proc = subprocess.Popen([sys.executable, "-m", "snn_core", "compare", "--base", base, "--variant", "max-spikes=1",
                             "--seeds", "20", "--workers", workers, "--no-cache", "--out", str(out)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        progress = []
        for line in proc.stderr:
            progress.append(line)
            if line.startswith("run 1/40"):
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return Interrupted(proc, stdout, stderr, "".join(progress))
