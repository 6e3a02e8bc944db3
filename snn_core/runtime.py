"""Where and how torch runs: the device (CPU by default, CUDA when present) and the CPU thread count."""
from __future__ import annotations

import torch

from . import settings

DEFAULT_THREADS = settings.THREADS.default      # settings.THREADS says why 1, and why at most 256
MAX_THREADS = settings.MAX_THREADS              # the CLI's --threads bound too (snn_core.cli)


def resolve_device(requested: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but no CUDA device is available; allowed here: auto, cpu")
    if requested not in ("cpu", "cuda"):
        raise ValueError(f"device={requested!r} is not known; allowed: auto, cpu, cuda")
    return torch.device(requested)


def configure_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads: the argument, else $SNN_THREADS, else ``DEFAULT_THREADS``."""
    if threads is None:
        threads = settings.read(settings.THREADS)
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads={threads} is not valid; allowed: an integer 1..{MAX_THREADS}")
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
