"""How the TTFS preset (``methods.ttfs.presets.TTFS_PRESET``) is checked: a small grid around it, both arms the
TTFS pages and report compare (K = 1 and unlimited) trained on the tuning seed, and the point whose worse arm has
the highest validation accuracy (``tuning.pick_for_all``: the preset is shared by both arms, so it must suit both).

    python -m snn_core.experiments.ttfs_preset_search [workers]

prints the table (16 runs of about 8 s each on one core); the preset's docstring quotes its outcome.
"""
from __future__ import annotations

import sys

from ..methods.ttfs.presets import ttfs_config
from .batch import Progress, RunCache
from .tuning import TUNE_SEED, pick_for_all, tune_arms, validation_scores

GRID = tuple({"tau-syn": tau, "latency-window": window, "lr": lr}
             for tau in (4.0, 8.0) for window in (16, 32) for lr in (3e-3, 1e-2))
ARMS = {"K = 1": {"max-spikes": 1}, "unlimited": {"max-spikes": 0}}


def search(workers=1, cache: RunCache | None = None, progress: Progress | None = None) -> tuple[dict, list[str]]:
    """The chosen grid point and a Markdown table of every point's validation accuracy per arm."""
    base = ttfs_config(robustness=False)
    tuned = tune_arms(base, ARMS, GRID, workers=workers, cache=cache, progress=progress)
    chosen = pick_for_all([slots for _, slots in tuned.values()])
    scores = {name: validation_scores(slots) for name, (_, slots) in tuned.items()}
    lines = [f"| {' | '.join(GRID[0])} | " + " | ".join(f"validation, {name}" for name in ARMS) + " | chosen |",
             "|---" * (len(GRID[0]) + len(ARMS) + 1) + "|"]
    for index, point in enumerate(GRID):
        cells = ["failed" if scores[name][index] is None else f"{scores[name][index]:.1%}" for name in ARMS]
        lines.append(f"| {' | '.join(f'{value:g}' for value in point.values())} | {' | '.join(cells)} | "
                     f"{'yes' if index == chosen else ''} |")
    return GRID[chosen], [f"Tuning seed {TUNE_SEED}, {base.data.validation:.0%} of the training split held out.", "",
                          *lines]


if __name__ == "__main__":
    best, table = search(workers=int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    print("\n".join(table))
    print(f"chosen: {best}")
