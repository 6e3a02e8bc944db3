"""One frozen, validated, JSON-serialisable config tree that describes a run.

Every field carries its own spec in ``dataclasses.field(metadata=...)`` (``snn_core.fields.spec``): the CLI
option name, a help line and the allowed values. Validation, the CLI parser, ``to_dict``/``from_dict`` and flat
``key=value`` overrides all loop over these specs, so adding a setting is one field and nothing else.

The core fields are declared here; each method's fields come from its record (``methods.catalogue.METHODS``,
``Method.settings``) and join the section they name (``with_method_settings``), so a method adds its settings
without an edit here. The JSON layout is the same either way: sections of fields by name.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, cast

from ..data import DATASETS
from ..data.framing import EVENT_CODES
from ..fields import (  # noqa: F401 - the spec helpers stay importable from the config, their public home
    Section,
    allowed_text,
    check_value,
    cut,
    parse_value,
    shown,
    spec,
)
from ..methods.catalogue import METHODS
from ..methods.engines import ENGINES
from ..methods.method import settings_in
from ..network.encoders import ENCODERS
from ..network.readout import READOUTS
from ..neurons.registry import NEURON_MODELS
from ..neurons.spike import SURROGATE_GRADIENTS

MAX_PATH = 4096     # characters of a folder path
MAX_CONFIG_BYTES = 1_000_000   # a config JSON is ~2 kB; a result JSON with its history well under this
MAX_CONFIG_DEPTH = 8           # a config tree is 3 deep (tree -> section -> list); result JSONs stay under 8
MAX_SAMPLES = 100_000          # train/test samples: N-MNIST's 60,000 + 10,000 fit; 0 = every recording of a folder
SELECTIONS = ("best-validation", "last")      # training.select_epoch: how a finished run picks its reported epoch
EVERY_SAMPLE = "all"           # train/test-samples: the word read as 0, every sample


@dataclass(frozen=True)
class DataConfig(Section):
    """Which dataset, how many time steps, and how static inputs become spikes."""

    SECTION: ClassVar[str] = "data"

    dataset: str = spec("digits", "dataset", "dataset to train on",
                        choices=tuple(DATASETS))
    time_steps: int = spec(8, "T", "number of simulation time steps", lo=1, hi=64, kind=int)
    encoding: str = spec("direct", "encoding", "spike encoding of static inputs (event data is already spikes)",
                         choices=tuple(ENCODERS))
    latency_window: int = spec(0, "latency-window", "latency encoding: input spikes fall in the first W steps, "
                               "t = round((1 - x)(W - 1)), and the rest of T is left for the network "
                               "to answer (0 = all T steps)", lo=0, hi=64, kind=int)
    train_samples: int = spec(2000, "train-samples",
                              "events: samples generated for training; digits: cap on the 1437-image training split; "
                              "real datasets: cap on the training recordings (0 = all of them, e.g. N-MNIST's 60,000; "
                              "digits: the whole split; refused for generated event clips); the validation split is "
                              "held out of these", lo=0, hi=MAX_SAMPLES, kind=int,
                              zero_word=EVERY_SAMPLE)
    test_samples: int = spec(500, "test-samples",
                             "events: samples generated for testing; digits: cap on the 360-image test split; real "
                             "datasets: cap on the test recordings (0 = all of them)", lo=0, hi=MAX_SAMPLES, kind=int,
                             zero_word=EVERY_SAMPLE)
    noise_level: float = spec(0.05, "noise", "events: background noise events per pixel per sample",
                              lo=0.0, hi=2.0, kind=float)
    data_seed: int = spec(0, "data-seed", "seed of the train/validation/test split and of event generation",
                          lo=0, hi=2**31 - 1, kind=int)
    validation: float = spec(0.1, "validation", "fraction of the training split held out as a fixed validation "
                             "split (stratified, drawn with data-seed; the same for every seed and method arm); "
                             "settings are chosen on it, never on test (0 = no validation split)",
                             lo=0.0, hi=0.5, kind=float)
    data_dir: str = spec("", "data-dir", "real datasets: the folder to read (empty = the fetched dataset in "
                         "$SNN_DATA_DIR or the user cache, else data/<dataset>, else the samples bundled in "
                         "data/samples)", hi=MAX_PATH, kind=str)
    frame_size: int = spec(0, "frame-size", "real datasets: downsample (tonic Downsample) so the sensor's longer "
                           "side has this many pixels or channels (0 = the sensor's own size)", lo=0, hi=1024,
                           kind=int)
    event_frames: str = spec("counts", "event-frames", "real datasets: counts = events per pixel per time bin; "
                             "binary = 1 where a bin has any event; first-spike = each input spikes once, in the "
                             "bin of its first event (a latency code, for TTFS)", choices=EVENT_CODES)
    denoise_us: int = spec(0, "denoise-us", "real datasets: tonic Denoise, drop events with no neighbour event "
                           "within this many microseconds (0 = off)", lo=0, hi=10_000_000, kind=int)
    crop_us: int = spec(0, "crop-us", "real datasets: keep the first this-many microseconds of each recording "
                        "(tonic CropTime; 0 = all of it)", lo=0, hi=600_000_000, kind=int)
    holdout: float = spec(0.2, "holdout", "real datasets without a test split on disk: fraction of the "
                          "training recordings held out as test (stratified by class)", lo=0.05, hi=0.5, kind=float)
    sensor: tuple = spec((), "sensor", "event-folder: sensor width,height (empty = read from the files)",
                         lo=1, hi=65535, kind=int, length=(0, 2))


@dataclass(frozen=True)
class ModelConfig(Section):
    """Network shape: an MLP for vectors, or a small conv SNN for images and event frames.

    ``readout`` ``rate`` is a non-spiking time-averaged linear readout; ``first-spike`` and ``count``
    add a spiking output layer "out" (``snn_core.network.readout``); ``tau_loss`` is used by first-spike only.
    """

    SECTION: ClassVar[str] = "model"

    arch: str = spec("mlp", "arch", "network architecture", choices=("mlp", "conv"))
    hidden: tuple = spec((128,), "hidden", "sizes of the spiking fully connected layers (comma separated)",
                         lo=1, hi=2048, kind=int, length=(0, 4))
    channels: tuple = spec((16, 32), "channels", "conv: channels of each spiking conv layer (comma separated)",
                           lo=1, hi=256, kind=int, length=(1, 4))
    batch_norm: bool = spec(True, "batch-norm", "BatchNorm between synapse and neuron", kind=bool)
    bn_gamma: float = spec(1.0, "bn-gamma", "BatchNorm: the scale gamma every BatchNorm starts at (1 = PyTorch's "
                           "default; g < 1 starts each layer's normalised current at g times unit variance)",
                           lo=0.01, hi=4.0, kind=float)
    readout: str = spec("rate", "readout",
                        "rate: time-averaged linear readout; first-spike: spiking output layer, logits "
                        "-t_first/tau_loss, prediction = earliest output; count: spiking output layer, "
                        "logits = spike counts", choices=READOUTS)
    tau_loss: float = spec(4.0, "tau-loss", "first-spike readout: temperature tau_loss of the logits "
                           "-t_first/tau_loss (time steps)", lo=0.1, hi=100.0, kind=float)
    engine: str = spec("discrete", "engine",
                       "discrete: time-stepped simulation with surrogate gradients; exact: event-based closed-form "
                       "spike times with exact gradients (MLP, latency encoding, cuba neuron, K <= 10)",
                       choices=tuple(ENGINES))


@dataclass(frozen=True)
class NeuronConfig(Section):
    """Neuron parameters shared by every spiking layer.

    ``model`` picks the neuron (``snn_core.neurons.registry``): ``lif`` uses decay, threshold, reset and
    v_reset; ``cuba`` (``snn_core.neurons.cuba``) uses tau_syn and threshold, always resets by subtraction
    and ignores decay, reset and v_reset. Both honour the surrogate and the spike cap K.
    """

    SECTION: ClassVar[str] = "neuron"

    decay: float = spec(0.5, "decay", "membrane leak factor per step, beta = exp(-1/tau) (1 = no leak)",
                        lo=0.01, hi=1.0, kind=float)
    threshold: float = spec(1.0, "threshold", "firing threshold V_th", lo=0.01, hi=10.0, kind=float)
    reset: str = spec("hard", "reset", "hard: V -> V_reset after a spike; soft: V -> V - V_th",
                      choices=("hard", "soft"))
    v_reset: float = spec(0.0, "v-reset", "hard reset potential", lo=-10.0, hi=10.0, kind=float)
    surrogate: str = spec("atan", "surrogate", "surrogate gradient of the spike function",
                          choices=tuple(SURROGATE_GRADIENTS))
    surrogate_width: float = spec(1.0, "surrogate-width", "width of the surrogate gradient (voltage units)",
                                  lo=0.01, hi=10.0, kind=float)
    model: str = spec("lif", "neuron", "lif: leaky integrate-and-fire (decay, reset); cuba: current-based LIF "
                      "with synaptic current, tau_m = 2 tau_syn, reset by subtraction (TTFS papers)",
                      choices=tuple(NEURON_MODELS))
    tau_syn: float = spec(4.0, "tau-syn", "cuba only: synaptic time constant tau_s in time steps "
                          "(membrane tau_m = 2 tau_s)", lo=0.5, hi=100.0, kind=float)
    kernel: str = spec("fused", "kernel", "neuron recurrence: fused = one op over all T steps with a hand-written "
                       "backward (fast); reference = the readable step loop with autograd (the oracle)",
                       choices=("fused", "reference"))


@dataclass(frozen=True)
class MethodsConfig(Section):
    """Switches and settings of the published methods, a method's own settings prefixed with its name: every field
    comes from a method's record (``methods.catalogue``; ``with_method_settings``)."""

    SECTION: ClassVar[str] = "methods"


