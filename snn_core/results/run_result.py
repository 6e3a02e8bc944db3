"""``RunResult``: one finished, failed or cancelled run as a frozen, typed record, and its JSON form.

``to_json()`` is the layout the CLI prints (a public interface): ``config, history, metrics`` and, as the run had
them, ``data``, ``timing`` and a batch slot's ``cached``/``error``; the metrics' keys follow the settings (redundancy
scalars only with conv layers, decision metrics only with a first-spike readout), the record's fields never do
(what a run lacks is None). ``from_json`` reads that layout and every older one the project wrote (``LAYOUTS``),
and refuses anything else with a ValueError naming the wrong value: cache files and uploaded results are untrusted.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..config.run_config import RunConfig, json_kind
from ..metrics.cost import CostMetrics, EnergyModel, LayerCost
from ..metrics.decisions import DecisionMetrics
from ..metrics.redundancy import RedundancyScores
from ..training.trainer import EpochRecord
from .json_tree import by_name, integer, items, number, obj, text, without_non_finite_list

LAYOUTS = """The layouts a run's JSON has had (each added to the one before; a missing key reads as None, {} or []):
  c5976e3  config, history (epoch, steps, losses, accuracies, nasfr, spikes_per_sample, train_seconds),
           metrics (accuracy, loss, nasfr, spikes, silent fraction, wall_seconds, layer_* dicts), timing
  6255ea1  history: layer_firing_rates
  9ad06ab  metrics: redundancy (+ its overall scores as scalars with conv layers)
  2c09b41  metrics: decision metrics with a first-spike readout
  fe1f822  history: loss_terms; metrics: reversal_agreement, reversal_kl, train_eval_accuracy, train_test_gap
  703a3de  history: decision_step_mean, no_decision_fraction; metrics: epochs_to_target, robustness;
           timing: robustness_seconds
  4895b2c  data (source, class_names); metrics: train_samples, test_samples
  98b1310  history and metrics: validation_accuracy; metrics: validation_samples; batch slots: cached, error
  (issue 26) metrics: selected_epoch, the epoch reported (training.select_epoch)
  (issue 29) metrics: cost (operations per layer and sample, energy at the stated pJ per operation)"""

REDUNDANCY_SCALARS = ("noise_channels", "null_channels", "temporal_similarity", "channel_similarity")
DECISION_KEYS = DecisionMetrics._fields
GENERALISATION = ("reversal_agreement", "reversal_kl", "train_eval_accuracy", "train_test_gap")
SAMPLES = ("train_samples", "validation_samples", "test_samples")
SCALARS = ("test_accuracy", "test_loss", "validation_accuracy", "nasfr", "spikes_per_sample", "silent_fraction",
           "wall_seconds")
OPTIONAL_SCALARS = {"validation_accuracy"}          # None without a validation split (or before 98b1310)
EPOCH_FIELDS = {f.name: f for f in fields(EpochRecord)}
EPOCH_REQUIRED = ("epoch", "steps", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "nasfr",
                  "spikes_per_sample", "train_seconds")


@dataclass(frozen=True)
class LayerActivity:
    """Firing statistics of each spiking layer (by name) on the test set (``metrics.activity``)."""
    firing_rates: dict[str, float]
    firing_rates_per_step: dict[str, list[float]]
    spikes_per_sample: dict[str, float]
    silent_fraction: dict[str, float]
    neurons: dict[str, int]

    def to_json(self) -> dict:
        return {f"layer_{f.name}": getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, metrics: dict, where: str = "metrics") -> LayerActivity:
        def rates(node: object, where: str) -> list[float]:
            return [number(value, f"{where}[{index}]") for index, value in enumerate(items(node, where))]
        readers: dict[str, Callable[[Any, str], Any]] = {"firing_rates_per_step": rates, "neurons": integer}
        return cls(**{f.name: by_name(metrics.get(f"layer_{f.name}", {}), f"{where}.layer_{f.name}",
                                      readers.get(f.name, number)) for f in fields(cls)})


@dataclass(frozen=True)
class Redundancy:
    """Channel redundancy of each conv layer (by name) and of all of them (``metrics.redundancy``)."""
    layers: dict[str, RedundancyScores]
    overall: RedundancyScores

    def to_json(self) -> dict:
        return {"layers": {name: scores.to_dict() for name, scores in self.layers.items()},
                "overall": self.overall.to_dict()}

    @classmethod
    def from_json(cls, node, where: str) -> Redundancy:
        node = obj(node, where, ("layers", "overall"), ("layers", "overall"))
        return cls(by_name(node["layers"], f"{where}.layers", _scores), _scores(node["overall"], f"{where}.overall"))


def _scores(node, where: str) -> RedundancyScores:
    names = [f.name for f in fields(RedundancyScores)]
    node = obj(node, where, names, names)

    def fraction(name: str) -> float:
        return number(node[name], f"{where}.{name}")

    def similarity(name: str) -> float | None:            # None: no counted pair
        return number(node[name], f"{where}.{name}", True)

    return RedundancyScores(noise_channels=fraction("noise_channels"), normal_channels=fraction("normal_channels"),
                            null_channels=fraction("null_channels"),
                            temporal_similarity=similarity("temporal_similarity"),
                            channel_similarity=similarity("channel_similarity"))


@dataclass(frozen=True)
class RobustnessCurve:
    """Test accuracy under one perturbation at each strength (``metrics.robustness``); level "0" is clean."""
    levels: tuple[str, ...]          # the strengths as the JSON keys them (``metrics.robustness.level_key``)
    accuracy: tuple[float, ...]

    @property
    def strengths(self) -> tuple[float, ...]:
        return tuple(float(level) for level in self.levels)

    def to_json(self) -> dict:
        return dict(zip(self.levels, self.accuracy))

    @classmethod
    def from_json(cls, node, where: str) -> RobustnessCurve:
        curve = by_name(node, where)
        return cls(tuple(curve), tuple(curve.values()))


COST_COUNTS = tuple(f.name for f in fields(LayerCost))
COST_TOTALS = ("synaptic_ops", "dense_macs", "ann_macs", "energy_pj", "ann_energy_pj")
ENERGY_KEYS = tuple(f.name for f in fields(EnergyModel))


def cost_to_json(cost: CostMetrics) -> dict:
    """The counts per layer with each layer's energy and share, the totals, and the prices they were taken at."""
    energy, share = cost.layer_energy_pj, cost.energy_share
    return {**{key: getattr(cost.energy, key) for key in ENERGY_KEYS},
            **{key: getattr(cost, key) for key in COST_TOTALS},
            "layers": {name: {**{key: getattr(layer, key) for key in COST_COUNTS},
                              "energy_pj": energy[name], "energy_share": share[name]}
                       for name, layer in cost.layers.items()}}


