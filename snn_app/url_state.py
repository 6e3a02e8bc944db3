"""The run config in the page URL: one loop writes it, one loop reads it back (TF Playground's idea).

Only fields that differ from the defaults are written, by their CLI names, so a shared link is
short and readable (``?dataset=events-shape&arch=conv&T=4``). Reading never fails: a value that
is unknown or invalid is dropped, the default is kept, and a notice says what happened. The valid
values are applied together, so a rule across fields (``snn_core.config.check``) is judged on the
whole link, never on a half-applied one; each problem it finds gets a notice too.

Two link parameters are the app's, not the run's: ``mode=class`` opens the sidebar in classroom (Basic) mode
(absent: Advanced), and ``challenge=<key>`` marks a guided challenge's link from Home (``snn_app.pages``), whose
settings are applied even in a session that is already open.
"""
from __future__ import annotations

from collections.abc import Mapping

from snn_core.config.check import check
from snn_core.config.run_config import ALIASES, RunConfig, cli_index

from .pages import CHALLENGES

MODE = "mode"                 # ?mode=class: the sidebar shows the classroom (Basic) settings
CLASSROOM = "class"
CHALLENGE = "challenge"       # ?challenge=<key>: a link from Home's guided challenges
APP_PARAMS = (MODE, CHALLENGE)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def encode(cfg: RunConfig, classroom: bool = False) -> dict[str, str]:
    """Query parameters for ``cfg``: CLI name -> text, non-default fields only (and ``mode=class`` in Basic)."""
    default = RunConfig()
    params = {MODE: CLASSROOM} if classroom else {}
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
        value = _last(raw)
        if key in APP_PARAMS:                             # the app's own (see ``app_settings``)
            continue
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


def _last(raw: str | list[str]) -> str:
    return raw[-1] if isinstance(raw, list) else raw


def app_settings(params: Mapping[str, str | list[str]]) -> tuple[bool, str | None, list[str]]:
    """The link's app parameters: (classroom mode?, the challenge's key or None, a notice per bad value)."""
    notices = []
    mode = _last(params.get(MODE, ""))
    if mode not in ("", CLASSROOM):
        notices.append(f"Link setting {MODE}={mode!r} is not valid, so the Advanced settings are shown; allowed: "
                       f"{MODE}={CLASSROOM} (classroom mode), or no {MODE} (Advanced).")
    key = _last(params.get(CHALLENGE, "")) or None
    known = [item.key for item in CHALLENGES]
    if key is not None and key not in known:
        notices.append(f"Link setting {CHALLENGE}={key!r} is not a challenge, so none is shown; allowed: "
                       f"{', '.join(known)}.")
        key = None
    return mode == CLASSROOM, key, notices


def challenge_params(key: str, classroom: bool = False) -> dict[str, str]:
    """The query parameters of a challenge's link: its settings (over the defaults), the mode, and its key."""
    item = next(c for c in CHALLENGES if c.key == key)
    return {**encode(RunConfig().with_values(dict(item.settings)), classroom), CHALLENGE: key}