@dataclass(frozen=True)
class TrainingConfig(Section):
    """Optimiser and schedule; ``seed`` fixes initialisation, batch order and Poisson spikes."""

    SECTION: ClassVar[str] = "training"

    epochs: int = spec(10, "epochs", "training epochs", lo=1, hi=500, kind=int)
    batch_size: int = spec(64, "batch-size", "samples per gradient step", lo=1, hi=1024, kind=int)
    lr: float = spec(3e-3, "lr", "Adam learning rate", lo=1e-6, hi=1.0, kind=float)
    lr_schedule: str = spec("cosine", "lr-schedule",
                            "cosine: lr decays to 0 over the configured epochs; constant: it stays",
                            choices=("cosine", "constant"))
    seed: int = spec(0, "seed", "seed of initialisation, batch order and stochastic encoding",
                     lo=0, hi=2**31 - 1, kind=int)
    target_accuracy: float = spec(0.9, "target-accuracy", "convergence: epochs_to_target counts the epochs "
                                  "until test accuracy first reaches this", lo=0.05, hi=1.0, kind=float)
    select_epoch: str = spec("best-validation", "select-epoch", "which epoch a finished run reports (its weights and "
                             "test metrics): best-validation = the epoch with the highest validation accuracy (the "
                             "first of ties; the last epoch without a validation split), last = the final epoch; "
                             "the test split never chooses", choices=SELECTIONS)
    robustness: bool = spec(True, "robustness", "after training, measure accuracy under input spike jitter, "
                            "spike deletion and weight noise (fixed noise seed)", kind=bool)


