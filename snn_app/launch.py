"""``snn-explorer``: serve the app on 127.0.0.1 with the flags of ``make run``; extra arguments go to streamlit.

    snn-explorer                      # http://127.0.0.1:8501
    snn-explorer --server.port 8600   # any `streamlit run` option; a later one overrides a default below

The app is the checkout's ``app.py`` (with its ``app_pages/``), so this works from an editable install
(``pip install -e .``, what ``make`` does); a wheel carries the packages only and has no app to serve.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"
# Local only, no browser to open (a server may be headless), no usage statistics sent anywhere.
FLAGS = ("--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false")


def command(extra: list[str]) -> list[str]:
    """The ``streamlit run`` command line: this interpreter, the app, the fixed flags, then ``extra``."""
    return [sys.executable, "-m", "streamlit", "run", str(APP), *FLAGS, *extra]


def main(argv: list[str] | None = None) -> int:
    if not APP.is_file():
        print(f"error: {APP} not found: snn-explorer serves a source checkout; install it with "
              "`pip install -e .` (or `make run`) from the repository", file=sys.stderr)
        return 2
    args = command(sys.argv[1:] if argv is None else argv)
    os.chdir(APP.parent)       # as `make run`: the app's run cache (.cache/runs) lands in the checkout
    os.execv(args[0], args)    # streamlit takes over this process: Ctrl-C and signals reach it directly


if __name__ == "__main__":
    sys.exit(main())