def cost_from_json(node, where: str) -> CostMetrics:
    """``cost_to_json``'s layout; the derived values (totals, energies, shares) are recomputed from the counts."""
    node = obj(node, where, (*ENERGY_KEYS, *COST_TOTALS, "layers"), (*ENERGY_KEYS, "layers"))
    try:
        energy = EnergyModel(*(number(node[key], f"{where}.{key}") for key in ENERGY_KEYS))
    except ValueError as problem:
        raise ValueError(f"{where}: {problem}") from None

    def layer(entry, at: str) -> LayerCost:
        entry = obj(entry, at, (*COST_COUNTS, "energy_pj", "energy_share"), COST_COUNTS)
        return LayerCost(*(number(entry[key], f"{at}.{key}") for key in COST_COUNTS))

    return CostMetrics(by_name(node["layers"], f"{where}.layers", layer), energy)


@dataclass(frozen=True)
class Metrics:
    """A run's final metrics, the same fields for every run; what a run does not measure is None (redundancy
    without conv layers, decisions without a first-spike readout, robustness when not asked for, what an older
    layout did not record)."""
    test_accuracy: float
    test_loss: float
    validation_accuracy: float | None
    nasfr: float
    spikes_per_sample: float
    silent_fraction: float
    wall_seconds: float
    layers: LayerActivity
    redundancy: Redundancy | None = None
    decision: DecisionMetrics | None = None
    train_samples: int | None = None
    validation_samples: int | None = None
    test_samples: int | None = None
    epochs_to_target: int | None = None
    robustness: dict[str, RobustnessCurve] | None = None
    reversal_agreement: float | None = None
    reversal_kl: float | None = None
    train_eval_accuracy: float | None = None
    train_test_gap: float | None = None
    selected_epoch: int | None = None
    cost: CostMetrics | None = None

    def to_json(self) -> dict:
        overall = {} if self.redundancy is None else \
            {key: getattr(self.redundancy.overall, key) for key in REDUNDANCY_SCALARS}
        return {
            **{key: getattr(self, key) for key in SCALARS},
            **self.layers.to_json(),
            **overall,
            "redundancy": None if self.redundancy is None else self.redundancy.to_json(),
            **({} if self.decision is None else self.decision.to_dict()),
            **{key: getattr(self, key) for key in SAMPLES},
            "epochs_to_target": self.epochs_to_target,
            "robustness": None if self.robustness is None else
            {kind: curve.to_json() for kind, curve in self.robustness.items()},
            **{key: getattr(self, key) for key in GENERALISATION},
            "selected_epoch": self.selected_epoch,
            "cost": None if self.cost is None else cost_to_json(self.cost),
        }

    @classmethod
    def from_json(cls, node, where: str = "metrics") -> Metrics:
        layer_keys = [f"layer_{f.name}" for f in fields(LayerActivity)]
        known = (*SCALARS, *layer_keys, *REDUNDANCY_SCALARS, "redundancy", *DECISION_KEYS, *SAMPLES,
                 "epochs_to_target", "robustness", *GENERALISATION, "selected_epoch", "cost")
        node = obj(node, where, known, [key for key in SCALARS if key not in OPTIONAL_SCALARS])
        redundancy = node.get("redundancy")
        robustness, cost = node.get("robustness"), node.get("cost")

        def scalar(key: str) -> float:
            return number(node.get(key), f"{where}.{key}")

        def optional(key: str) -> float | None:               # None: not measured, or an older layout
            return number(node.get(key), f"{where}.{key}", True)

        def count(key: str) -> int | None:
            return integer(node.get(key), f"{where}.{key}", True)

        # read in the order of SCALARS, SAMPLES and GENERALISATION, so the first wrong value is the one named
        return cls(
            test_accuracy=scalar("test_accuracy"), test_loss=scalar("test_loss"),
            validation_accuracy=optional("validation_accuracy"), nasfr=scalar("nasfr"),
            spikes_per_sample=scalar("spikes_per_sample"), silent_fraction=scalar("silent_fraction"),
            wall_seconds=scalar("wall_seconds"),
            layers=LayerActivity.from_json(node, where),
            redundancy=None if redundancy is None else Redundancy.from_json(redundancy, f"{where}.redundancy"),
            decision=_decision(node, where),
            train_samples=count("train_samples"), validation_samples=count("validation_samples"),
            test_samples=count("test_samples"), epochs_to_target=count("epochs_to_target"),
            selected_epoch=count("selected_epoch"),
            robustness=None if robustness is None else by_name(robustness, f"{where}.robustness",
                                                               RobustnessCurve.from_json),
            reversal_agreement=optional("reversal_agreement"), reversal_kl=optional("reversal_kl"),
            train_eval_accuracy=optional("train_eval_accuracy"), train_test_gap=optional("train_test_gap"),
            cost=None if cost is None else cost_from_json(cost, f"{where}.cost"))


