"""Command line: everything the app does, headless, with JSON output.

    python -m snn_core train --dataset digits --arch mlp --T 8 --epochs 10 --seed 0 --out results.json
    python -m snn_core compare --base "dataset=events-shape T=4" --variant "max-spikes=1" --seeds 10 --workers 2
    python -m snn_core sweep --base "T=4" --param max-spikes --values 1,2,3,5,0 --seeds 5 --out sweep.json
    python -m snn_core inspect recording.raw --sensor-size 640,480     (one event file: counts, sensor, time span)
    python -m snn_core train --epochs 3 --save-model run.safetensors   (also write the trained model)
    python -m snn_core export --model run.safetensors --format nir --out model.nir     (docs/NIR.md)
    python -m snn_core import --model model.nir --out run.safetensors
    python -m snn_core compare ... --executor ray --ray-address auto                  (docs/CLUSTER.md)
    python -m snn_core data fetch nmnist      (download N-MNIST where --dataset nmnist reads it; also dvs-gesture, shd)

Every config field is an option (generated from the config specs); naming a dataset (``--dataset nmnist``,
or ``dataset=nmnist`` in ``--base``) also applies that dataset's defaults beneath the options given.
``compare`` and ``sweep`` take the same names without dashes as ``key=value`` words. A bad option or value, or settings
that cannot run together (``snn_core.config.check``, every problem listed), exit with code 2 and
one line naming the options and what is allowed, before anything trains. ``compare`` and ``sweep`` exit 1
when some run failed (its error is in the JSON), else 0.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

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
from .runtime import configure_threads

USAGE_ERROR = 2


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
        parser.add_argument(f"--{cli_name}", *aliases, metavar="V", dest=f"cfg:{cli_name}", default=None,
                            help=f"{fld.metadata['help']} [{allowed_text(fld)}; default {shown}]")
    parser.add_argument("--tau", type=float, default=None, metavar="STEPS",
                        help="membrane time constant in steps; sets --decay to exp(-1/tau)")
    parser.add_argument("--config", metavar="FILE", help="start from a config JSON (e.g. a result's 'config')")


def program_name() -> str:
    """How the user called us, for usage lines: ``snn`` (the entry point) or ``python -m snn_core``."""
    called = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m snn_core" if called in ("", "__main__.py", "-c") else called


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=program_name(), description="SNN Explorer engine, headless.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    train = commands.add_parser("train", help="train one configuration and print its results as JSON")
    _add_config_options(train)
    train.add_argument("--out", metavar="FILE", help="also write the JSON here")
    train.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where to run")
    train.add_argument("--threads", type=int, default=None, help="torch CPU threads (default $SNN_THREADS or 1)")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")
    train.add_argument("--save-model", metavar="FILE", help="also write the trained model (safetensors with its "
                                                            "config, as the app's model download)")
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
    reproduce.add_argument("--sections", default=None, metavar="NAME,...",
                           help="only these sections, comma separated (default: all; e.g. ttfs)")
    _add_executor_options(reproduce)
    export = commands.add_parser("export", help="write a saved model (safetensors) as a NIR graph (docs/NIR.md)")
    export.add_argument("--model", required=True, metavar="FILE", help="the model file (train --save-model, or the "
                                                                       "app's model download)")
    export.add_argument("--format", default="nir", choices=("nir",), help="the format to write (default nir)")
    export.add_argument("--out", required=True, metavar="FILE", help="where to write it (e.g. model.nir)")
    export.add_argument("--dt", type=float, default=1.0, help="the time step in the graph's time unit (default 1: "
                                                              "time in steps; snnTorch's importer assumes 1e-4)")
    imports = commands.add_parser("import", help="read a NIR graph into a model file the app opens (docs/NIR.md)")
    imports.add_argument("--model", required=True, metavar="FILE", help="the .nir file")
    imports.add_argument("--out", required=True, metavar="FILE", help="where to write the model (safetensors)")
    imports.add_argument("--dt", type=float, default=None,
                         help="the graph's time step (default: its metadata's, else 1)")
    imports.add_argument("--config", metavar="FILE", help="a graph from elsewhere: the run config to complete it "
                                                          "(dataset, T, ...; default: the defaults)")
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
    parser.add_argument("--cache", metavar="DIR", default=None, help="result cache folder (default .cache/runs)")
    parser.add_argument("--no-cache", action="store_true", help="train every run, even if cached")
    parser.add_argument("--out", metavar="FILE", help="also write the JSON here")
    parser.add_argument("--quiet", action="store_true", help="no per-run progress on stderr")
    _add_executor_options(parser)


def _add_executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--executor", default="local", choices=("local", "ray"),
                        help="where runs go: local = this machine's process pool (--workers); ray = one Ray task each")
    parser.add_argument("--ray-address", default=None, metavar="ADDR",
                        help="ray: the cluster to join (e.g. auto, ray://head:10001); default: start a local Ray "
                             "with --workers CPUs")


def _workers(args: argparse.Namespace):
    """``--workers``, or the Ray executor that ``--executor ray`` names (``experiments.executors``)."""
    from .experiments.executors import executor_for
    return executor_for(args.executor, args.workers, getattr(args, "threads", None), args.ray_address)


def _start_config(args: argparse.Namespace) -> RunConfig:
    """The --config file's config, or the defaults. At most ``MAX_CONFIG_BYTES`` + 1 bytes are read, so a huge
    file or a device such as /dev/zero fails at once instead of filling the memory."""
    if not args.config:
        return RunConfig()
    what = f"--config {args.config}"
    try:
        with open(args.config, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as problem:
        raise OSError(f"{what}: cannot read it ({problem.strerror or problem}); allowed: a config JSON file") from None
    try:
        return RunConfig.from_dict(parse_config_json(data, what))
    except ValueError as problem:
        raise ValueError(problem if str(problem).startswith(what) else f"{what}: {problem}") from None


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
    from .experiments.batch import valid_json
    from .experiments.run import train_run  # torch-heavy imports only once the arguments are valid

    cfg = config_from_args(args)
    require_valid(cfg)
    configure_threads(args.threads)

    def report(record) -> None:
        if not args.quiet:
            validation = "" if record.validation_accuracy is None else \
                f", validation accuracy {record.validation_accuracy:.3f}"
            print(f"epoch {record.epoch}: test accuracy {record.test_accuracy:.3f}{validation}, "
                  f"NASFR {record.nasfr:.3f}, {record.train_seconds:.1f} s", file=sys.stderr)

    def framing(done: int, total: int, label: str) -> None:       # a real folder framed for the first time
        if not args.quiet:
            print(f"{label}: {done}/{total} recordings", file=sys.stderr)

    def save(trainer) -> None:
        from .checkpoint import model_to_bytes
        data = model_to_bytes(trainer.model, cfg, trainer.dataset.frame_shape, trainer.dataset.n_classes)
        try:
            with open(args.save_model, "wb") as handle:
                handle.write(data)
        except OSError as problem:
            raise OSError(f"--save-model {args.save_model}: cannot write it ({problem.strerror or problem})") from None

    with framing_progress(framing):
        keep = {"on_trained": save} if args.save_model else {}
        result = train_run(cfg, device=args.device, on_epoch=report, **keep)
    _print_and_write(valid_json(result, indent=2), args.out)
    return 0


def _print_and_write(text: str, out: str | None) -> None:
    """Print the JSON, then write it to ``out``: a path that cannot be written must not lose a finished run,
    so its error (one line, exit 2, from ``main``) comes after the JSON is on stdout."""
    print(text, flush=True)
    if out:
        try:
            with open(out, "w") as handle:
                handle.write(text + "\n")
        except OSError as problem:
            raise OSError(f"--out {out}: cannot write the JSON ({problem.strerror or problem}); it was printed "
                          "above") from None


def _with(cfg: RunConfig, text: str, option: str) -> RunConfig:
    try:
        return cfg.with_values(with_dataset_defaults(parse_assignments(text)))
    except ValueError as problem:
        raise ValueError(f"{option}: {problem}") from None


def _batch_setup(args: argparse.Namespace) -> dict:
    """Seeds, workers, cache and progress printer shared by ``compare`` and ``sweep``."""
    from .experiments.batch import DEFAULT_CACHE_DIR, RunCache

    if args.seeds < 1:
        raise ValueError(f"--seeds {args.seeds} is not valid; allowed: a positive integer")
    if args.workers < 1:
        raise ValueError(f"--workers {args.workers} is not valid; allowed: a positive integer")
    configure_threads(args.threads)

    def report(done: int, total: int, slot: dict) -> None:
        if not args.quiet:
            seed = slot["config"]["training"]["seed"]
            outcome = slot["error"] or f"test accuracy {slot['metrics']['test_accuracy']:.3f}"
            print(f"run {done}/{total} (seed {seed}): {outcome}{' (cached)' if slot['cached'] else ''}",
                  file=sys.stderr)

    cache = None if args.no_cache else RunCache(args.cache or DEFAULT_CACHE_DIR)
    return {"seeds": range(args.first_seed, args.first_seed + args.seeds), "workers": _workers(args),
            "threads": args.threads, "device": args.device, "cache": cache, "progress": report}


def _compare(args: argparse.Namespace) -> int:
    from .experiments.compare import compare, compute_matched

    base = _with(_start_config(args), args.base, "--base")
    variant = _with(base, args.variant, "--variant")
    if args.compute_match is not None:
        base = compute_matched(base, args.compute_match)
    return _emit(compare(base, variant, **_batch_setup(args)), args.out)


def _sweep(args: argparse.Namespace) -> int:
    from .experiments.compare import sweep

    cfg = _with(_start_config(args), args.base, "--base")
    values = args.values.split(";" if ";" in args.values else ",")
    return _emit(sweep(cfg, args.param, values, **_batch_setup(args)), args.out)


def _emit(result: dict, out: str | None) -> int:
    """Print (and write) the JSON (NaN as null, ``batch.valid_json``); exit code 1 when a run failed, else 0."""
    from .experiments.batch import valid_json

    _print_and_write(valid_json(result, indent=2), out)
    if result["failed_runs"]:
        print(f"warning: {result['failed_runs']} run(s) failed; see 'error' in the JSON", file=sys.stderr)
    return 1 if result["failed_runs"] else 0


def _reproduce(args: argparse.Namespace) -> int:
    from .experiments.batch import DEFAULT_CACHE_DIR, RunCache
    from .report.reproduce import report

    if args.seeds < 2 or args.workers < 1:
        raise ValueError(f"--seeds {args.seeds} --workers {args.workers} are not valid; allowed: seeds >= 2, "
                         "workers >= 1")
    cache = None if args.no_cache else RunCache(DEFAULT_CACHE_DIR)
    sections = None if args.sections is None else [name.strip() for name in args.sections.split(",") if name.strip()]
    text = report(args.seeds, _workers(args), cache, log=lambda message: print(message, file=sys.stderr),
                  sections=sections)
    with open(args.out, "w") as handle:
        handle.write(text)
    print(args.out)
    return 0


def _export(args: argparse.Namespace) -> int:
    from .interop.nir_files import export_file
    print(json.dumps(export_file(args.model, args.out, args.dt), indent=2))
    return 0


def _import(args: argparse.Namespace) -> int:
    from .interop.nir_files import import_file
    base = _start_config(args) if args.config else None
    print(json.dumps(import_file(args.model, args.out, base, args.dt), indent=2))
    return 0


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

    bars = {}

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
    ``SNN_TRACEBACK=1`` re-raises it, for a developer who needs the traceback). Ctrl-C stays Python's."""
    args = build_parser().parse_args(argv)
    try:
        return {"train": _train, "compare": _compare, "sweep": _sweep, "reproduce": _reproduce,
                "inspect": _inspect, "export": _export, "import": _import, "data": _data}[args.command](args)
    except (ValueError, OSError) as problem:
        return _fail(_first_line(problem))
    except Exception as problem:                # the last resort: still one line, never a traceback
        if os.environ.get("SNN_TRACEBACK"):
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
