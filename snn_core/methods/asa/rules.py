"""ASA's rules for combining its channel and time masks into the important (t, c) slices (``methods.asa_rule``)."""
from __future__ import annotations

import torch

RULES = ("xor", "and", "or")


def combine(rule: str, c, t):
    """The important mask from the channel and time masks (bool or soft in [0, 1])."""
    if c.dtype == torch.bool:
        return {"xor": c ^ t, "and": c & t, "or": c | t}[rule]
    return {"xor": c + t - 2 * c * t, "and": c * t, "or": c + t - c * t}[rule]