def _decision(node: dict, where: str) -> DecisionMetrics | None:
    """The decision metrics when the run wrote them (all four keys, a first-spike readout), else None."""
    present = [key for key in DECISION_KEYS if key in node]
    if not present:
        return None
    if len(present) != len(DECISION_KEYS):
        raise ValueError(f"{where} has {', '.join(present)} without {', '.join(set(DECISION_KEYS) - set(present))}")
    curve = items(node["accuracy_vs_tcut"], f"{where}.accuracy_vs_tcut")
    return DecisionMetrics(number(node["decision_step_mean"], f"{where}.decision_step_mean", True),
                           number(node["decision_step_median"], f"{where}.decision_step_median", True),
                           number(node["no_decision_fraction"], f"{where}.no_decision_fraction"),
                           [number(value, f"{where}.accuracy_vs_tcut[{i}]") for i, value in enumerate(curve)])


def epoch_from_json(node, where: str) -> EpochRecord:
    """One ``history`` entry (``EpochRecord.to_dict``), of any layout."""
    node = obj(node, where, EPOCH_FIELDS, EPOCH_REQUIRED)
    values = {name: number(node[name], f"{where}.{name}") for name in EPOCH_REQUIRED}   # epoch and steps too

    def optional(name: str) -> float | None:
        return number(node.get(name), f"{where}.{name}", True)

    return EpochRecord(epoch=integer(node["epoch"], f"{where}.epoch"), steps=integer(node["steps"], f"{where}.steps"),
                       train_loss=values["train_loss"], train_accuracy=values["train_accuracy"],
                       test_loss=values["test_loss"], test_accuracy=values["test_accuracy"], nasfr=values["nasfr"],
                       spikes_per_sample=values["spikes_per_sample"], train_seconds=values["train_seconds"],
                       decision_step_mean=optional("decision_step_mean"),
                       no_decision_fraction=optional("no_decision_fraction"),
                       validation_accuracy=optional("validation_accuracy"),
                       layer_firing_rates=by_name(node.get("layer_firing_rates", {}), f"{where}.layer_firing_rates"),
                       loss_terms=by_name(node.get("loss_terms", {}), f"{where}.loss_terms"))


