"""How much the reproduction report spends: tuning trials per arm and the pairs a verdict needs.

Every arm of a section is tuned with the same number of trials (``experiments.tuning``), so the budget is one
number per profile, stated in the report. ``full`` is the report's own profile; ``quick`` is for a look in a
few minutes (fewer trials and seeds: wider intervals, and verdicts a reader should not quote).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    name: str
    trials: int          # tuning trials per arm, the same for every arm of a section
    min_seeds: int       # paired seeds a section's verdict needs (more than the report's --seeds when larger)


BUDGETS = {"full": Budget("full", trials=4, min_seeds=10), "quick": Budget("quick", trials=2, min_seeds=3)}
FULL = BUDGETS["full"]
