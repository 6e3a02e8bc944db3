"""Can this config run? Every rule that spans fields, in one place, each problem said with its way out.

A ``RunConfig`` checks each field on its own (type, range, choices); the rules here judge how the
fields combine, using what the dataset is (``snn_core.data.DATASETS``, without loading it) and the
engines' limits. Each message names the fields by section and CLI name, the values, and what is
allowed. Every entry point (the trainer, the CLI, compare and sweep, the URL decoder, the sidebar)
asks ``check`` before anything trains.
"""
from __future__ import annotations

import math

from ..data import DATASETS, MIN_SAMPLES, DatasetInfo
from ..methods.ttfs.exact_network import MAX_HIDDEN, MAX_K, MAX_SLOTS, MAX_WIDTH
from .budget import memory_rule
from .run_config import ASA_CONTROLS, RunConfig

MIN_CONV_SIDE = 4      # a conv layer pools 2x2 above width 8 (snn_core.network.discrete): thinner frames vanish


def check(cfg: RunConfig) -> list[str]:
    """Every reason ``cfg`` cannot run, one message each; empty when it can."""
    info = DATASETS[cfg.data.dataset]
    return [problem for rules in RULES for problem in rules(cfg, info)]


def require_valid(cfg: RunConfig) -> None:
    """ValueError listing every problem of ``check`` on one line (for the CLI's one-line error)."""
    problems = check(cfg)
    if problems:
        raise ValueError(one_line(problems))


def runnable_config(tree, what: str) -> RunConfig:
    """A config tree read from a file as a config that can run: ValueError saying ``what`` (e.g. "the model file's
    config") does not validate (field by field, ``RunConfig.from_dict``) or cannot run (``check``)."""
    try:
        cfg = RunConfig.from_dict(tree)
    except (ValueError, TypeError) as problem:
        raise ValueError(f"{what} does not validate: {problem}") from None
    problems = check(cfg)
    if problems:
        raise ValueError(f"{what} cannot run: {one_line(problems)}")
    return cfg


def one_line(problems: list[str]) -> str:
    """Problems as one line: a single one as it is, several numbered, ``2 problems: (1) ... (2) ...``."""
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems: " + " ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))


def _data_rules(cfg: RunConfig, info: DatasetInfo) -> list[str]:
    data = cfg.data
    if data.encoding == "latency" and data.latency_window > data.time_steps:
        return [f"data.latency_window (--latency-window)={data.latency_window} is longer than T={data.time_steps}; "
                f"allowed: 0 (all T steps) to {data.time_steps}"]
    return []


def _sample_rules(cfg: RunConfig, info: DatasetInfo) -> list[str]:
    """train/test-samples: 0 (every sample of a real folder or of the digits split) or at least ``MIN_SAMPLES``;
    generated event clips have no 'every', so they need a number."""
    problems = []
    for name in ("train_samples", "test_samples"):
        value, flag = getattr(cfg.data, name), name.replace("_", "-")
        if 0 < value < MIN_SAMPLES:
            problems.append(f"data.{name} (--{flag})={value} is too few; allowed: 0 (every sample) or "
                            f"{MIN_SAMPLES} and more")
        elif value == 0 and info.has_time_axis and not info.reads_folder:
            problems.append(f"data.{name} (--{flag})=0 (every sample) is for real datasets and digits; "
                            f"dataset={cfg.data.dataset!r} generates its clips; allowed: {MIN_SAMPLES} and more")
    return problems


FOLDER_FIELDS = ("data_dir", "frame_size", "event_frames", "denoise_us", "crop_us", "holdout", "sensor")


