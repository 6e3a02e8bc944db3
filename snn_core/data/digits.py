"""scikit-learn's 8x8 handwritten digits (real scans shipped with scikit-learn) as 1x8x8 images in [0, 1]."""
from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from .validation import split_off

CLASS_NAMES = tuple(str(d) for d in range(10))
PIXEL_MAX = 16.0          # the scans are 4-bit grey levels 0..16
TEST_FRACTION = 0.2       # 1,797 images -> 1,437 train / 360 test


def load_digit_arrays(train_samples: int | None, test_samples: int | None, seed: int, validation: float = 0.0):
    """(train_x, train_y, test_x, test_y, val_x, val_y): a stratified train/test split with a fixed seed, each
    part capped at the requested size (None: the whole part; it is already shuffled), then ``validation`` of the
    capped training part held out (``snn_core.data.validation``: 1,437 -> 1,293 train + 144 validation at 0.1)."""
    bunch = load_digits()
    images = (bunch.images / PIXEL_MAX).astype(np.float32)[:, None]     # (N, 1, 8, 8)
    labels = bunch.target.astype(np.int64)                             # (N,)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=TEST_FRACTION, stratify=labels, random_state=seed)
    train_x, train_y, val_x, val_y = split_off(train_x[:train_samples], train_y[:train_samples], validation, seed)
    return train_x, train_y, test_x[:test_samples], test_y[:test_samples], val_x, val_y