S = TypeVar("S", bound=Section)


def with_method_settings(section: type[S]) -> type[S]:
    """``section`` with the fields the methods add to it (``Method.settings``), after its own, in the methods'
    order; the same class when no method adds any. A frozen dataclass like the section, of the same name and
    module (so configs pickle to worker processes)."""
    added = settings_in(METHODS, section.SECTION)
    if not added:
        return section
    return dataclasses.make_dataclass(section.__name__, [(name, Any, fld) for name, fld in added],
                                      bases=(section,), frozen=True,
                                      namespace={"__module__": __name__, "__doc__": section.__doc__,
                                                 "__qualname__": section.__qualname__})


# Each name is rebound to its subclass on purpose: pickles and ``__qualname__`` find the section by that name, and
# a type checker sees the same class (``with_method_settings`` returns a subclass); mypy refuses any rebinding.
DataConfig = with_method_settings(DataConfig)                   # type: ignore[misc]
ModelConfig = with_method_settings(ModelConfig)                 # type: ignore[misc]
NeuronConfig = with_method_settings(NeuronConfig)               # type: ignore[misc]
MethodsConfig = with_method_settings(MethodsConfig)             # type: ignore[misc]
TrainingConfig = with_method_settings(TrainingConfig)           # type: ignore[misc]


def section_class(fld: dataclasses.Field) -> type[Section]:
    """The class of the ``RunConfig`` section ``fld``: its default factory (each section defaults to its class)."""
    return cast(type[Section], fld.default_factory)