def _real_data_rules(cfg: RunConfig, info: DatasetInfo) -> list[str]:
    """Settings that only real datasets read (``snn_core.data.real``), and the event-folder's sensor."""
    data, default = cfg.data, type(cfg.data)()
    if not info.reads_folder:
        changed = [name for name in FOLDER_FIELDS if getattr(data, name) != getattr(default, name)]
        if changed:
            real = [name for name, other in DATASETS.items() if other.reads_folder]
            return [f"data.{', data.'.join(changed)}: read only by real datasets, but dataset={data.dataset!r} is "
                    f"generated; allowed: a real dataset ({', '.join(real)}), or the defaults"]
        return []
    problems = []
    if len(data.sensor) == 1:
        problems.append(f"data.sensor (--sensor)={list(data.sensor)} needs both width and height; allowed: W,H "
                        "(e.g. 640,480), or empty to read it from the files")
    if data.sensor and info.sensor is not None:
        problems.append(f"data.sensor (--sensor) is for event-folder; dataset={data.dataset!r} has a fixed "
                        f"{info.sensor[0]}x{info.sensor[1]} sensor; allowed: empty")
    return problems


def _readout_rules(cfg: RunConfig, info: DatasetInfo) -> list[str]:
    model = cfg.model
    if model.first_spike_reg > 0 and model.readout != "first-spike":
        return [f"model.first_spike_reg (--first-spike-reg)={model.first_spike_reg:g} needs first-spike times, "
                f"but readout={model.readout!r}; allowed: --readout first-spike, or 0"]
    return []


def _network_rules(cfg: RunConfig, info: DatasetInfo) -> list[str]:
    """The discrete network's shape (``snn_core.network.discrete``) against the dataset's frames."""
    model, problems = cfg.model, []
    if model.engine != "discrete":
        return problems
    if model.arch == "conv" and len(info.frame_shape) != 3:
        images = [name for name, other in DATASETS.items()
                  if len(other.frame_shape) == 3 and not 0 < min(other.frame_shape[1:]) < MIN_CONV_SIDE]
        problems.append(f"model.arch (--arch)='conv' needs image-shaped frames (C, H, W), but dataset="
                        f"{cfg.data.dataset!r} gives {info.frame_shape}; allowed: --arch mlp, or a dataset of "
                        f"images ({', '.join(images)})")
    problems += frame_rules(cfg, info.frame_shape_for(cfg.data))
    if model.batch_norm and cfg.data.time_steps * cfg.training.batch_size < 2 and (model.hidden or model.arch == "mlp"):
        problems.append("model.batch_norm (--batch-norm) needs at least two values per feature in a training batch, "
                        "but data.time_steps (--T)=1 x training.batch_size (--batch-size)=1 gives one; allowed: "
                        "--batch-size 2 or more, --T 2 or more, or --batch-norm false")
    if model.arch == "mlp" and not model.hidden:
        problems.append("model.hidden (--hidden) is empty, but arch='mlp' needs at least one hidden layer; "
                        "allowed: 1 to 4 sizes (e.g. --hidden 128), or --arch conv")
    return problems


def frame_rules(cfg: RunConfig, shape: tuple[int, ...]) -> list[str]:
    """The conv network against frames of ``shape`` (C, H, W): known from the dataset's sensor here, or only once
    the files are read (an event folder without --sensor), when ``build_model`` asks again with the real shape."""
    if cfg.model.engine != "discrete" or cfg.model.arch != "conv" or len(shape) != 3 or not 0 < min(shape[1:]):
        return []
    if min(shape[1:]) >= MIN_CONV_SIDE:
        return []
    return [f"model.arch (--arch)='conv' needs frames at least {MIN_CONV_SIDE}x{MIN_CONV_SIDE}, but "
            f"dataset={cfg.data.dataset!r} gives {shape[1]}x{shape[2]} (a row of channels or pixels, not an image); "
            "allowed: --arch mlp, or a larger --frame-size"]


