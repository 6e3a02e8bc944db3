"""Time constants in time steps and per-step decay factors: the one conversion between the two."""
from __future__ import annotations

import math


def decay_from_tau(tau_steps: float) -> float:
    """Per-step leak factor of the membrane, beta = exp(-1 / tau) with tau in time steps."""
    return math.exp(-1.0 / tau_steps)


def tau_from_decay(decay: float) -> float:
    """Inverse of ``decay_from_tau``: tau = -1 / ln(beta); beta = 1 means no leak (tau = inf)."""
    return math.inf if decay >= 1.0 else -1.0 / math.log(decay)
