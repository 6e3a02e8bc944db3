"""A paired comparison and a sweep as typed records: their runs (``RunResult``) and, per metric, the statistics
(``MeanCI``, ``PairedStat``) that ``experiments.compare`` computed over the runs' table. ``to_json()`` is the layout
the CLI's ``compare`` and ``sweep`` print; ``from_json`` reads it back (a run's config there is the top-level one
with the run's seed, or with the sweep's value too)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self, TypeVar

from ..config.run_config import RunConfig, cli_index
from .json_tree import by_name, integer, items, number, obj, text, without_non_finite_list
from .run_result import RunResult
from .table import SEED, with_seed


@dataclass(frozen=True)
class MeanCI:
    """Mean, Student-t confidence interval and standard deviation of one metric over ``n`` runs
    (``experiments.stats.mean_ci``); with fewer than 2 runs the CI and sd are None and ``note`` says why."""
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    sd: float | None
    n: int
    note: str | None

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    OPTIONAL: ClassVar[tuple[str, ...]] = ()          # keys an older layout lacks (read as None)

    @classmethod
    def from_json(cls, node, where: str = "statistic") -> Self:
        names = [f.name for f in fields(cls)]
        node = obj(node, where, names, [name for name in names if name not in cls.OPTIONAL])
        whole = {"n", "wins", "losses", "ties"}
        # each field by name, of this class or a subclass: a count, the note, or an optional number
        values: dict[str, Any] = {name: integer(node[name], f"{where}.{name}") if name in whole else
                                  text(node[name], f"{where}.{name}", True) if name == "note" else
                                  number(node.get(name), f"{where}.{name}", True) for name in names}
        return cls(**values)


@dataclass(frozen=True)
class PairedStat(MeanCI):
    """``MeanCI`` of the per-seed differences variant - base, how many seeds the variant was above (wins), below
    (losses) or equal (ties), the paired t-test's two-sided p-value and the minimum detectable effect at 80% power
    (``experiments.stats.paired``; both None in results saved before issue 26, and with fewer than 2 pairs)."""
    wins: int
    losses: int
    ties: int
    p_value: float | None = None
    mde: float | None = None

    OPTIONAL: ClassVar[tuple[str, ...]] = ("p_value", "mde")


StatT = TypeVar("StatT", bound=MeanCI)


def _stats(node, where: str, kind: type[StatT]) -> dict[str, StatT]:
    return by_name(node, where, kind.from_json)


def _stats_json(table: Mapping[str, MeanCI]) -> dict:
    return {name: stat.to_json() for name, stat in table.items()}


def _arm_json(run: RunResult) -> dict:
    """A run's JSON without its config (the record that holds it names the config)."""
    return {key: value for key, value in run.to_json().items() if key != "config"}


def _interruption(tree: dict, where: str) -> tuple[dict, ...] | None:
    """The runs the CLI listed as unfinished after a Ctrl-C (``"interrupted": true``), or None."""
    if "interrupted" not in tree:
        return None
    if tree["interrupted"] is not True:
        raise ValueError(f"{where}.interrupted is not true")
    listed = items(tree.get("unfinished", []), f"{where}.unfinished")
    return tuple(obj(entry, f"{where}.unfinished[{i}]") for i, entry in enumerate(listed))


def _counts(tree: dict, where: str) -> dict[str, int]:
    """``failed_runs`` and ``unfinished_runs`` (0 where a layout before bf09685 had no such count)."""
    return {"failed_runs": integer(tree["failed_runs"], f"{where}.failed_runs"),
            "unfinished_runs": integer(tree.get("unfinished_runs", 0), f"{where}.unfinished_runs")}


def _config(node, where: str) -> RunConfig:
    try:
        return RunConfig.from_dict(node)
    except (ValueError, TypeError) as problem:
        raise ValueError(f"{where}: {problem}") from None


def _seeds(node, where: str) -> tuple[int, ...]:
    return tuple(integer(seed, f"{where}[{i}]") for i, seed in enumerate(items(node, where)))


@dataclass(frozen=True)
class SeedPair:
    """The two runs of one seed."""
    seed: int
    base: RunResult
    variant: RunResult


