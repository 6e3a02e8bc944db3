"""Many runs as one table: one row per run, its config by CLI name, every scalar metric (per-layer and robustness
values flattened to dotted names) and the batch columns ``error`` and ``cached``. What compare, sweep and the
statistics read; a metric a run did not measure is NaN in its row."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..config.run_config import RunConfig, cli_index
from .run_result import RunResult

SEED = "seed"                   # the CLI name of ``training.seed``: what a comparison pairs runs by
BATCH_COLUMNS = ("error", "cached")


def with_seed(cfg: RunConfig, seed: int) -> RunConfig:
    return cfg.with_values({SEED: seed})


def numeric_metrics(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Scalar metrics, with nested dicts flattened to dotted names at any depth (``layer_firing_rates.fc1``,
    ``robustness.jitter.2``); lists and None are left out."""
    flat = {}
    for name, value in metrics.items():
        if _is_number(value):
            flat[f"{prefix}{name}"] = float(value)
        elif isinstance(value, dict):
            flat.update(numeric_metrics(value, f"{prefix}{name}."))
    return flat


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def run_metrics(run: RunResult) -> dict[str, float]:
    """A run's scalar metrics by column name (``numeric_metrics`` of its JSON metrics); {} without metrics."""
    return {} if run.metrics is None else numeric_metrics(run.metrics.to_json())


def config_columns(cfg: RunConfig) -> dict[str, object]:
    """Every config field by its CLI name (``seed`` among them), with its value."""
    return {name: getattr(getattr(cfg, section), fld.name) for name, (section, fld) in cli_index().items()}


def results_table(runs: Sequence[RunResult]) -> pd.DataFrame:
    """One row per run, in order: config columns, metric columns (in the order the runs first report them), then
    ``error`` (None when it finished) and ``cached`` (None outside a batch)."""
    rows = [{**config_columns(run.config), **run_metrics(run), "error": run.error, "cached": run.cached}
            for run in runs]
    return pd.DataFrame(rows, columns=_columns(rows) if rows else [*config_columns(RunConfig()), *BATCH_COLUMNS])


def _columns(rows: list[dict]) -> list[str]:
    seen = dict.fromkeys(name for row in rows for name in row if name not in BATCH_COLUMNS)
    return [*seen, *BATCH_COLUMNS]


def common_metrics(runs: Sequence[RunResult]) -> list[str]:
    """The metric columns every one of ``runs`` reports (a NaN it measured counts, a metric it lacks does not), in
    the order of the first; what the statistics of a set of runs are taken over."""
    flats = [run_metrics(run) for run in runs]
    if not flats:
        return []
    return [name for name in flats[0] if all(name in flat for flat in flats[1:])]
