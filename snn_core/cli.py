"""Command line: everything the app does, headless, with JSON output.

    python -m snn_core train --dataset digits --arch mlp --T 8 --epochs 10 --seed 0 --out results.json
    python -m snn_core compare --base "dataset=events-shape T=4" --variant "max-spikes=1" --seeds 10 --workers 2
    python -m snn_core sweep --base "T=4" --param max-spikes --values 1,2,3,5,0 --seeds 5 --out sweep.json
    python -m snn_core pareto --family asa-lambda,threshold --seeds 3 --trials 2 --out fronts.json   (cost fronts)
    python -m snn_core inspect recording.raw --sensor-size 640,480     (one event file: counts, sensor, time span)
    python -m snn_core train --epochs 3 --save-model run.safetensors   (also write the trained model)
    python -m snn_core export --model run.safetensors --format nir --out model.nir     (docs/NIR.md)
    python -m snn_core import --model model.nir --out run.safetensors
    python -m snn_core compare ... --executor ray --ray-address auto                  (docs/CLUSTER.md)
    python -m snn_core data fetch nmnist      (download N-MNIST where --dataset nmnist reads it; also dvs-gesture, shd)
    python -m snn_core --version              (the installed version, e.g. "snn-explorer 0.1.0"; also `snn --version`)

Every config field is an option (generated from the config specs); naming a dataset (``--dataset nmnist``,
or ``dataset=nmnist`` in ``--base``) also applies that dataset's defaults beneath the options given.
``compare`` and ``sweep`` take the same names without dashes as ``key=value`` words. A bad option or value, or settings
that cannot run together (``snn_core.config.check``, every problem listed), exit with code 2 and
one line naming the options and what is allowed, before anything trains; so does an output path that cannot be
written (``--out``, ``--save-model``: its folder must exist and be writable, and the path be a regular file or
new, never a folder, device or FIFO), a ``--config`` that is not a regular file, and counts out of their range
(``--threads`` 1..MAX_THREADS, ``--workers`` 1..MAX_WORKERS, ``--seeds`` 1..MAX_SEEDS, sweep ``--values``
1..MAX_VALUES, at most MAX_RUNS runs). Exit codes:

    0    done
    1    compare/sweep: some run failed (its error is in the JSON)
    2    usage error, or a failure before any result existed (one line on stderr)
    3    the result JSON was printed, but writing an output afterwards failed (``--out``, ``--save-model``,
         reproduce's report; one line on stderr per failed write)
    130  interrupted (Ctrl-C, SIGINT): compare/sweep print (and write to --out) the runs that finished, with
         ``"interrupted": true``, ``unfinished_runs`` and the ``unfinished`` list; other commands print one line
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.metadata
import json
import math
import os
import signal
import stat
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from . import settings
from .config.check import require_valid
from .config.run_config import (
    ALIASES,
    MAX_CONFIG_BYTES,
    RunConfig,
    allowed_text,
    cli_index,
    parse_assignments,
    parse_config_json,
    with_dataset_defaults,
)
from .neurons.units import decay_from_tau
from .runtime import MAX_THREADS, configure_threads

RUNS_FAILED = 1
USAGE_ERROR = 2
WRITE_FAILED = 3                # the result was printed; an output file (--out, --save-model) could not be written
INTERRUPTED = 130               # Ctrl-C (128 + SIGINT), as a shell reports it

MAX_WORKERS = 256               # worker processes, or a local Ray's CPUs
MAX_SEEDS = 1000                # seeds of one compare/sweep/reproduce
MAX_VALUES = 100                # values of one sweep
MAX_RUNS = 10_000               # runs of one compare/sweep (seeds x arms or values)
DISTRIBUTION = "snn-explorer"     # the name pip installs this project under (pyproject.toml [project] name)
OUTPUT_ALLOWED = "a regular file (new, or one to replace) in an existing, writable folder"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is a single line on stderr and exit code 2."""

    def error(self, message: str):
        raise SystemExit(_fail(f"{self.prog}: {message}"))


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return USAGE_ERROR


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    defaults = RunConfig().to_dict()
    for cli_name, (section, fld) in sorted(cli_index().items()):
        default = defaults[section][fld.name]
        shown = ",".join(map(str, default)) if isinstance(default, list) else str(default).lower()
        aliases = [f"--{alias}" for alias, target in ALIASES.items() if target == cli_name]     # e.g. --K
        text = f"{fld.metadata['help']} [{allowed_text(fld)}; default {shown}]"
        parser.add_argument(f"--{cli_name}", *aliases, metavar="V", dest=f"cfg:{cli_name}", default=None,
                            help=text.replace("%", "%%"))       # argparse %-formats help: "30%" would break --help
    parser.add_argument("--tau", type=float, default=None, metavar="STEPS",
                        help="membrane time constant in steps; sets --decay to exp(-1/tau)")
    parser.add_argument("--config", metavar="FILE", help="start from a config JSON (e.g. a result's 'config')")


