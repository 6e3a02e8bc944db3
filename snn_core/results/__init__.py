"""Typed results: what a run, a comparison and a sweep produced, as frozen records, their JSON form, and one table.

- ``RunResult`` (``run_result.py``): one run, finished, failed or cancelled: its ``RunConfig``, per-epoch
  ``history`` (the trainer's ``EpochRecord``), final ``Metrics`` with the same fields for every run (None where a run
  measures nothing: redundancy without conv layers, decisions without a first-spike readout, robustness when not
  asked for), per-layer activity, redundancy, decision and robustness sub-records, ``DataSource``, ``Timing``, and a
  batch slot's ``cached``/``error``. ``to_json()`` is the CLI's layout (a public interface, unchanged);
  ``from_json()`` reads it and every older layout (``run_result.LAYOUTS``) and refuses anything else with a
  ValueError naming the wrong value, since cache files and uploaded results are untrusted.
- ``results_table(runs)`` (``table.py``): many runs as one pandas DataFrame, a row per run: config by CLI name,
  each scalar metric (per-layer and robustness values flattened to dotted names, ``layer_firing_rates.fc1``,
  ``robustness.jitter.2``), ``error`` and ``cached``. Compare and sweep compute their statistics on its columns.
- ``Comparison``, ``Sweep`` (``comparison.py``): the CLI's ``compare``/``sweep`` results, their statistics typed as
  ``MeanCI`` and ``PairedStat`` (mean, ci_low, ci_high, sd, n, note; wins, losses, ties).
- ``json_tree.py``: JSON written valid (NaN as null plus where it was) and read with every type checked.

Readers use attributes and table columns, never a result's JSON by string (a test reads the code for it). This
room sits after ``training/`` and before ``experiments/``, which builds these records (``experiments.run``,
``batch``, ``compare``).
"""
from .comparison import Comparison, MeanCI, PairedStat, SeedPair, Sweep, SweepPoint
from .run_result import DataSource, LayerActivity, Metrics, Redundancy, RobustnessCurve, RunResult, Timing
from .table import numeric_metrics, results_table

__all__ = ["Comparison", "DataSource", "LayerActivity", "MeanCI", "Metrics", "PairedStat", "Redundancy",
           "RobustnessCurve", "RunResult", "SeedPair", "Sweep", "SweepPoint", "Timing", "numeric_metrics",
           "results_table"]