def _asa_rules(cfg: RunConfig, info: DatasetInfo) -> list[str]:
    """Where ASA gates (conv layers) and what its gate needs of T and channels (``snn_core.methods.asa``)."""
    m, steps, problems = cfg.methods, cfg.data.time_steps, []
    if m.asa == "off" or cfg.model.engine != "discrete":
        return problems
    if m.asa in ASA_CONTROLS:                      # no top-k: only where they gate, and scalar's finite logit
        if m.asa == "scalar" and m.asa_constant_gate >= 1:
            problems.append(f"methods.asa_constant_gate (--asa-constant-gate)={m.asa_constant_gate:g} cannot start "
                            "asa='scalar' (its gate is sigmoid(p), p = logit(g) must be finite); allowed: 0.01 <= "
                            "g < 1, or --asa constant for a gate of 1")
        return problems + _asa_layer_rules(cfg, top_k=False)
    if m.asa == "faithful" and m.asa_rule != "xor":
        problems.append(f"methods.asa_rule (--asa-rule)={m.asa_rule!r} is not allowed with asa='faithful' "
                        "(the published code uses xor); allowed: xor, or use --asa clean for and/or")
    if m.asa == "faithful" and cfg.training.batch_size == 1:
        problems.append("methods.asa (--asa)='faithful' cannot train with training.batch_size (--batch-size)=1: "
                        "the published ASA code fails at batch size 1 (and its batch-pooled masks need a batch); "
                        "allowed: --batch-size 2 or more, or --asa clean")
    if steps < 2:
        problems.append(f"methods.asa (--asa)={m.asa!r} needs data.time_steps (--T) >= 2 (the time top-k needs "
                        f"k_T = floor(lambda*T) >= 1), got T={steps}; allowed: --T 2 or more, or --asa off")
    elif math.floor(m.asa_lambda * steps) < 1:
        problems.append(f"methods.asa_lambda (--asa-lambda)={m.asa_lambda:g} marks floor(lambda*T) = 0 of the "
                        f"T={steps} time steps top-k; allowed: asa-lambda >= {1 / steps:g} at T={steps}, or a longer T")
    if m.asa_reduction > steps:
        problems.append(f"methods.asa_reduction (--asa-reduction)={m.asa_reduction} is larger than T={steps} "
                        f"(the score's bottleneck T/r must be >= 1); allowed: 1..{steps}")
    return problems + _asa_layer_rules(cfg)


def _asa_layer_rules(cfg: RunConfig, top_k: bool = True) -> list[str]:
    """The gated layers exist and are conv layers; with ``top_k`` (ASA itself) each has floor(lambda*C) >= 1."""
    m, channels = cfg.methods, cfg.model.channels
    if cfg.model.arch != "conv":
        return [f"methods.asa (--asa)={m.asa!r} gates conv layers, but arch={cfg.model.arch!r} has none; "
                "allowed: --arch conv, or --asa off"]
    too_big = [i for i in m.asa_layers if i > len(channels)]
    problems = [] if not too_big else [
        f"methods.asa_layers (--asa-layers)={list(m.asa_layers)} names conv layer(s) {too_big}, but the network has "
        f"{len(channels)}; allowed: numbers 1..{len(channels)}, or empty for all"]
    gated = sorted({i for i in m.asa_layers if i <= len(channels)}) if m.asa_layers else range(1, len(channels) + 1)
    narrow = [i for i in gated if top_k and math.floor(m.asa_lambda * channels[i - 1]) < 1]
    if narrow:
        fewest = min(channels[i - 1] for i in narrow)
        problems.append(f"methods.asa_lambda (--asa-lambda)={m.asa_lambda:g} marks floor(lambda*C) = 0 channels "
                        f"top-k in gated conv layer(s) {narrow} of model.channels (--channels)={list(channels)}; "
                        f"allowed: asa-lambda >= {1 / fewest:g}, or more channels")
    return problems


