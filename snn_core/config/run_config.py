"""One frozen, validated, JSON-serialisable config tree that describes a run.

Every field carries its own spec in ``dataclasses.field(metadata=...)``: the CLI option
name, a help line and the allowed values. Validation, the CLI parser, ``to_dict``/
``from_dict`` and flat ``key=value`` overrides all loop over these specs, so adding a
setting is one field here and nothing else.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..data import DATASETS
from ..data.framing import EVENT_CODES
from ..methods.asa import CONTROLS as ASA_CONTROLS
from ..methods.asa import RULES, VARIANTS
from ..methods.engines import ENGINES
from ..methods.trt import BN_STATS, PERTURBATIONS
from ..network.encoders import ENCODERS
from ..network.readout import READOUTS
from ..neurons.registry import NEURON_MODELS
from ..neurons.spike import SURROGATE_GRADIENTS

MAX_PATH = 4096     # characters of a folder path
MAX_CONFIG_BYTES = 1_000_000   # a config JSON is ~2 kB; a result JSON with its history well under this
MAX_CONFIG_DEPTH = 8           # a config tree is 3 deep (tree -> section -> list); result JSONs stay under 8
MAX_SHOWN = 80                 # characters of a value quoted in an error message
MAX_SAMPLES = 100_000          # train/test samples: N-MNIST's 60,000 + 10,000 fit; 0 = every recording of a folder
EVERY_SAMPLE_FIELDS = ("train-samples", "test-samples")    # where the word "all" is read as 0, every sample


def spec(default, cli: str, help: str, *, choices=None, lo=None, hi=None, kind=None, length=None):
    """A dataclass field with its validation spec (see ``check_value``)."""
    meta = {"cli": cli, "help": help, "choices": choices, "lo": lo, "hi": hi, "kind": kind, "length": length}
    if isinstance(default, tuple):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


class Section:
    """Base of every config section: validates each field against its spec on construction.

    Only each field on its own (type, range, choices): whether the fields can run together is
    ``snn_core.config.check``'s question, so any combination of valid fields can be built, then checked."""

    SECTION: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for fld in dataclasses.fields(self):
            value = _coerce(fld, getattr(self, fld.name))
            object.__setattr__(self, fld.name, value)
            check_value(self.SECTION, fld, value)


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
                              "held out of these", lo=0, hi=MAX_SAMPLES, kind=int)
    test_samples: int = spec(500, "test-samples",
                             "events: samples generated for testing; digits: cap on the 360-image test split; real "
                             "datasets: cap on the test recordings (0 = all of them)", lo=0, hi=MAX_SAMPLES, kind=int)
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
    readout: str = spec("rate", "readout",
                        "rate: time-averaged linear readout; first-spike: spiking output layer, logits "
                        "-t_first/tau_loss, prediction = earliest output; count: spiking output layer, "
                        "logits = spike counts", choices=READOUTS)
    tau_loss: float = spec(4.0, "tau-loss", "first-spike readout: temperature tau_loss of the logits "
                           "-t_first/tau_loss (time steps)", lo=0.1, hi=100.0, kind=float)
    first_spike_reg: float = spec(0.0, "first-spike-reg",
                                  "first-spike readout: weight alpha of Fast & Deep's regulariser "
                                  "alpha exp(t_label / tau_syn), which pulls the true class's first spike earlier "
                                  "(0 = off; Fast & Deep used 0.005)", lo=0.0, hi=1.0, kind=float)
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
    max_spikes: int = spec(0, "max-spikes", "cap K on spikes per neuron per sample (0 = unlimited, 1 = TTFS)",
                           lo=0, hi=64, kind=int)
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
    """Switches of the published methods; a method's own settings are prefixed with its name.

    ASA (``snn_core.methods.asa``) gates the current of conv layers: ``faithful`` reproduces the official code
    (XOR, batch-pooled top-k masks, a score path that never learns), ``clean`` is a re-implementation
    (per-sample masks, a selectable rule, a straight-through score); ``constant`` and ``scalar`` are its
    attenuation controls (``snn_core.methods.asa_controls``: the same layers' current times a fixed gate
    ``asa_constant_gate``, or times one learnable gate per layer starting there). ``asa_layers`` lists 1-based conv
    layer numbers; empty means every conv layer. ``asa_reduction`` defaults to 1: the paper's r = 4 is
    for T = 60 (a 15-wide bottleneck); at our T = 8 a full T×T map costs only 64 weights, and r = 4 would
    leave a 2-wide bottleneck.

    TRT (``snn_core.methods.trt``) trains with a second, time-perturbed branch: reversed input for event data,
    the first spiking layer's spikes reversed for static data. Each ``trt_*`` weight scales one loss term
    (0 switches it off); inference never sees TRT.
    """

    SECTION: ClassVar[str] = "methods"

    asa: str = spec("off", "asa", "Advance Spatial Attention on conv layers: faithful = the published code, "
                    "clean = a re-implementation with per-sample masks and a learnable score; its attenuation "
                    "controls (no attention): constant = the current times asa-constant-gate, scalar = times one "
                    "learnable gate per layer starting there", choices=("off", *VARIANTS, *ASA_CONTROLS))
    asa_constant_gate: float = spec(0.7, "asa-constant-gate",
                                    "ASA controls: the gate g in (0, 1] of asa=constant (X -> g X), and the "
                                    "starting value of asa=scalar's learnable gate (needs g < 1)",
                                    lo=0.01, hi=1.0, kind=float)
    asa_lambda: float = spec(0.5, "asa-lambda", "ASA: fraction lambda of channels and of time steps marked top-k",
                             lo=0.05, hi=0.95, kind=float)
    asa_reduction: int = spec(1, "asa-reduction",
                              "ASA: reduction r of the score's time FC (T -> T/r -> T; 1 = one T x T map)",
                              lo=1, hi=16, kind=int)
    asa_layers: tuple = spec((), "asa-layers",
                             "ASA: conv layer numbers that get ASA (1-based; empty = every conv layer)",
                             lo=1, hi=4, kind=int, length=(0, 4))
    asa_rule: str = spec("xor", "asa-rule", "ASA: important = rule(channel top-k, time top-k); faithful needs xor",
                         choices=RULES)
    asa_gate_important: bool = spec(True, "asa-gate-important",
                                    "ASA: gate the important group (false passes it through ungated)", kind=bool)
    asa_gate_sub: bool = spec(True, "asa-gate-sub",
                              "ASA: gate the sub-important group (false passes it through ungated)", kind=bool)
    trt: str = spec("off", "trt", "temporal reversed training: a time-perturbed second branch during training "
                    "only", choices=("off", "on"))
    trt_perturbation: str = spec("reverse", "trt-perturbation",
                                 "TRT: how the second branch's time axis is perturbed: reverse flips it (the paper); "
                                 "permute (a random order per sample) and none (unchanged) are controls; playback "
                                 "(events only) flips it and swaps ON/OFF, a clip really played backwards",
                                 choices=PERTURBATIONS)
    trt_kl_weight: float = spec(1.0, "trt-kl-weight", "TRT: weight lambda of the consistency term "
                                "lambda tau^2 KL(p_tau(O) || p_tau(O_rev)), gradient through both branches",
                                lo=0.0, hi=10.0, kind=float)
    trt_tau: float = spec(2.0, "trt-tau", "TRT: temperature tau of the consistency term", lo=0.1, hi=20.0,
                          kind=float)
    trt_ce_reversed: float = spec(1.0, "trt-ce-reversed", "TRT: weight of cross-entropy on the perturbed "
                                  "branch's output", lo=0.0, hi=10.0, kind=float)
    trt_star: float = spec(1.0, "trt-star", "TRT: weight of the star head's cross-entropy (a training-only "
                           "classifier on r * r_rev, the two branches' last hidden firing rates)",
                           lo=0.0, hi=10.0, kind=float)
    trt_bn_stats: str = spec("both", "trt-bn-stats", "TRT: which branches update BatchNorm's running statistics "
                             "(used at inference): both, or clean (the original branch only; the perturbed branch "
                             "still normalises by its own batch)", choices=BN_STATS)


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
    weight_bump: float = spec(5e-4, "weight-bump", "exact engine: Fast & Deep weight bumping, added to the input "
                              "weights of the neurons that missed a spike in the foremost layer missing too many "
                              "(doubling on consecutive bumps; 0 = off)",
                              lo=0.0, hi=0.1, kind=float)
    robustness: bool = spec(True, "robustness", "after training, measure accuracy under input spike jitter, "
                            "spike deletion and weight noise (fixed noise seed)", kind=bool)


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
        sections = {}
        for f in dataclasses.fields(cls):
            section_cls = f.default_factory
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