def program_name() -> str:
    """How the user called us, for usage lines: ``snn`` (the entry point) or ``python -m snn_core``."""
    called = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m snn_core" if called in ("", "__main__.py", "-c") else called


def installed_version() -> str:
    """This install's version, as pip recorded it (``pip show snn-explorer``): pyproject's ``version`` is its one
    source. A source tree run without installing has no record, and says so instead of guessing a number."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed: run `pip install -e .` in the checkout to record a version)"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=program_name(), description="SNN Explorer engine, headless.")
    parser.add_argument("--version", action="version", version=f"{DISTRIBUTION} {installed_version()}",
                        help="print the installed version and exit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    train = commands.add_parser("train", help="train one configuration and print its results as JSON")
    _add_config_options(train)
    train.add_argument("--out", metavar="FILE", help="also write the JSON here")
    train.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where to run")
    train.add_argument("--threads", type=int, default=None, help="torch CPU threads (default $SNN_THREADS or 1)")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")
    train.add_argument("--save-model", metavar="FILE", help="also write the trained model (safetensors with its "
                                                            "config, as the app's model download)")
    _add_energy_options(train)
    compare = commands.add_parser("compare", help="train two configs on the same seeds; paired differences as JSON")
    compare.add_argument("--base", default="", metavar="'KEY=V ...'", help="base arm: train options without dashes")
    compare.add_argument("--variant", default="", metavar="'KEY=V ...'",
                         help="variant arm: changes on top of the base arm")
    compare.add_argument("--compute-match", type=float, default=None, metavar="K",
                         help="train the base arm K times the epochs (compute-matched control, e.g. 2 for TRT)")
    _add_batch_options(compare)
    sweep = commands.add_parser("sweep", help="train one config over the values of one option on the same seeds")
    sweep.add_argument("--base", default="", metavar="'KEY=V ...'", help="the config: train options without dashes")
    sweep.add_argument("--param", required=True, metavar="OPTION", help="train option to vary, e.g. max-spikes")
    sweep.add_argument("--values", required=True, metavar="V,V,...",
                       help="values, comma separated (semicolon separated for list options such as hidden)")
    _add_batch_options(sweep)
    reproduce = commands.add_parser("reproduce", help="regenerate the reproduction report (Markdown)")
    reproduce.add_argument("--out", default="docs/REPRODUCTION.md", metavar="FILE", help="where to write it")
    reproduce.add_argument("--seeds", type=int, default=5, help="seeds per measurement (default 5)")
    reproduce.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    reproduce.add_argument("--no-cache", action="store_true", help="retrain everything instead of reusing runs")
    reproduce.add_argument("--profile", default="full", choices=("full", "quick"),
                           help="full: the report's budget; quick: fewer tuning trials and seeds, for a look in "
                                "minutes (default full)")
    reproduce.add_argument("--sections", default=None, metavar="NAME,...",
                           help="only these sections, comma separated (default: all; e.g. ttfs)")
    _add_executor_options(reproduce)
    pareto = commands.add_parser("pareto", help="accuracy-vs-cost fronts of families of tuned operating points on "
                                                "paired seeds, and whether a method shifts its control's front")
    pareto.add_argument("--family", default=None, metavar="NAME,...",
                        help="families, comma separated (default: all; asa-lambda, asa-gate, threshold, ttfs-k, "
                             "ttfs-threshold)")
    pareto.add_argument("--trials", type=int, default=2, help="tuning trials per point, the same for every point "
                                                               "(default 2)")
    pareto.add_argument("--base", default="", metavar="'KEY=V ...'",
                        help="changes on top of every family's base (train options without dashes, e.g. epochs=1)")
    pareto.add_argument("--seeds", type=int, default=3, help="paired seeds (default 3)")
    pareto.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, first-seed + 1, ...")
    for flag, kind, text in (("--workers", int, "worker processes (1: run here)"),
                             ("--threads", int, "torch threads per worker (default $SNN_THREADS or 1)")):
        pareto.add_argument(flag, type=kind, default=1 if flag == "--workers" else None, help=text)
    pareto.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where to run")
    pareto.add_argument("--cache", metavar="DIR", default=None, help="result cache folder (default "
                                                                     "$SNN_RUN_CACHE_DIR, else .cache/runs)")
    pareto.add_argument("--no-cache", action="store_true", help="train every run, even if cached")
    pareto.add_argument("--out", metavar="FILE", help="also write the JSON here")
    pareto.add_argument("--quiet", action="store_true", help="no per-run progress on stderr")
    _add_energy_options(pareto)
    _add_executor_options(pareto)
    export = commands.add_parser("export", help="write a saved model (safetensors) as a NIR graph (docs/NIR.md)")
    export.add_argument("--model", required=True, metavar="FILE", help="the model file (train --save-model, or the "
                                                                       "app's model download)")
    export.add_argument("--format", default="nir", choices=("nir",), help="the format to write (default nir)")
    export.add_argument("--out", required=True, metavar="FILE", help="where to write it (e.g. model.nir)")
    export.add_argument("--dt", type=float, default=1e-4,
                        help="the time step in the graph's time unit (default 1e-4 s: the step snnTorch's importer "
                             "fixes and SpikingJelly's defaults to; pass it to Norse's from_nir)")
    imports = commands.add_parser("import", help="read a NIR graph into a model file the app opens (docs/NIR.md)")
    imports.add_argument("--model", required=True, metavar="FILE", help="the .nir file")
    imports.add_argument("--out", required=True, metavar="FILE", help="where to write the model (safetensors)")
    imports.add_argument("--dt", type=float, default=None,
                         help="the graph's time step (default: its metadata's, else 1)")
    imports.add_argument("--config", metavar="FILE", help="a graph from elsewhere: the run config to complete it "
                                                          "(dataset, T, ...; default: the defaults)")
    imports.add_argument("--assume-reset", choices=("hard", "subtract"), default=None,
                         help="how the graph's neurons reset where it does not say (NIR has no field for it): hard = "
                              "to v_reset, subtract = v - v_threshold; default: as each node's metadata says, else "
                              "hard, with a note")
    inspect = commands.add_parser("inspect", help="read one event file (.bin .raw .dat .aedat4 .npy .npz .h5) and "
                                                  "print what it holds as JSON")
    inspect.add_argument("file", metavar="FILE", help="the event file")
    inspect.add_argument("--sensor-size", default=None, metavar="W,H",
                         help="sensor width,height (default: the file's header, else the events' extent)")
    inspect.add_argument("--sample", type=int, default=0, help="which sample of an SHD .h5 file (default 0)")
    data = commands.add_parser("data", help="get the real datasets")
    data_commands = data.add_subparsers(dest="data_command", metavar="fetch", required=True,
                                        parser_class=OneLineParser)
    fetch = data_commands.add_parser("fetch", help="download a real dataset (tonic's files, md5 checked; a stopped "
                                                   "download resumes) and print what it holds as JSON")
    fetch.add_argument("name", metavar="NAME", help="nmnist (train and test), dvs-gesture or shd")
    fetch.add_argument("--to", metavar="DIR", default=None,
                       help="the folder to put it in (default: $SNN_DATA_DIR/NAME, else the user cache's "
                            "snn-explorer/data/NAME, where --dataset NAME reads it with no --data-dir)")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    return parser


def _add_batch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="start from a config JSON (e.g. a result's 'config')")
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds, the same in every arm (default 10)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, first-seed + 1, ...")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1: run here)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per worker (default $SNN_THREADS or 1)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where to run")
    parser.add_argument("--cache", metavar="DIR", default=None,
                        help="result cache folder (default $SNN_RUN_CACHE_DIR, else .cache/runs)")
    parser.add_argument("--no-cache", action="store_true", help="train every run, even if cached")
    parser.add_argument("--out", metavar="FILE", help="also write the JSON here")
    parser.add_argument("--quiet", action="store_true", help="no per-run progress on stderr")
    _add_energy_options(parser)
    _add_executor_options(parser)


def _add_energy_options(parser: argparse.ArgumentParser) -> None:
    """The prices ``metrics.cost`` puts on an operation: they price the counted operations in the JSON, so they
    change no run (and no run cache entry)."""
    from .metrics.cost import EnergyModel

    parser.add_argument("--e-ac-pj", type=float, default=EnergyModel.e_ac_pj, metavar="PJ",
                        help="energy of one accumulate (a spike's synaptic operation), picojoules "
                             f"(default {EnergyModel.e_ac_pj}: 45 nm, Horowitz 2014)")
    parser.add_argument("--e-mac-pj", type=float, default=EnergyModel.e_mac_pj, metavar="PJ",
                        help="energy of one multiply-accumulate (dense operations, and the ANN it is compared "
                             f"with), picojoules (default {EnergyModel.e_mac_pj})")


def _energy(args: argparse.Namespace):
    """``--e-ac-pj`` and ``--e-mac-pj`` as an ``EnergyModel`` (ValueError naming the option when out of range)."""
    from .metrics.cost import EnergyModel
    try:
        return EnergyModel(args.e_ac_pj, args.e_mac_pj)
    except ValueError as problem:
        raise ValueError(f"--{str(problem).replace('_', '-')}") from None


def _add_executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--executor", default="local", choices=("local", "ray"),
                        help="where runs go: local = this machine's process pool (--workers); ray = one Ray task each")
    parser.add_argument("--ray-address", default=None, metavar="ADDR",
                        help="ray: the cluster to join (auto or HEAD:6379 on a cluster node, ray://HEAD:10001 from "
                             "elsewhere; docs/CLUSTER.md); default: start a local Ray with --workers CPUs")


def _workers(args: argparse.Namespace):
    """``--workers``, or the Ray executor that ``--executor ray`` names (``experiments.executors``)."""
    from .experiments.executors import executor_for
    return executor_for(args.executor, args.workers, getattr(args, "threads", None), args.ray_address)


def _start_config(args: argparse.Namespace) -> RunConfig:
    """The --config file's config, or the defaults. It must be a regular file: it is opened without blocking and
    checked before anything is read, so a FIFO (which would wait for a writer), a device or a folder fails at once;
    at most ``MAX_CONFIG_BYTES`` + 1 bytes are read, so a huge file fails at once instead of filling the memory."""
    if not args.config:
        return RunConfig()
    what = f"--config {args.config}"
    try:
        data = read_regular_file(args.config, MAX_CONFIG_BYTES + 1)
    except OSError as problem:
        raise OSError(f"{what}: cannot read it ({problem.strerror or problem}); allowed: a config JSON file") from None
    except ValueError as problem:
        raise ValueError(f"{what}: {problem}; allowed: a config JSON file (a regular file)") from None
    try:
        return RunConfig.from_dict(parse_config_json(data, what))
    except ValueError as problem:
        raise ValueError(problem if str(problem).startswith(what) else f"{what}: {problem}") from None


def _file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(path: str, limit: int) -> bytes:
    """Up to ``limit`` bytes of the regular file ``path``; ValueError naming what it is when it is not one (checked
    on the open file, opened with O_NONBLOCK: a FIFO never blocks, nothing can be swapped in between), OSError when
    it cannot be read."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"it is {_file_kind(mode)}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return handle.read(limit)


