"""``python -m snn_core``: the headless command line (see ``snn_core.cli``)."""
import sys

from .cli import main

sys.exit(main())
