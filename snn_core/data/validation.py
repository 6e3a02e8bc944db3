"""The validation split: a fixed, stratified part of a dataset's training split, for choosing settings.

Tuning (presets, hyperparameters, epochs) reads validation accuracy only; the test split is reported, never
chosen on. ``data.validation`` = f holds out ``n_val = round(f n)`` of the ``n`` training samples (halves round
up) when that is at least ``MIN_SAMPLES`` and leaves as many to train on; otherwise (f = 0, or a training split
too small) none, and the run reports no validation accuracy (None). Each class c of ``n_c`` samples gets
``floor(f n_c)`` of them, and the ``n_val - sum floor(f n_c)`` left over go one each to the classes with the
largest remainders ``f n_c - floor(f n_c)`` (ties: the larger class, then the lower label), so every class is
within one sample of its share. Which samples of a class are
held out is a draw from ``numpy.random.default_rng([data_seed, VALIDATION_STREAM])``: the split depends on the
data seed and the training labels alone, so it is the same for every training seed and every method arm, and
it never moves the test split (drawn from other streams).
"""
from __future__ import annotations

import numpy as np

VALIDATION_STREAM = 0x7A11D    # the draw's own stream under data.data_seed: no other draw of the seed shares it
MIN_SAMPLES = 2                # a split of one sample measures nothing; faithful ASA's batch-pooled masks need two


def validation_indices(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held): sorted indices into ``labels`` of the samples left for training and of the validation
    samples (see the module's docstring)."""
    labels = np.asarray(labels)
    n = len(labels)
    if not 0.0 <= fraction <= 0.5:
        raise ValueError(f"validation={fraction!r} is not valid; allowed: a fraction from 0 (off) to 0.5")
    total = int(np.floor(fraction * n + 0.5))
    if total < MIN_SAMPLES or n - total < MIN_SAMPLES:
        return np.arange(n), np.zeros(0, dtype=np.int64)
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.floor(fraction * counts).astype(np.int64)
    remainders = fraction * counts - quota
    order = np.lexsort((classes, -counts, -remainders))           # largest remainder, then larger class, label
    quota[order[:total - int(quota.sum())]] += 1
    rng = np.random.default_rng([seed, VALIDATION_STREAM])
    held = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:q] for c, q in zip(classes, quota)])
    mask = np.zeros(n, dtype=bool)
    mask[held] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def split_off(x, y: np.ndarray, fraction: float, seed: int) -> tuple:
    """(train_x, train_y, val_x, val_y) of a training split ``x, y``: views of it when nothing is held out,
    else new arrays (``validation_indices``). Frames on disk (anything with ``subset``, e.g.
    ``frame_cache.DiskFrames``) are split by index: no frame is read or copied."""
    def rows(indices):
        return x.subset(indices) if hasattr(x, "subset") else x[indices]

    if fraction == 0:
        return x, y, rows(slice(0, 0)), y[:0]
    kept, held = validation_indices(y, fraction, seed)
    return rows(kept), y[kept], rows(held), y[held]