def check_output(path: str | None, option: str) -> None:
    """Before anything runs: ``path`` (an output option's value; None: not given) can be written. ValueError, one line
    naming the option and what is allowed, when its folder is missing or not writable, or the path is a folder,
    device, FIFO or anything else but a regular file. (A file that fills a disk can still fail later: the caller
    prints the result first, so no finished run is lost.)"""
    if path is None:
        return
    problem = None
    if not path.strip():
        problem = "is empty"
    else:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            mode = None
        except OSError as error:
            mode, problem = None, f"cannot be checked ({error.strerror or error})"
        folder = os.path.dirname(os.path.realpath(path)) or "."
        if problem is not None:
            pass
        elif mode is not None and not stat.S_ISREG(mode):
            problem = f"is {_file_kind(mode)}"
        elif not os.path.isdir(folder):
            problem = f"is in a folder that does not exist ({folder})"
        elif not os.access(folder, os.W_OK | os.X_OK):
            problem = f"is in a folder that is not writable ({folder})"
        elif mode is not None and not os.access(path, os.W_OK):
            problem = "is a file that is not writable"
    if problem is not None:
        raise ValueError(f"{option} {path} {problem}; allowed: {OUTPUT_ALLOWED}")


def check_outputs(*pairs: tuple[str | None, str]) -> None:
    """``check_output`` for each (path, option), and no two options naming the same file."""
    seen: dict[str, str] = {}
    for path, option in pairs:
        check_output(path, option)
        if path is not None:
            real = os.path.realpath(path)
            if real in seen:
                raise ValueError(f"{seen[real]} and {option} both name {path}; allowed: a different file for each")
            seen[real] = option


