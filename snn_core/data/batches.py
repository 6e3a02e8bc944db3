"""A training epoch's batches, read in the trainer's own order: frames in memory are indexed directly, a real
dataset's frames on disk (``frame_cache.DiskFrames``) through a torch ``DataLoader`` whose sampler is that order, so
both give exactly the batches of direct indexing, and large folders are read ahead by worker processes."""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import torch

from .. import settings
from . import Frames
from .frame_cache import DiskFrames

LOADER_WORKERS_ENV = settings.LOADER_WORKERS.name
WORKERS_FROM = 8192     # training splits on disk at least this large are read by worker processes


def loader_workers(x: Frames) -> int:
    """Worker processes that read a training split's batches: ``$SNN_LOADER_WORKERS`` when set, else 0 for frames
    in memory (indexing them is a copy) and for splits on disk under ``WORKERS_FROM`` samples (their file sits in
    the page cache after the first epoch; starting workers each epoch would cost more than it hides), else one per
    two cores (1 on a 2-core machine: the other core, and torch's threads, train)."""
    chosen = settings.read(settings.LOADER_WORKERS)
    if chosen is not None:
        return chosen if isinstance(x, DiskFrames) else 0
    if not isinstance(x, DiskFrames) or len(x) < WORKERS_FROM:
        return 0
    return max(1, (os.cpu_count() or 1) // 2)


class _Batches(torch.utils.data.Dataset):
    """A split as a map-style torch dataset whose items are whole batches: ``self[rows]`` = (x[rows], y[rows])."""

    def __init__(self, x: Frames, y: torch.Tensor):
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[rows], self.y[rows]


def batches(x: Frames, y: torch.Tensor, order: Sequence[torch.Tensor]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(x[rows], y[rows])`` for each ``rows`` of ``order``, in that order: frames in memory indexed directly, frames
    on disk read by a torch ``DataLoader`` whose sampler is ``order`` itself (``loader_workers`` processes, two
    batches ahead each), so the batches are exactly those of direct indexing."""
    workers = loader_workers(x)
    if workers == 0:
        return ((x[rows], y[rows]) for rows in order)
    loader = torch.utils.data.DataLoader(_Batches(x, y), sampler=list(order), batch_size=None, num_workers=workers,
                                         prefetch_factor=2)
    return iter(loader)