@dataclass(frozen=True)
class RunConfig:
    """The whole run: data -> model -> neuron -> methods -> training."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    neuron: NeuronConfig = field(default_factory=NeuronConfig)
    methods: MethodsConfig = field(default_factory=MethodsConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def to_dict(self) -> dict:
        return {f.name: dataclasses.asdict(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, tree: dict) -> RunConfig:
        """Build from a nested dict; missing fields take defaults. The tree and each section must be objects
        (JSON gives any type), and unknown names are refused: each problem a ValueError naming the section."""
        if not isinstance(tree, dict):
            raise ValueError(f"the config is {json_kind(tree)}; allowed: an object of sections {section_names()}")
        unknown = set(tree) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown config section(s) {_names(unknown)}; allowed: {section_names()}")
        sections: dict[str, Any] = {}          # section name -> its instance, of the class its field names
        for f in dataclasses.fields(cls):
            section_cls = section_class(f)
            values = tree.get(f.name, {})
            allowed = {g.name for g in dataclasses.fields(section_cls)}
            if not isinstance(values, dict):
                raise ValueError(f"config section '{f.name}' is {json_kind(values)}; allowed: an object of its "
                                 f"fields {sorted(allowed)} (or the section left out for its defaults)")
            bad = set(values) - allowed
            if bad:
                raise ValueError(f"unknown field(s) {_names(bad)} in '{f.name}'; allowed: {sorted(allowed)}")
            sections[f.name] = section_cls(**values)
        return cls(**sections)

    def with_values(self, flat: dict[str, Any]) -> RunConfig:
        """A copy with fields replaced by CLI name (``{"T": 4, "max-spikes": 1}``, or an alias such as
        ``K``); values may be strings."""
        tree = self.to_dict()
        index = cli_index()
        for name, raw in flat.items():
            name = ALIASES.get(name, name)
            if name not in index:
                raise ValueError(f"unknown option '{name}'; allowed: {', '.join(sorted(index))}")
            section, fld = index[name]
            tree[section][fld.name] = parse_value(fld, raw)
        return RunConfig.from_dict(tree)


# the papers' names for settings (the spike cap's K), accepted wherever CLI names are
ALIASES = {alias: cli for method in METHODS for alias, cli in method.aliases.items()}


def with_dataset_defaults(flat: dict[str, Any]) -> dict[str, Any]:
    """``flat`` settings over the defaults of the dataset they name (``DatasetInfo.defaults``), so that
    ``--dataset nmnist`` alone trains a network that suits N-MNIST; settings given explicitly win."""
    name = flat.get("dataset")
    info = DATASETS.get(name) if isinstance(name, str) else None
    return {**(info.defaults if info else {}), **flat}


def parse_assignments(text: str) -> dict[str, str]:
    """``"T=4 max-spikes=1"`` -> ``{"T": "4", "max-spikes": "1"}``; a word without '=' is an error."""
    pairs = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise ValueError(f"'{word}' is not KEY=VALUE; keys are the train options without dashes, e.g. T=4")
        pairs[key] = value
    return pairs


def json_kind(value: Any) -> str:
    """What a JSON value is, in words, for messages: ``a list``, ``null``, ``a string`` ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    kinds = {dict: "an object", list: "a list", tuple: "a list", str: "a string", int: "a number", float: "a number"}
    return next((word for kind, word in kinds.items() if isinstance(value, kind)), f"a {type(value).__name__}")


def _names(keys) -> list[str]:
    """At most five of ``keys`` (any hashable), sorted as text, each shortened: for a message about unknown names."""
    return sorted(cut(str(key), 40) for key in keys)[:5]




def parse_config_json(data: bytes | str, what: str) -> Any:
    """The JSON value of a config file's text (``what`` names the file in messages), read safely: at most
    ``MAX_CONFIG_BYTES``, UTF-8, nested at most ``MAX_CONFIG_DEPTH`` deep (a deeper tree is never a config, and
    Python's parser would raise RecursionError on a deep enough one). Each problem is a ValueError; the value's
    types are ``RunConfig.from_dict``'s to check."""
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(f"{what} is over {MAX_CONFIG_BYTES:,} bytes; allowed: a config JSON of at most that size")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        tree = json.loads(text)
    except UnicodeDecodeError:
        raise ValueError(f"{what} is not UTF-8 text; allowed: a config JSON") from None
    except ValueError as problem:
        raise ValueError(f"{what} is not valid JSON ({problem}); allowed: a config JSON") from None
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply; allowed: at most {MAX_CONFIG_DEPTH} levels") from None
    if json_depth(tree) > MAX_CONFIG_DEPTH:
        raise ValueError(f"{what} is nested more than {MAX_CONFIG_DEPTH} levels deep; a config is 3 levels deep "
                         "(sections, fields, lists)")
    return tree


def json_depth(value: Any) -> int:
    """How deep a JSON value nests (a number is 0, ``[1]`` is 1), walked without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, (list, tuple)):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def section_names() -> list[str]:
    return [f.name for f in dataclasses.fields(RunConfig)]


def cli_index() -> dict[str, tuple[str, dataclasses.Field]]:
    """CLI option name -> (section name, field), over the whole tree."""
    index = {}
    for section in dataclasses.fields(RunConfig):
        for fld in dataclasses.fields(section_class(section)):
            index[fld.metadata["cli"]] = (section.name, fld)
    return index