def _trt_rules(cfg: RunConfig, info: DatasetInfo) -> list[str]:
    """What TRT's perturbed branch needs (``snn_core.methods.trt``)."""
    if cfg.methods.trt == "off":
        return []
    if cfg.model.engine != "discrete":
        return [f"methods.trt (--trt)='on' needs model.engine (--engine)='discrete'; got {cfg.model.engine!r} "
                "(the exact engine has no time-stepped spike trains to reverse); allowed: --engine discrete, "
                "or --trt off"]
    if info.has_time_axis:
        return []
    problems = []
    if cfg.methods.trt_perturbation == "playback":
        problems.append("methods.trt_perturbation (--trt-perturbation)='playback' plays event clips backwards "
                        f"(ON <-> OFF swapped), but dataset={cfg.data.dataset!r} has no events; allowed: "
                        "reverse, permute or none, or an events dataset")
    n_layers = (len(cfg.model.channels) if cfg.model.arch == "conv" else 0) + len(cfg.model.hidden)
    if cfg.model.readout == "rate" and n_layers < 2:
        problems.append("methods.trt (--trt)='on' on static data perturbs the first spiking layer's spikes, but "
                        f"this network has {n_layers} spiking layer(s) and the time-averaged rate readout, which "
                        "the order of time steps cannot change; allowed: 2 or more spiking layers (e.g. "
                        "--hidden 128,128), a spiking readout (--readout count), event data, or --trt off")
    return problems


def _exact_rules(cfg: RunConfig, info: DatasetInfo) -> list[str]:
    """What the exact engine runs (``snn_core.methods.ttfs.exact_network``): a latency-coded MLP of CUBA
    neurons with a first-spike or count readout, within its spike-slot budget."""
    if cfg.model.engine != "exact":
        return []
    static = [name for name, other in DATASETS.items() if not other.has_time_axis]
    hidden, cap = cfg.model.hidden, cfg.neuron.max_spikes
    needs = [
        (cfg.model.arch == "mlp", f"model.arch (--arch)={cfg.model.arch!r}; allowed: mlp"),
        (not info.has_time_axis, f"data.dataset (--dataset)={cfg.data.dataset!r}; allowed: {', '.join(static)} "
                                 "(a static dataset, latency-encoded)"),
        (cfg.data.encoding == "latency", f"data.encoding (--encoding)={cfg.data.encoding!r}; allowed: latency"),
        (cfg.neuron.model == "cuba", f"neuron.model (--neuron)={cfg.neuron.model!r}; allowed: cuba"),
        (cfg.model.readout != "rate", f"model.readout (--readout)={cfg.model.readout!r}; allowed: first-spike, "
                                      "count (a spiking output layer)"),
        (1 <= cap <= MAX_K, f"neuron.max_spikes (--max-spikes)={cap}; allowed: 1..{MAX_K} (0 = unlimited is not)"),
        (1 <= len(hidden) <= MAX_HIDDEN, f"model.hidden (--hidden)={list(hidden)}; allowed: 1 to {MAX_HIDDEN} layers"),
        (max(hidden, default=0) <= MAX_WIDTH, f"model.hidden (--hidden)={list(hidden)}; allowed: sizes 1..{MAX_WIDTH}"),
        (cfg.methods.asa == "off", f"methods.asa (--asa)={cfg.methods.asa!r}; allowed: off"),
    ]
    problems = [f"engine exact: {text}" for ok, text in needs if not ok]
    if problems:
        return problems
    sizes = [math.prod(info.frame_shape), *hidden, info.n_classes]
    slots = sum(n_in * (1 if i == 0 else cap) * n_out for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])))
    if slots > MAX_SLOTS:
        return [f"engine exact: model.hidden (--hidden)={list(hidden)} with neuron.max_spikes (--max-spikes)={cap} "
                f"needs {slots} spike slots x neurons per sample; allowed: at most {MAX_SLOTS} (fewer or narrower "
                "hidden layers, or a smaller K)"]
    return []


RULES = (_data_rules, _sample_rules, _real_data_rules, _readout_rules, _network_rules, _asa_rules, _trt_rules,
         _exact_rules, memory_rule)
