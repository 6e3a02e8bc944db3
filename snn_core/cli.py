"""Command line: everything the app does, headless, with JSON output.

    python -m snn_core train --dataset digits --arch mlp --T 8 --epochs 10 --seed 0 --out results.json

Every config field is an option (generated from the config specs). A bad option or value
exits with code 2 and one line naming the option and what is allowed.
"""
from __future__ import annotations

import argparse
import json
import math
import sys

from .config import RunConfig, allowed_text, cli_index, decay_from_tau
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
        parser.add_argument(f"--{cli_name}", metavar="V", dest=f"cfg:{cli_name}", default=None,
                            help=f"{fld.metadata['help']} [{allowed_text(fld)}; default {shown}]")
    parser.add_argument("--tau", type=float, default=None, metavar="STEPS",
                        help="membrane time constant in steps; sets --decay to exp(-1/tau)")
    parser.add_argument("--config", metavar="FILE", help="start from a config JSON (e.g. a result's 'config')")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m snn_core", description="SNN Explorer engine, headless.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    train = commands.add_parser("train", help="train one configuration and print its results as JSON")
    _add_config_options(train)
    train.add_argument("--out", metavar="FILE", help="also write the JSON here")
    train.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where to run")
    train.add_argument("--threads", type=int, default=None, help="torch CPU threads (default $SNN_THREADS or 1)")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")
    return parser


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The run config: --config file (or defaults), then every option given on the command line."""
    base = RunConfig()
    if args.config:
        with open(args.config) as handle:
            base = RunConfig.from_dict(json.load(handle))
    overrides = {key[4:]: value for key, value in vars(args).items() if key.startswith("cfg:") and value is not None}
    if args.tau is not None:
        if not (math.isfinite(args.tau) and args.tau > 0):
            raise ValueError(f"tau={args.tau} is not valid; allowed: a positive number of steps")
        overrides["decay"] = decay_from_tau(args.tau)
    return base.with_values(overrides)


def _train(args: argparse.Namespace) -> int:
    from .run import train_run   # torch-heavy imports only once the arguments are valid

    cfg = config_from_args(args)
    configure_threads(args.threads)

    def report(record) -> None:
        if not args.quiet:
            print(f"epoch {record.epoch}: test accuracy {record.test_accuracy:.3f}, "
                  f"NASFR {record.nasfr:.3f}, {record.train_seconds:.1f} s", file=sys.stderr)

    result = train_run(cfg, device=args.device, on_epoch=report)
    text = json.dumps(result, indent=2)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"train": _train}[args.command](args)
    except (ValueError, OSError) as problem:
        return _fail(str(problem).splitlines()[0])