@dataclass(frozen=True)
class DataSource:
    """What the run trained on: the dataset's source (a folder, or "<name> (generated)") and its class names."""
    source: str
    class_names: tuple[str, ...]

    def to_json(self) -> dict:
        return {"source": self.source, "class_names": list(self.class_names)}

    @classmethod
    def from_json(cls, node, where: str = "data") -> DataSource:
        node = obj(node, where, ("source", "class_names"), ("source", "class_names"))
        names = items(node["class_names"], f"{where}.class_names")
        return cls(text(node["source"], f"{where}.source"),
                   tuple(text(name, f"{where}.class_names[{i}]") for i, name in enumerate(names)))


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of the whole run and of its robustness test (None before 703a3de), and its device."""
    total_seconds: float
    robustness_seconds: float | None
    device: str

    def to_json(self) -> dict:
        return {"total_seconds": self.total_seconds, "robustness_seconds": self.robustness_seconds,
                "device": self.device}

    @classmethod
    def from_json(cls, node, where: str = "timing") -> Timing:
        node = obj(node, where, ("total_seconds", "robustness_seconds", "device"), ("total_seconds", "device"))
        return cls(number(node["total_seconds"], f"{where}.total_seconds"),
                   number(node.get("robustness_seconds"), f"{where}.robustness_seconds", True),
                   text(node["device"], f"{where}.device"))


TOP_KEYS = ("config", "history", "metrics", "data", "timing", "cached", "error")


@dataclass(frozen=True)
class RunResult:
    """One run: its config, per-epoch history, final metrics (None when it failed, was cancelled, or closed no
    epoch), data source, timing; for a batch slot, whether it came from the run cache (``cached``, None outside a
    batch) and why it failed (``error``). ``engine`` is the engine fingerprint of the code that ran it, where known
    (a batch knows it); it is not part of the JSON (the run cache keys its folders by it)."""
    config: RunConfig
    history: tuple[EpochRecord, ...] = ()
    metrics: Metrics | None = None
    data: DataSource | None = None
    timing: Timing | None = None
    cached: bool | None = None
    error: str | None = None
    engine: str | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """Whether the run finished without an error (its metrics may still be None: no epoch closed)."""
        return self.error is None

    @property
    def seed(self) -> int:
        return self.config.training.seed

    def priced(self, energy: EnergyModel) -> RunResult:
        """The same run with its operation counts priced at ``energy`` (the counts do not change)."""
        if self.metrics is None or self.metrics.cost is None:
            return self
        return replace(self, metrics=replace(self.metrics, cost=self.metrics.cost.priced(energy)))

    def to_json(self) -> dict:
        """Today's layout: ``data`` when known, ``timing`` when known or in a batch slot, ``cached``/``error`` in a
        batch slot (a failed slot has no ``data``; a trainer's snapshot has no ``timing``)."""
        slot = self.cached is not None
        tree: dict[str, Any] = {
            "config": self.config.to_dict(), "history": [record.to_dict() for record in self.history],
            "metrics": None if self.metrics is None else self.metrics.to_json()}
        if self.data is not None:
            tree["data"] = self.data.to_json()
        if self.timing is not None or slot:
            tree["timing"] = None if self.timing is None else self.timing.to_json()
        if slot:
            tree.update(cached=self.cached, error=self.error)
        return tree

    @classmethod
    def from_json(cls, tree, config: RunConfig | None = None, where: str = "result") -> RunResult:
        """A run from its JSON (any layout in ``LAYOUTS``; a ``non_finite`` list from ``valid_json`` is put back).
        ``config`` is the run's config where the tree has none (a comparison's arm: its config is the arm's with
        this seed). ValueError naming the first wrong value."""
        tree = without_non_finite_list(tree, where)
        obj(tree, where, TOP_KEYS, ("history", "metrics") if config is not None else ("config", "history", "metrics"))
        if "config" in tree:
            try:
                config = RunConfig.from_dict(tree["config"])
            except (ValueError, TypeError) as problem:
                raise ValueError(f"{where}.config: {problem}") from None
        if config is None:          # obj() above requires "config" in the tree when none is given
            raise ValueError(f"{where} lacks config")
        history = items(tree["history"], f"{where}.history")
        metrics, data, timing = tree["metrics"], tree.get("data"), tree.get("timing")
        slot = "cached" in tree or "error" in tree           # a batch slot (since 98b1310)
        cached = tree.get("cached", False) if slot else None
        if slot and not isinstance(cached, bool):
            raise ValueError(f"{where}.cached is {json_kind(cached)}; allowed: true or false")
        return cls(config=config,
                   history=tuple(epoch_from_json(node, f"{where}.history[{i}]") for i, node in enumerate(history)),
                   metrics=None if metrics is None else Metrics.from_json(metrics, f"{where}.metrics"),
                   data=None if data is None else DataSource.from_json(data, f"{where}.data"),
                   timing=None if timing is None else Timing.from_json(timing, f"{where}.timing"),
                   cached=cached,
                   error=text(tree.get("error"), f"{where}.error", True))
