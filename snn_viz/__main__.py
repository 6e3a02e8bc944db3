"""``python -m snn_viz export RUN.json --out figures.html``: a run's figures as one standalone HTML page.

RUN.json is what ``python -m snn_core train --out RUN.json`` (or the app's "run (JSON)" download) wrote.
Errors exit with code 2 and one line, like the engine's CLI.
"""
import argparse
import json
import sys

from snn_core.results import RunResult

from . import run_figures
from .export import figures_to_html


def export(run_path: str, out_path: str) -> None:
    """Write the figures of the run in ``run_path`` (any layout ``RunResult.from_json`` reads) to ``out_path``."""
    with open(run_path) as handle:
        tree = json.load(handle)
    try:
        run = RunResult.from_json(tree, where="the file")
    except ValueError as problem:
        raise ValueError(f"{run_path} is not a run JSON (from snn_core train): {problem}") from None
    cfg, history = run.config, list(run.history)
    figures = [run_figures.loss_curves([], history), run_figures.training_curves(history),
               run_figures.activity_curves(history)]
    title = f"SNN Explorer run: {cfg.data.dataset}, {cfg.model.arch}, T={cfg.data.time_steps}, seed {cfg.training.seed}"
    with open(out_path, "w") as handle:
        handle.write(figures_to_html(figures, title))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snn_viz", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("export", help="write a run's figures as standalone HTML")
    command.add_argument("run", help="run JSON written by `python -m snn_core train --out`")
    command.add_argument("--out", default="figures.html", help="HTML file to write")
    args = parser.parse_args(argv)
    try:
        export(args.run, args.out)
    except (OSError, ValueError, TypeError, json.JSONDecodeError) as problem:
        print(f"error: {str(problem).splitlines()[0]}", file=sys.stderr)
        return 2
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
