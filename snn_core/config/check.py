"""Can this config run? Every rule that spans fields, in one place, each problem said with its way out.

A ``RunConfig`` checks each field on its own (type, range, choices); the rules here judge how the fields combine,
using what the dataset is (``snn_core.data.DATASETS``, without loading it) and the engines' limits; each method's
own rules come from its record (``Method.rules``). Each message names the fields by section and CLI name, the
values, and what is allowed. Every entry point (the trainer, the CLI, compare and sweep, the URL decoder, the
sidebar) asks ``check`` before anything trains."""
from __future__ import annotations

from ..data import DATASETS, MIN_SAMPLES, DatasetInfo
from ..methods.catalogue import METHODS
from .budget import memory_rule
from .run_config import RunConfig

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


def _network_rules(cfg: RunConfig, info: DatasetInfo) -> list[str]:
    """The discrete network's shape (``snn_core.network.discrete``) against the dataset's frames."""
    model = cfg.model
    problems: list[str] = []
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


def _slot_rules(cfg: RunConfig, info: DatasetInfo) -> list[str]:
    """A slot of the network (the conv layers' current gate, the neurons' dynamics) takes one method's part."""
    problems = []
    for slot, part in (("current gate", "gates"), ("neuron dynamics", "dynamics")):
        filling = [method.name for method in METHODS if getattr(method, part) and getattr(method, part)(cfg)]
        if len(filling) > 1:
            problems.append(f"{' and '.join(filling)} both fill the {slot} of the same layers; allowed: one of them")
    return problems


RULES = (_data_rules, _sample_rules, _real_data_rules, _network_rules, *(method.rules for method in METHODS),
         _slot_rules, memory_rule)