ALIASES = {"K": "max-spikes"}     # the papers' name for the spike cap, accepted wherever CLI names are


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
    return sorted(_cut(str(key), 40) for key in keys)[:5]


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters with "…": a value can be a megabyte long."""
    return _cut(repr(value), limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
        for fld in dataclasses.fields(section.default_factory):
            index[fld.metadata["cli"]] = (section.name, fld)
    return index


def allowed_text(fld: dataclasses.Field) -> str:
    """Human-readable allowed values of a field, used in every error message."""
    m = fld.metadata
    if m["choices"] is not None:
        return ", ".join(m["choices"])
    if m["kind"] is bool:
        return "true, false"
    if m["kind"] is str:
        return f"a path of at most {m['hi']} characters"
    word = {int: "integer", float: "number"}[m["kind"]]
    span = f"{m['lo']}..{m['hi']}" if m["kind"] is int else f"{m['lo']:g}..{m['hi']:g}"
    if m["length"] is not None:
        return f"{m['length'][0]} to {m['length'][1]} comma-separated {word}s in {span}"
    return f"{word} {span}"


def parse_value(fld: dataclasses.Field, raw: Any) -> Any:
    """Turn a CLI/URL string (or an already typed value) into the field's type; ValueError if it can't."""
    m = fld.metadata
    if not isinstance(raw, str):
        return tuple(raw) if isinstance(raw, list) else raw
    text = raw.strip()
    try:
        if m["length"] is not None:
            return tuple(m["kind"](v) for v in text.split(",") if v.strip() != "")
        if m["kind"] is bool:
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0", "on", "off", "yes", "no"):
                raise ValueError
            return lowered in ("true", "1", "on", "yes")
        if m["kind"] is int:
            return 0 if m["cli"] in EVERY_SAMPLE_FIELDS and text.lower() == "all" else int(text)
        if m["kind"] is float:
            return float(text)
        return raw if m["kind"] is str else text
    except ValueError:
        raise ValueError(f"{m['cli']}={shown(raw)} is not valid; allowed: {allowed_text(fld)}") from None


def check_value(section: str, fld: dataclasses.Field, value: Any) -> None:
    """Raise ValueError naming the field, the bad value and what is allowed."""
    m = fld.metadata
    where = f"{section}.{fld.name} (--{m['cli']})"
    problem = f"{where}={shown(value)} is not allowed; allowed: {allowed_text(fld)}"
    if m["choices"] is not None:
        if value not in m["choices"]:
            raise ValueError(problem)
        return
    if m["kind"] is bool:
        if not isinstance(value, bool):
            raise ValueError(problem)
        return
    if m["kind"] is str:
        if not isinstance(value, str) or len(value) > m["hi"] or "\x00" in value:
            raise ValueError(problem)
        return
    items = value if m["length"] is not None else (value,)
    if m["length"] is not None and (not isinstance(value, tuple) or not m["length"][0] <= len(value) <= m["length"][1]):
        raise ValueError(problem)
    for item in items:
        is_number = isinstance(item, (int, float)) and not isinstance(item, bool)
        if not is_number or (m["kind"] is int and isinstance(item, float) and not item.is_integer()):
            raise ValueError(problem)
        if not (m["lo"] <= item <= m["hi"]) or (isinstance(item, float) and math.isnan(item)):
            raise ValueError(problem)


def _coerce(fld: dataclasses.Field, value: Any) -> Any:
    """JSON gives lists for tuples and may give 4.0 for 4 (also inside a list: ``hidden: [64.0]``) or 1 for 1.0:
    normalise whole numbers to the field's type before checking (``64.5`` stays, for ``check_value`` to refuse)."""
    m = fld.metadata
    if m["length"] is not None and isinstance(value, list):
        value = tuple(value)
    if m["length"] is not None and isinstance(value, tuple):
        return tuple(_number(m["kind"], item) for item in value)
    if m["length"] is None and m["kind"] in (int, float):
        return _number(m["kind"], value)
    return value


def _number(kind: type, value: Any) -> Any:
    """``value`` as ``kind`` when that changes nothing but the type (4.0 -> 4 for int, 4 -> 4.0 for float)."""
    if isinstance(value, bool):
        return value
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is float and isinstance(value, int) and abs(value) <= 2**53:     # larger: out of every range anyway
        return float(value)
    return value
