"""The run config in the page URL: one loop writes it, one loop reads it back (TF Playground's idea).

Only fields that differ from the defaults are written, by their CLI names, so a shared link is
short and readable (``?dataset=events-shape&arch=conv&T=4``). Reading never fails: a value that
is unknown or invalid is dropped, the default is kept, and a notice says what happened. The valid
values are applied together, so a rule across fields (``snn_core.config.check``) is judged on the
whole link, never on a half-applied one; each problem it finds gets a notice too.
"""
from __future__ import annotations

from collections.abc import Mapping

from snn_core.config.check import check
from snn_core.config.run_config import ALIASES, RunConfig, cli_index


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def encode(cfg: RunConfig) -> dict[str, str]:
    """Query parameters for ``cfg``: CLI name -> text, non-default fields only."""
    default = RunConfig()
    params = {}
    for cli, (section, fld) in sorted(cli_index().items()):
        value = getattr(getattr(cfg, section), fld.name)
        if value != getattr(getattr(default, section), fld.name):
            params[cli] = _text(value)
    return params


def decode(params: Mapping[str, str | list[str]]) -> tuple[RunConfig, list[str]]:
    """The config a URL describes, with one notice per value that could not be used and one per
    problem of the settings together (the config is then the link's, for the sidebar to show, and
    ``check`` of it is not empty)."""
    values, notices = {}, []
    index = cli_index()
    for key, raw in params.items():
        value = raw[-1] if isinstance(raw, list) else raw
        if key not in index and key not in ALIASES:       # an alias such as K works as in the CLI
            notices.append(f"Ignored unknown link setting '{key}'.")
            continue
        try:
            RunConfig().with_values({key: value})          # the value on its own
        except ValueError as problem:
            notices.append(f"Link setting {key}={value!r} is not valid, so the default is used ({problem}).")
            continue
        values[key] = value
    cfg = RunConfig().with_values(values)
    notices += [f"The link's settings cannot run together: {problem}" for problem in check(cfg)]
    return cfg, notices