@dataclass(frozen=True)
class Comparison:
    """Base and variant trained on the same seeds: the pairs whose two runs both finished, the paired statistics
    per metric (variant - base over the seeds where both succeeded), each arm's summary, and the counts of failed
    and unfinished runs. ``unfinished`` lists the runs a Ctrl-C stopped (the CLI's), None otherwise."""
    base: RunConfig
    variant: RunConfig
    seeds: tuple[int, ...]
    per_seed: tuple[SeedPair, ...]
    paired: dict[str, PairedStat]
    base_summary: dict[str, MeanCI]
    variant_summary: dict[str, MeanCI]
    failed_runs: int
    unfinished_runs: int
    unfinished: tuple[dict, ...] | None = None

    def to_json(self) -> dict:
        tree = {"base": self.base.to_dict(), "variant": self.variant.to_dict(), "seeds": list(self.seeds),
                "per_seed": [{"seed": pair.seed, "base": _arm_json(pair.base), "variant": _arm_json(pair.variant)}
                             for pair in self.per_seed],
                "paired": _stats_json(self.paired),
                "summary": {"base": _stats_json(self.base_summary), "variant": _stats_json(self.variant_summary)},
                "failed_runs": self.failed_runs, "unfinished_runs": self.unfinished_runs}
        if self.unfinished is not None:
            tree.update(interrupted=True, unfinished=list(self.unfinished))
        return tree

    @classmethod
    def from_json(cls, tree, where: str = "comparison") -> Comparison:
        tree = without_non_finite_list(tree, where)
        required = ("base", "variant", "seeds", "per_seed", "paired", "summary", "failed_runs")
        obj(tree, where, (*required, "unfinished_runs", "interrupted", "unfinished"), required)
        base, variant = _config(tree["base"], f"{where}.base"), _config(tree["variant"], f"{where}.variant")
        pairs = []
        for i, node in enumerate(items(tree["per_seed"], f"{where}.per_seed")):
            at = f"{where}.per_seed[{i}]"
            node = obj(node, at, ("seed", "base", "variant"), ("seed", "base", "variant"))
            seed = integer(node["seed"], f"{at}.seed")
            pairs.append(SeedPair(seed, RunResult.from_json(node["base"], with_seed(base, seed), f"{at}.base"),
                                  RunResult.from_json(node["variant"], with_seed(variant, seed), f"{at}.variant")))
        summary = obj(tree["summary"], f"{where}.summary", ("base", "variant"), ("base", "variant"))
        return cls(base, variant, _seeds(tree["seeds"], f"{where}.seeds"), tuple(pairs),
                   _stats(tree["paired"], f"{where}.paired", PairedStat),
                   _stats(summary["base"], f"{where}.summary.base", MeanCI),
                   _stats(summary["variant"], f"{where}.summary.variant", MeanCI),
                   **_counts(tree, where), unfinished=_interruption(tree, where))


@dataclass(frozen=True)
class SweepPoint:
    """One value of the swept option: its finished runs, their summary, and the paired difference to the first
    point's runs seed by seed."""
    value: object
    runs: tuple[RunResult, ...]
    summary: dict[str, MeanCI]
    paired_vs_first: dict[str, PairedStat]

    def to_json(self) -> dict:
        return {"value": self.value, "runs": [{SEED: run.seed, **_arm_json(run)} for run in self.runs],
                "summary": _stats_json(self.summary), "paired_vs_first": _stats_json(self.paired_vs_first)}


@dataclass(frozen=True)
class Sweep:
    """``config`` trained with each value of the CLI option ``parameter`` on every seed, point by point."""
    config: RunConfig
    parameter: str
    values: tuple
    seeds: tuple[int, ...]
    points: tuple[SweepPoint, ...]
    failed_runs: int
    unfinished_runs: int
    unfinished: tuple[dict, ...] | None = None

    def to_json(self) -> dict:
        tree = {"config": self.config.to_dict(), "parameter": self.parameter, "values": list(self.values),
                "seeds": list(self.seeds), "points": [point.to_json() for point in self.points],
                "failed_runs": self.failed_runs, "unfinished_runs": self.unfinished_runs}
        if self.unfinished is not None:
            tree.update(interrupted=True, unfinished=list(self.unfinished))
        return tree

    @classmethod
    def from_json(cls, tree, where: str = "sweep") -> Sweep:
        tree = without_non_finite_list(tree, where)
        required = ("config", "parameter", "values", "seeds", "points", "failed_runs")
        obj(tree, where, (*required, "unfinished_runs", "interrupted", "unfinished"), required)
        config = _config(tree["config"], f"{where}.config")
        parameter = text(tree["parameter"], f"{where}.parameter")
        if parameter not in cli_index():
            raise ValueError(f"{where}.parameter {parameter!r:.40} is not an option; allowed: "
                             f"{', '.join(sorted(cli_index()))}")
        points = [_point(node, config, parameter, f"{where}.points[{i}]")
                  for i, node in enumerate(items(tree["points"], f"{where}.points"))]
        return cls(config, parameter, tuple(items(tree["values"], f"{where}.values")),
                   _seeds(tree["seeds"], f"{where}.seeds"), tuple(points), **_counts(tree, where),
                   unfinished=_interruption(tree, where))


def _point(node, config: RunConfig, parameter: str, where: str) -> SweepPoint:
    keys = ("value", "runs", "summary", "paired_vs_first")
    node = obj(node, where, keys, keys)
    section, fld = cli_index()[parameter]
    tree = config.to_dict()
    tree[section][fld.name] = node["value"]
    point = _config(tree, f"{where}.value")
    runs = []
    for i, run in enumerate(items(node["runs"], f"{where}.runs")):
        at = f"{where}.runs[{i}]"
        run = obj(run, at, None, (SEED,))
        seed = integer(run[SEED], f"{at}.{SEED}")
        arm = {key: value for key, value in run.items() if key != SEED}
        runs.append(RunResult.from_json(arm, with_seed(point, seed), at))
    return SweepPoint(node["value"], tuple(runs), _stats(node["summary"], f"{where}.summary", MeanCI),
                      _stats(node["paired_vs_first"], f"{where}.paired_vs_first", PairedStat))