def write_output(path: str, data: bytes, option: str) -> None:
    """Write ``data`` to ``path`` through a temporary file in its folder, renamed into place: a write that fails
    (a full disk) leaves the old file as it was and no partial file. OSError, one line naming ``option``."""
    target = os.path.realpath(path)
    try:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        handle, partial = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".partial",
                                           dir=os.path.dirname(target) or ".")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.chmod(partial, mode)
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
    except OSError as problem:
        raise OSError(f"{option} {path}: cannot write it ({problem.strerror or problem})") from None


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def check_count(option: str, value: int, low: int, high: int) -> int:
    """``value`` when ``low <= value <= high``, else ValueError naming ``option`` and the range."""
    if not low <= value <= high:
        raise ValueError(f"{option} {value} is not valid; allowed: an integer {low}..{high}")
    return value


def _check_threads(args: argparse.Namespace) -> None:
    if getattr(args, "threads", None) is not None:
        check_count("--threads", args.threads, 1, MAX_THREADS)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The run config: --config file (or defaults), then every option given on the command line."""
    base = _start_config(args)
    overrides = {key[4:]: value for key, value in vars(args).items() if key.startswith("cfg:") and value is not None}
    if args.tau is not None:
        if not (math.isfinite(args.tau) and args.tau > 0):
            raise ValueError(f"tau={args.tau} is not valid; allowed: a positive number of steps")
        overrides["decay"] = decay_from_tau(args.tau)
    return base.with_values(with_dataset_defaults(overrides))


def _train(args: argparse.Namespace) -> int:
    from .data.real import framing_progress
    from .experiments.run import train_run
    from .results.json_tree import valid_json  # torch-heavy imports only once the arguments are valid

    check_outputs((args.out, "--out"), (args.save_model, "--save-model"))
    _check_threads(args)
    energy = _energy(args)
    cfg = config_from_args(args)
    require_valid(cfg)
    configure_threads(args.threads)
    save_failed: list[str] = []

    def report(record) -> None:
        if not args.quiet:
            validation = "" if record.validation_accuracy is None else \
                f", validation accuracy {record.validation_accuracy:.3f}"
            print(f"epoch {record.epoch}: test accuracy {record.test_accuracy:.3f}{validation}, "
                  f"NASFR {record.nasfr:.3f}, {record.train_seconds:.1f} s", file=sys.stderr)

    def framing(done: int, total: int, label: str) -> None:       # a real folder framed for the first time
        if not args.quiet:
            print(f"{label}: {done}/{total} recordings", file=sys.stderr)

    def save(trainer) -> None:      # a model that cannot be saved must not lose the run: reported after the JSON
        from .checkpoint import model_to_bytes
        try:
            data = model_to_bytes(trainer.model, cfg, trainer.dataset.frame_shape, trainer.dataset.n_classes)
            write_output(args.save_model, data, "--save-model")
        except Exception as problem:        # noqa: BLE001 - whatever it was, the result is still printed
            message = _first_line(problem)
            save_failed.append(message if message.startswith("--save-model") else
                               f"--save-model {args.save_model}: cannot write it ({type(problem).__name__}: "
                               f"{message})")

    with framing_progress(framing):
        keep = {"on_trained": save} if args.save_model else {}
        result = train_run(cfg, device=args.device, on_epoch=report, **keep)
    code = _print_and_write(valid_json(result.priced(energy).to_json(), indent=2), args.out)
    for message in save_failed:
        print(f"error: {message}; the result was printed above", file=sys.stderr)
    return WRITE_FAILED if save_failed else code


def _print_and_write(text: str, out: str | None) -> int:
    """Print the JSON, then write it to ``out``: a path that cannot be written must not lose a finished run, so
    its error (one line on stderr) comes after the JSON is on stdout. Returns 0, or ``WRITE_FAILED``."""
    print(text, flush=True)
    if out:
        try:
            write_output(out, (text + "\n").encode(), "--out")
        except OSError as problem:
            print(f"error: {_first_line(problem)}; the JSON was printed above", file=sys.stderr)
            return WRITE_FAILED
    return 0


def _with(cfg: RunConfig, text: str, option: str) -> RunConfig:
    try:
        return cfg.with_values(with_dataset_defaults(parse_assignments(text)))
    except ValueError as problem:
        raise ValueError(f"{option}: {problem}") from None


def _check_batch_options(args: argparse.Namespace) -> None:
    """What ``compare`` and ``sweep`` check before reading any config: the output path and the counts."""
    check_outputs((args.out, "--out"))
    check_count("--seeds", args.seeds, 1, MAX_SEEDS)
    check_count("--workers", args.workers, 1, MAX_WORKERS)
    _check_threads(args)
    _energy(args)


def _batch_setup(args: argparse.Namespace) -> dict:
    """Seeds, workers, cache and progress printer shared by ``compare`` and ``sweep``."""
    from .experiments.batch import RunCache, default_cache_dir

    _check_batch_options(args)
    configure_threads(args.threads)

    def report(done: int, total: int, slot) -> None:
        if not args.quiet:
            outcome = slot.error or f"test accuracy {slot.metrics.test_accuracy:.3f}"
            print(f"run {done}/{total} (seed {slot.seed}): {outcome}{' (cached)' if slot.cached else ''}",
                  file=sys.stderr)

    cache = None if args.no_cache else RunCache(args.cache or default_cache_dir())
    return {"workers": _workers(args),
            "threads": args.threads, "device": args.device, "cache": cache, "progress": report}


def _compare(args: argparse.Namespace) -> int:
    from .experiments.compare import compare_configs, compare_result, compute_matched

    _check_batch_options(args)
    base = _with(_start_config(args), args.base, "--base")
    variant = _with(base, args.variant, "--variant")
    if args.compute_match is not None:
        base = compute_matched(base, args.compute_match)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    configs = compare_configs(base, variant, seeds)
    _check_runs(len(configs), f"--seeds {args.seeds} x 2 arms")
    slots, interrupted = _priced(args, *run_interruptibly(configs, _batch_setup(args)))
    unfinished = [{"seed": seeds[i // 2], "arm": ("base", "variant")[i % 2]} for i, slot in enumerate(slots)
                  if slot is None]
    return _emit(compare_result(base, variant, seeds, slots), args.out, interrupted, unfinished)


def _sweep(args: argparse.Namespace) -> int:
    from .experiments.compare import sweep_configs, sweep_result

    _check_batch_options(args)
    cfg = _with(_start_config(args), args.base, "--base")
    values = args.values.split(";" if ";" in args.values else ",")
    if len(values) > MAX_VALUES:
        raise ValueError(f"--values has {len(values):,} values; allowed: 1..{MAX_VALUES} values")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    _check_runs(len(values) * len(seeds), f"{len(values)} values x --seeds {args.seeds}")
    configs = sweep_configs(cfg, args.param, values, seeds)
    slots, interrupted = _priced(args, *run_interruptibly(configs, _batch_setup(args)))
    unfinished = [{"seed": seeds[i % len(seeds)], "value": values[i // len(seeds)]} for i, slot in enumerate(slots)
                  if slot is None]
    return _emit(sweep_result(cfg, args.param, seeds, configs, slots), args.out, interrupted, unfinished)


def _priced(args: argparse.Namespace, slots: list, interrupted: bool) -> tuple[list, bool]:
    """The slots with their operation counts priced at ``--e-ac-pj``/``--e-mac-pj`` (None stays None)."""
    energy = _energy(args)
    return [None if slot is None else slot.priced(energy) for slot in slots], interrupted


def _pareto(args: argparse.Namespace) -> int:
    """``pareto``: plan (every point checked), tune, run on the paired seeds, print the study's JSON; exit 1 when a
    run failed."""
    from .experiments.pareto import FAMILIES, plan_pareto, run_pareto
    from .results.json_tree import valid_json

    _check_batch_options(args)
    check_count("--trials", args.trials, 1, MAX_VALUES)
    names = list(FAMILIES) if args.family is None else [name.strip() for name in args.family.split(",")]
    try:
        overrides = parse_assignments(args.base)
        RunConfig().with_values(overrides)                  # each name and value known before any family is built
    except ValueError as problem:
        raise ValueError(f"--base: {problem}") from None
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    plan = plan_pareto(names, seeds, args.trials, overrides)
    _check_runs(len(plan.tuning.configs) + len(plan.points) * len(seeds), f"--family x --trials x --seeds {args.seeds}")
    study = run_pareto(plan, energy=_energy(args), **_batch_setup(args))
    written = _print_and_write(valid_json(study.to_json(), indent=2), args.out)
    if study.failed_runs:
        print(f"warning: {study.failed_runs} run(s) failed and are left out of the fronts", file=sys.stderr)
    return written or (RUNS_FAILED if study.failed_runs else 0)


def _check_runs(runs: int, what: str) -> None:
    if runs > MAX_RUNS:
        raise ValueError(f"{what} are {runs:,} runs; allowed: at most {MAX_RUNS:,} runs in one command")


def run_interruptibly(configs: list, setup: dict) -> tuple[list, bool]:
    """``batch.run_many`` that a Ctrl-C (SIGINT) ends cleanly: the slots of the runs that finished (None for the
    others) and whether it was interrupted. The first SIGINT stops the runs under way (worker processes are
    terminated; they ignore SIGINT themselves, ``executors.worker_setup``) and keeps what finished; a second one,
    while that stop is under way, exits at once with ``INTERRUPTED``. Also for a caller other than the CLI (the
    reliability benchmark): any thread may call it, but only the main thread can catch the signal."""
    from .experiments.batch import is_cancelled, run_many

    slots: list = [None] * len(configs)            # RunResult, or None for a run that did not finish

    def keep(index: int, slot) -> None:
        slots[index] = None if is_cancelled(slot) else slot

    interrupted = False
    with _InterruptOnce():
        try:
            run_many(configs, on_slot=keep, **setup)
        except KeyboardInterrupt:
            interrupted = True
    return slots, interrupted


class _InterruptOnce:
    """While inside: the first SIGINT raises KeyboardInterrupt (as Python's own handler does), a second one exits at
    once (the first is still stopping the runs). Only in the main thread; elsewhere nothing changes."""

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._first)
        return self

    def _first(self, signum, frame):
        signal.signal(signal.SIGINT, self._again)
        print("interrupted: stopping the runs under way and printing the finished ones (Ctrl-C again: exit now)",
              file=sys.stderr, flush=True)
        raise KeyboardInterrupt

    @staticmethod
    def _again(signum, frame):
        print("error: interrupted twice; stopped at once, the finished runs are in the run cache", file=sys.stderr,
              flush=True)
        os._exit(INTERRUPTED)

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


def _emit(result, out: str | None, interrupted: bool = False, unfinished: list | None = None) -> int:
    """Print (and write) the JSON of a ``Comparison`` or ``Sweep`` (NaN as null, ``valid_json``). Exit code
    ``INTERRUPTED`` after a Ctrl-C (the JSON then has ``"interrupted": true`` and the ``unfinished`` runs), else
    ``WRITE_FAILED`` when --out could not be written, else 1 when a run failed, else 0."""
    from .results.json_tree import valid_json

    if interrupted:
        result = dataclasses.replace(result, unfinished=tuple(unfinished or []))
    written = _print_and_write(valid_json(result.to_json(), indent=2), out)
    if result.failed_runs:
        print(f"warning: {result.failed_runs} run(s) failed; see 'error' in the JSON", file=sys.stderr)
    if interrupted:
        print(f"error: interrupted; {result.unfinished_runs} run(s) did not finish (the JSON holds the finished "
              "ones)", file=sys.stderr)
        return INTERRUPTED
    return written or (RUNS_FAILED if result.failed_runs else 0)


def _reproduce(args: argparse.Namespace) -> int:
    from .experiments.batch import RunCache, default_cache_dir
    from .report.budget import BUDGETS
    from .report.reproduce import report

    check_outputs((args.out, "--out"))
    check_count("--seeds", args.seeds, 2, MAX_SEEDS)
    check_count("--workers", args.workers, 1, MAX_WORKERS)
    cache = None if args.no_cache else RunCache(default_cache_dir())
    sections = None if args.sections is None else [name.strip() for name in args.sections.split(",") if name.strip()]
    text = report(args.seeds, _workers(args), cache, log=lambda message: print(message, file=sys.stderr),
                  sections=sections, budget=BUDGETS[args.profile])
    try:
        write_output(args.out, text.encode(), "--out")
    except OSError as problem:          # the report is not lost: printed instead of its path
        print(text)
        print(f"error: {_first_line(problem)}; the report was printed above", file=sys.stderr)
        return WRITE_FAILED
    print(args.out)
    return 0


def _export(args: argparse.Namespace) -> int:
    from .interop.nir_files import export_file
    from .interop.nir_graph import ReaderWarning
    check_outputs((args.out, "--out"))
    with _notes(ReaderWarning):
        print(json.dumps(export_file(args.model, args.out, args.dt), indent=2))
    return 0


def _import(args: argparse.Namespace) -> int:
    from .interop.nir_files import import_file
    from .interop.nir_import import ResetAssumed
    check_outputs((args.out, "--out"))
    base = _start_config(args) if args.config else None
    with _notes(ResetAssumed):
        print(json.dumps(import_file(args.model, args.out, base, args.dt, args.assume_reset), indent=2))
    return 0


@contextlib.contextmanager
def _notes(category: type[Warning]) -> Iterator[None]:
    """The block's warnings of ``category`` (what another library would run otherwise, an assumption the import
    made) printed to stderr as one ``note:`` line each, after the block, instead of Python's warning format."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category)
        yield
    for warning in caught:
        if issubclass(warning.category, category):
            print(f"note: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def _inspect(args: argparse.Namespace) -> int:
    from .data.readers import describe, read_events

    sensor_size = None
    if args.sensor_size is not None:
        parts = args.sensor_size.split(",")
        if len(parts) != 2 or not all(part.strip().isdigit() and int(part) > 0 for part in parts):
            raise ValueError(f"--sensor-size {args.sensor_size!r} is not valid; allowed: W,H, two positive integers "
                             "(e.g. 640,480)")
        sensor_size = (int(parts[0]), int(parts[1]))
    print(json.dumps(describe(read_events(args.file, sensor_size=sensor_size, sample=args.sample)), indent=2))
    return 0


def _data(args: argparse.Namespace) -> int:
    """``data fetch NAME [--to DIR]``: the dataset downloaded (``snn_core.data.fetch``), a tqdm bar on stderr."""
    from .data.fetch import fetch_dataset, fetched

    bars: dict[str, Any] = {}      # label -> its tqdm bar (tqdm ships no types)

    def progress(done: int, total: int, label: str) -> None:
        if args.quiet:
            return
        if label not in bars:
            from tqdm.auto import tqdm
            for bar in bars.values():
                bar.close()
            bars.clear()
            bars[label] = tqdm(total=total or None, desc=label, unit="B", unit_scale=True, unit_divisor=1024,
                               file=sys.stderr, dynamic_ncols=True)
        bar = bars[label]
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        folder = fetch_dataset(args.name, args.to, progress)
    finally:
        for bar in bars.values():
            bar.close()
    info = fetched(folder, args.name) or {}
    print(json.dumps({"dataset": args.name, "folder": str(folder), "files": info.get("files"),
                      "bytes": info.get("bytes")}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every failure is one line on stderr and exit code 2: a bad value or file (ValueError,
    OSError), memory running out (MemoryError, or torch's RuntimeError saying so), or anything else (named by its type;
    ``SNN_TRACEBACK=1`` re-raises it, for a developer who needs the traceback). Ctrl-C is one line and exit code 130
    (``compare``/``sweep`` first print the runs that finished: ``run_interruptibly``). The ``SNN_*`` environment
    settings are checked first (``settings.check_all``): a bad one is one line and exit 2 too, before anything runs,
    not an error halfway through a run that reads it late."""
    args = build_parser().parse_args(argv)
    problems = settings.check_all()
    if problems:
        return _fail("; ".join(problems))
    try:
        return {"train": _train, "compare": _compare, "sweep": _sweep, "pareto": _pareto, "reproduce": _reproduce,
                "inspect": _inspect, "export": _export, "import": _import, "data": _data}[args.command](args)
    except KeyboardInterrupt:
        print(f"error: interrupted (Ctrl-C) during {args.command}; nothing was written", file=sys.stderr)
        return INTERRUPTED
    except (ValueError, OSError) as problem:
        return _fail(_first_line(problem))
    except Exception as problem:                # the last resort: still one line, never a traceback
        if settings.read(settings.TRACEBACK):
            raise
        if isinstance(problem, MemoryError) or "memory" in str(problem).lower():    # torch's OOM is a RuntimeError
            return _fail(f"out of memory ({type(problem).__name__}: {_first_line(problem)}); allowed: smaller "
                         "settings, e.g. lower --batch-size, --T, --hidden, --channels or --train-samples")
        return _fail(f"unexpected {type(problem).__name__}: {_first_line(problem)} (set SNN_TRACEBACK=1 for the "
                     "traceback, and please report it)")


def _first_line(problem: BaseException) -> str:
    """The first line of an exception's message, cut to 500 characters (one line on stderr, whatever it held)."""
    lines = str(problem).splitlines()
    text = lines[0] if lines else type(problem).__name__
    return text if len(text) <= 500 else text[:499] + "…"
